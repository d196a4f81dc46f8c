"""What the rule builder's pages show, in the user's language: the field, operator, event and
action lists from the rule catalogue, SMS templates, and a result of trying or backtesting."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.currency_rates import BASE, CurrencyRates
from orderpilot.domain.intake import CHANNELS as CHANNEL_CODES
from orderpilot.domain.intake import CURRENCIES
from orderpilot.domain.lifecycle import NODE_BY_ID
from orderpilot.domain.messages import field_path
from orderpilot.domain.rules.actions import ActionType, Param
from orderpilot.domain.rules.fields import ADDRESS_FLAGS, FIELD_BY_PATH, FIELDS, OPERATORS
from orderpilot.domain.rules.fields import OPERATORS_BY_TYPE as OPS
from orderpilot.domain.rules.triggers import TIMEZONES, event_names
from orderpilot.entrypoints.console.i18n import CHANNELS, HOLD_REASONS, LABELS, N_
from orderpilot.entrypoints.console.i18n import RUN_STATUSES as I18N_RUN_STATUSES
from orderpilot.entrypoints.console.rules.values import join_list, split_list

FIELD_GROUPS = {"order": N_("Order"), "customer": N_("Customer"), "address": N_("Address"),
                "event": N_("Event"), "time": N_("Time")}
RULE_STATUSES = {"draft": N_("Draft"), "enabled": N_("Enabled"), "paused": N_("Paused"),
                 "archived": N_("Archived")}
RUN_STATUSES = I18N_RUN_STATUSES  # one name per run status, the catalogue's
AUDIT_ACTIONS = {"created": N_("Created"), "draft_saved": N_("Draft saved"),
                 "published": N_("Published"), "rolled_back": N_("Rolled back"),
                 "enabled": N_("Enabled"), "paused": N_("Paused"), "archived": N_("Archived"),
                 "strike": N_("Evaluation failed or over a limit"),
                 "auto_disabled": N_("Paused automatically after repeated failures"),
                 "overlap_confirmed": N_("Published alongside an overlapping rule")}
def _item(items: Any, index: int) -> dict[str, Any]:
    return items[index] if isinstance(items, list) and index < len(items) \
        and isinstance(items[index], dict) else {}


_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")
PATH_WORDS = {"rule": N_("Rule"), "key": N_("Key"), "name": N_("Name"),
              "description": N_("Description"), "trigger": N_("Trigger"),
              "event": N_("Event"), "sources": N_("Only from these sources"),
              "channels": N_("Channels"), "minutes": N_("Minutes"), "unless": N_("Unless"),
              "cron": N_("Schedule"), "timezone": N_("Time zone"),
              "conditions": N_("Conditions"), "expression": N_("Advanced expression"),
              "field": N_("Field"), "op": N_("Operator"), "value": N_("Value"),
              "currency": N_("Currency"), "actions": N_("Actions"), "params": N_("Parameters"),
              "if": N_("Only if"), "on_error": N_("If it fails"), "retries": N_("Retries"),
              "backoff_seconds": N_("Wait (s)"), "then": N_("Then"), "id": N_("Step ID"),
              "type": N_("Action"), "idempotency_key": N_("Idempotency key")}
# Outputs every HTTP call may map, named for people when no action declares them.
OUTPUT_LABELS = {"status_code": N_("HTTP status"), "qualified": N_("Qualified"),
                 "reference": N_("Reference")}
TRIGGER_KINDS = {"event": N_("When an event happens"),
                 "timeout": N_("When an event is not followed by another in time"),
                 "schedule": N_("On a schedule")}
# The same words as the tickets page's (tickets.py imports this package: no import back).
CHOICE_LABELS = {"priority": {"urgent": N_("Urgent"), "high": N_("High"),
                              "normal": N_("Normal"), "low": N_("Low")}}
QUICK_ACTIONS = ("order.hold", "sms.send", "ticket.create", "order.tag")
THEN = {"fail": N_("Stop the rule (failed)"), "ignore": N_("Go on with the next action"),
        "branch": N_("Run these actions instead")}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


class BuilderCatalogue:
    """Labels for one locale; ``gettext`` translates the console's own words."""

    def __init__(self, zh: bool, gettext: Any, sms: dict[str, tuple[str, list[str]]],
                 actions: Mapping[str, ActionType], connectors: frozenset[str],
                 rates: CurrencyRates | None = None) -> None:
        self.zh, self.gettext = zh, gettext
        self.actions = actions  # the hub's action table's types
        self.sms = sms  # code -> (text, parameter names)
        self.connectors = sorted(connectors)  # named HTTP connectors an http.call may use
        self.field_groups = [
            (gettext(label), [Choice(f.path, f.zh if zh else f.en)
                              for f in FIELDS if f.group == group])
            for group, label in FIELD_GROUPS.items()]
        self.events = [Choice(k, zh_ if zh else en) for k, (zh_, en) in event_names().items()]
        self.channels = [Choice(c, gettext(CHANNELS.get(c, c))) for c in CHANNEL_CODES]
        self.timezones = list(TIMEZONES)
        self.action_types = [Choice(a.id, a.zh if zh else a.en) for a in actions.values()]
        self.hold_reasons = [Choice(r, gettext(label)) for r, label in HOLD_REASONS.items()]
        self.hold_reason_codes = set(HOLD_REASONS)
        self.trigger_kinds = [Choice(k, gettext(v)) for k, v in TRIGGER_KINDS.items()]
        self.then = [Choice(k, gettext(v)) for k, v in THEN.items()]
        self.currencies = [BASE, *(c for c in CURRENCIES if c != BASE)]
        self.rates = rates or CurrencyRates()
        # One click each inside a branch: the actions such a branch usually takes.
        self.quick_actions = [Choice(a, self.action_label(a)) for a in QUICK_ACTIONS
                              if a in actions]
        # The actions integrations declare (海关资质核验...): one click each in the main list.
        self.named_actions = [Choice(a.id, self.action_label(a.id)) for a in actions.values()
                              if a.integration]

    def sources_split(self, text: str) -> tuple[list[str], str]:
        """A rule's sources as the builder shows them: ticked channels, and the rest typed."""
        sources = split_list(text)
        channels = {c.value for c in self.channels}
        return [s for s in sources if s in channels], join_list(
            [s for s in sources if s not in channels])

    def rate_text(self, currency: str) -> str:
        """How orders in other currencies are compared: "1 SGD = 5.30 CNY; ..."."""
        if currency not in self.currencies:
            return ""
        if currency != BASE and currency not in self.rates.per_unit:
            return self.text(N_("No exchange rate is set for %(code)s: orders in other "
                                "currencies do not match")) % {"code": currency}
        shown = [f"1 {code} = {format(rate.normalize(), 'f')} {BASE}"
                 for code, rate in sorted(self.rates.per_unit.items())]
        if not shown:
            return self.text(N_("No exchange rates are set: orders in other currencies do "
                                "not match"))
        return self.text(N_("Orders in other currencies are converted: %(rates)s")) % {
            "rates": "; ".join(shown)}

    def output_label(self, action_type: str, name: str) -> str:
        found = self.actions.get(action_type)
        for output in found.output_fields if found else ():
            if output.name == name:
                return output.zh if self.zh else output.en
        return self.text(OUTPUT_LABELS[name]) if name in OUTPUT_LABELS else name

    def path_label(self, path: str, definition: Mapping[str, Any] | None) -> str:
        """A place in a rule ("actions[1].params.reason", from a version's diff) in words:
        "动作 2（冻结订单）· 冻结原因代码"; DEFINITION names the actions' types."""
        parts = _PATH_PART.findall(path)
        words: list[str] = []
        step: Any = {"actions": (definition or {}).get("actions") or []}
        i = 0
        while i < len(parts):
            name, index = parts[i]
            if name in ("actions", "branch") and index:
                step = _item(step.get(name) if name == "actions"
                             else (step.get("on_error") or {}).get("branch"), int(index))
                if name == "branch":
                    words.append(self.text(THEN["branch"]))
                words.append(self._step_words(step, int(index)))
            elif name in ("all", "any") and index:
                words.append(self.text(N_("Condition %(n)s")) % {"n": int(index) + 1})
            elif name == "on_outcome" and i + 1 < len(parts):
                outcome, position = parts[i + 1]
                words.append(self.text(N_("If %(outcome)s")) % {
                    "outcome": self.outcome_label(str(step.get("type", "")), outcome)})
                if position:
                    step = _item((step.get("on_outcome") or {}).get(outcome), int(position))
                    words.append(self._step_words(step, int(position)))
                i += 1
            elif name == "params" and i + 1 < len(parts):
                kind = self.actions.get(str(step.get("type", "")))
                found = next((p for p in kind.params if p.name == parts[i + 1][0]), None) \
                    if kind else None
                words.append(self.param_label(found) if found else parts[i + 1][0])
                i += 1
            elif name in PATH_WORDS and name not in ("conditions", "actions"):
                words.append(self.text(PATH_WORDS[name]))
            elif name not in ("conditions", "actions", "on_error"):
                words.append(self.field_label(name))
            i += 1
        return " · ".join(words) or field_path(path, "zh_CN" if self.zh else "en")

    def diff_value(self, path: str, value: Any) -> str:
        """A value from a version's diff in words where its place says what it is (an event,
        a field, an operator, a hold reason, a priority, yes/no); JSON otherwise."""
        last = path.rsplit(".", 1)[-1]
        if value is None:
            return "—"
        if isinstance(value, bool):
            return self.text("yes") if value else self.text("no")
        if isinstance(value, str):
            names = {c.value: c.label for c in (*self.events, *self.hold_reasons)}
            if last in ("event", "unless", "reason") and value in names:
                return names[value]
            if last == "reason" and value in LABELS["reason"]:
                return self.text(LABELS["reason"][value])
            if last == "field":
                return self.field_label(value)
            if last == "op":
                return self.op_label(value)
            if last == "priority":
                label = CHOICE_LABELS["priority"].get(value)
                return self.text(label) if label else value
            if last == "type" and value in self.actions:
                return self.action_label(value)
            return value
        return json.dumps(value, ensure_ascii=False)

    def _step_words(self, step: Mapping[str, Any], index: int) -> str:
        kind = self.actions.get(str(step.get("type", "")))
        return self.text(N_("Step %(n)s")) % {"n": index + 1} + \
            (self.aside(self.action_label(kind.id)) if kind else "")

    def branch_label(self, branch: str) -> str:
        """"check.not_qualified" (a step's outcome branch) in words: "check：核验不通过"."""
        step, _, outcome_id = branch.partition(".")
        for kind in self.actions.values():
            found = kind.outcome(outcome_id)
            if found is not None:
                return f"{step}{self.colon}{found.zh if self.zh else found.en}"
        return branch

    def outcome_label(self, action_type: str, outcome_id: str) -> str:
        found = self.actions.get(action_type)
        outcome = found.outcome(outcome_id) if found else None
        return (outcome.zh if self.zh else outcome.en) if outcome else outcome_id

    @property
    def colon(self) -> str:
        return "：" if self.zh else ": "

    def aside(self, words: str) -> str:
        """WORDS in brackets after a name, the punctuation of the locale."""
        return f"（{words}）" if self.zh else f" ({words})"

    def text(self, message: str) -> str:
        """One of the console's own words in this locale."""
        return str(self.gettext(message))

    def field_label(self, path: str) -> str:
        found = FIELD_BY_PATH.get(path)
        return (found.zh if self.zh else found.en) if found else path

    def is_known_field(self, path: str) -> bool:
        return path in FIELD_BY_PATH

    def operators(self, kind: str) -> list[Choice]:
        return [Choice(o, OPERATORS[o].zh if self.zh else OPERATORS[o].en)
                for o in OPS.get(kind, ())]

    def op_label(self, op: str) -> str:
        found = OPERATORS.get(op)
        return (found.zh if self.zh else found.en) if found else op

    def value_choices(self, path: str) -> list[Choice]:
        found = FIELD_BY_PATH.get(path)
        if found is None:
            return []
        if path == "order.address.flags":
            return [Choice(k, zh if self.zh else en) for k, (zh, en) in ADDRESS_FLAGS.items()]
        if path == "order.channel":
            return [Choice(c, self.gettext(CHANNELS.get(c, c))) for c in found.choices]
        if path == "order.status":
            return [Choice(s, NODE_BY_ID[s].zh if self.zh else NODE_BY_ID[s].en)
                    for s in found.choices]
        if path == "event.type":
            names = event_names()
            return [Choice(e, names[e][0 if self.zh else 1]) for e in found.choices]
        return [Choice(c, c) for c in found.choices]

    def value_label(self, path: str, value: Any) -> str:
        labels = {c.value: c.label for c in self.value_choices(path)}
        if isinstance(value, list):
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        return "—" if value is None else labels.get(str(value), str(value))

    def action(self, action_type: str) -> ActionType:
        return self.actions[action_type]

    def action_label(self, action_type: str) -> str:
        found = self.actions.get(action_type)
        return (found.zh if self.zh else found.en) if found else action_type

    def param_label(self, param: Param) -> str:
        return param.zh if self.zh else param.en

    def choice_label(self, param: Param, value: str) -> str:
        """An enum parameter's choice in words (a ticket's priority); codes like POST as is."""
        label = CHOICE_LABELS.get(param.name, {}).get(value)
        return self.text(label) if label else value

    def step_tests(self, kind: str) -> list[Choice]:
        if kind == "bool":
            return [Choice("is_false", self.gettext("is no")),
                    Choice("is_true", self.gettext("is yes"))]
        return [Choice(o, self.op_label(o)) for o in ("eq", "ne", "not_empty", "is_empty")]


def sms_register(rows: list[Any]) -> dict[str, tuple[str, list[str]]]:
    return {r.code: (r.text, list(r.params)) for r in rows}
