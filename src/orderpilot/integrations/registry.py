"""What an integration declares, and the registry that finds them.

An integration is one outside system in one package that exports ``INTEGRATION``: its name and
titles, what it provides to the hub, its settings schema (secret fields are ``SecretStr``:
stored, never returned or shown), how its settings are read from ``Settings``, a factory for
its client (given the guarded HTTP client, never a bare one), its loopback simulator, the rule
actions it adds and the base URLs it calls (each becomes an allow-list entry of exactly its
scheme, host, port and path).

The built-in integrations are listed in ``BUILT_IN``; third-party ones are found through the
entry-point group ``orderpilot.integrations`` (``acme_wms = "acme_wms:INTEGRATION"``). The
registry is built once, in the composition root; nothing here keeps global state.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, SecretStr

from orderpilot.config import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter

    from orderpilot.adapters.channels.base import ChannelPlatform
    from orderpilot.adapters.connectors.outbound import OutboundContext
    from orderpilot.services.rules.actions.base import RuleAction
    from orderpilot.simulators.external.recorder import Recorder

GROUP = "orderpilot.integrations"
CAPABILITIES = frozenset({
    "message_channel",  # sends messages to people (SMS, mail, group robots)
    "http_connector",   # a named base URL an http.call step may use (`connector`)
    "stock_source",     # reports stock levels (pulled by the inventory puller)
    "status_feed",      # reports order status events
    "order_source",     # brings orders in
    "rule_actions",     # adds rule actions
    "return_policy",
    "invoice_provider",
})
BUILT_IN = tuple(f"orderpilot.integrations.{name}" for name in (
    "customs", "aliyun_sms", "tencent_sms", "helpdesk", "crm", "dingtalk", "wecom", "smtp",
    "wms", "youzan", "tiktok", "woocommerce", "lazada", "kingdee", "shopee", "sf_express",
    "shopify"))

S = TypeVar("S", bound=BaseModel)


class HttpConnectorSettings(BaseModel):
    """The settings of an integration reached as a named HTTP connector: its base URL and the
    bearer token sent with every call (if any)."""

    base_url: str
    token: SecretStr | None = None


@dataclass(frozen=True)
class Simulator:
    """A loopback simulator: ROUTER is mounted at /<name>, ADMIN (tests' set-up routes) at
    /_sim/<name>; RESET(recorder) restores its data on DELETE /_sim/<name>."""

    router: APIRouter
    admin: APIRouter | None = None
    reset: Callable[[Recorder], None] | None = None


def _base_url(settings: BaseModel) -> tuple[str, ...]:
    url = getattr(settings, "base_url", None)
    return (url,) if isinstance(url, str) and url else ()


@dataclass(frozen=True)
class Integration(Generic[S]):
    name: str
    title_zh: str
    title_en: str
    provides: frozenset[str]
    settings: type[S]
    # Its settings from the ORDERPILOT_* values; None when it is not configured.
    configure: Callable[[Settings], S | None]
    client: Callable[[S, OutboundContext], object] | None = None
    simulator: Simulator | None = None
    actions: tuple[RuleAction, ...] = ()
    # The base URLs it calls with these settings: each is allowed as exactly that origin.
    origins: Callable[[S], tuple[str, ...]] = _base_url
    setup_hint: str = ""  # what to set to configure it ("set ORDERPILOT_SMTP_HOST")
    # A sales channel (order_source): its accounts are set with PUT /api/v1/channels/{code}.
    channel: ChannelPlatform | None = None

    def __post_init__(self) -> None:
        unknown = self.provides - CAPABILITIES
        if unknown:
            raise ValueError(f"integration {self.name!r} provides unknown capabilities "
                             f"{sorted(unknown)}; known: {sorted(CAPABILITIES)}")
        if "http_connector" in self.provides \
                and not issubclass(self.settings, HttpConnectorSettings):
            raise ValueError(f"integration {self.name!r} is an http_connector, so its settings "
                             f"must extend HttpConnectorSettings")
        if self.channel is not None and "order_source" not in self.provides:
            raise ValueError(f"integration {self.name!r} is a sales channel but does not "
                             f"declare 'order_source' in provides")
        if self.actions and "rule_actions" not in self.provides:
            raise ValueError(f"integration {self.name!r} adds rule actions but does not "
                             f"declare 'rule_actions' in provides")


class DuplicateIntegration(ValueError):
    """Two integrations (built-in or installed) share one name."""


class IntegrationRegistry:
    """The integrations of this process, by name, in the order found."""

    def __init__(self, found: Iterable[tuple[Integration[Any], str]]) -> None:
        """FOUND: each integration with where it came from (for the duplicate message)."""
        self._by_name: dict[str, Integration[Any]] = {}
        origin: dict[str, str] = {}
        for integration, source in found:
            if not isinstance(integration, Integration):
                raise TypeError(f"{source} is not an Integration: {integration!r}")
            if integration.name in self._by_name:
                raise DuplicateIntegration(
                    f"two integrations are named {integration.name!r}: {origin[integration.name]}"
                    f" and {source}; uninstall one or rename it")
            self._by_name[integration.name] = integration
            origin[integration.name] = source
        self._action_ids()

    @classmethod
    def of(cls, *integrations: Integration[Any]) -> IntegrationRegistry:
        return cls((i, f"<given {i.name}>") for i in integrations)

    @classmethod
    def discover(cls, *, installed: bool = True) -> IntegrationRegistry:
        """The built-in integrations and, when INSTALLED, every entry point in the group
        ``orderpilot.integrations`` (a plugin that fails to load stops the start: silently
        missing a system is worse)."""
        found: list[tuple[Integration[Any], str]] = [
            (importlib.import_module(module).INTEGRATION, module) for module in BUILT_IN]
        if installed:
            found += [(_load(point), f"entry point {point.name} = {point.value}")
                      for point in entry_points(group=GROUP)]
        return cls(found)

    def __iter__(self) -> Iterator[Integration[Any]]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> Integration[Any]:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no integration {name!r}; known: "
                           f"{', '.join(self._by_name)}") from None

    def providing(self, capability: str) -> tuple[Integration[Any], ...]:
        return tuple(i for i in self if capability in i.provides)

    def channels(self) -> dict[str, ChannelPlatform]:
        """Every sales-channel platform, by platform name (shopee, lazada, ...)."""
        return {i.channel.platform: i.channel for i in self if i.channel is not None}

    def actions(self) -> tuple[RuleAction, ...]:
        """Every rule action the integrations add (for the ActionTable's ``extra``)."""
        return tuple(action for i in self for action in i.actions)

    def configured(self, settings: Settings) -> dict[str, BaseModel]:
        """Each configured integration's settings, by name."""
        found = {}
        for integration in self:
            values = integration.configure(settings)
            if values is not None:
                found[integration.name] = values
        return found

    def _action_ids(self) -> None:
        seen: dict[str, str] = {}
        for integration in self:
            for action in integration.actions:
                action_id = action.id
                if action_id in seen:
                    raise DuplicateIntegration(
                        f"rule action {action_id!r} is added by both {seen[action_id]!r} "
                        f"and {integration.name!r}")
                seen[action_id] = integration.name


def _load(point: EntryPoint) -> Integration[Any]:
    loaded = point.load()
    return loaded if isinstance(loaded, Integration) else getattr(loaded, "INTEGRATION", loaded)


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def pick(value: str | None, sim_value: str, sim_url: str | None) -> str | None:
    """A configured VALUE, or the simulator's test value when the hub points at the simulator
    and nothing was set."""
    return value if value or not sim_url else sim_value


def sim_base(settings: Settings) -> str | None:
    return settings.sim_url.rstrip("/") if settings.sim_url else None


__all__ = ["BUILT_IN", "CAPABILITIES", "GROUP", "DuplicateIntegration", "HttpConnectorSettings",
           "Integration", "IntegrationRegistry", "Simulator", "pick",
           "secret", "sim_base"]
