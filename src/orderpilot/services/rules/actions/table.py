"""The hub's action table: the built-in actions (one module each) and any others an
integration brings, looked up by id. Built once, in the composition root."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from orderpilot.domain.rules.actions import ActionType, SpecificCheck
from orderpilot.services.rules.actions import (
    customer_tag,
    dingtalk,
    email,
    hold,
    http_call,
    release,
    set_field,
    sms,
    table_lookup,
    tag,
    ticket,
    wecom,
)
from orderpilot.services.rules.actions.base import RuleAction

# In the order the builder offers them.
BUILT_IN: tuple[RuleAction, ...] = (
    hold.ACTION, release.ACTION, tag.ACTION, set_field.ACTION, sms.ACTION, http_call.ACTION,
    ticket.ACTION, customer_tag.ACTION, email.ACTION, dingtalk.ACTION, wecom.ACTION,
    table_lookup.ACTION)


class UnknownAction(KeyError):
    """No action with this id is in the table (a stored step of a removed integration)."""


class ActionTable:
    def __init__(self, extra: Iterable[RuleAction] = ()) -> None:
        by_id: dict[str, RuleAction] = {}
        for action in (*BUILT_IN, *extra):
            if action.id in by_id:
                raise ValueError(f"two rule actions are called {action.id!r}")
            by_id[action.id] = action
        self._by_id = MappingProxyType(by_id)
        self._types = MappingProxyType({i: a.type for i, a in by_id.items()})
        self._checks = MappingProxyType({i: a.check for i, a in by_id.items()
                                         if a.check is not None})
        self._messages = MappingProxyType({i: a.type for i, a in by_id.items()
                                           if a.type.message is not None})

    def get(self, action_id: str) -> RuleAction:
        found = self._by_id.get(action_id)
        if found is None:
            raise UnknownAction(action_id)
        return found

    def __contains__(self, action_id: object) -> bool:
        return action_id in self._by_id

    def __iter__(self) -> Iterator[RuleAction]:
        return iter(self._by_id.values())

    def types(self) -> Mapping[str, ActionType]:
        """Every action's definition by id, for validation, the catalogue and the console."""
        return self._types

    def save_checks(self) -> Mapping[str, SpecificCheck]:
        """Each action's own save-time checks, by id."""
        return self._checks

    def message_types(self) -> Mapping[str, ActionType]:
        """The actions that send a message to a person (the Messages page lists these)."""
        return self._messages
