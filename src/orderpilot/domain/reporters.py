"""Who may report as which outside system.

An API token is issued for named sources: its scopes ``source:wms``, ``source:sf``... are the
only sources it may name when it reports an order event or pushes stock levels (for a level
push the source is the stock source's code). A token with no source scope reports as nobody:
it may still read, place orders or holds as its role allows, but every report is refused. The
hub's own name (``hub``) is never given to a token.

A person reports through the console or the API on their session under their own name,
``user:<login>``, never as a platform.

Whatever the scopes, a lifecycle event is taken only from a system that reports its node:
``payment.succeeded`` comes from a storefront, so even a token issued for ``wms`` may not send
it as ``wms``. A source the hub does not know counts as the system that usually reports the
event (see ``lifecycle.system_of``): issue tokens for known source names where you can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from orderpilot.domain import lifecycle
from orderpilot.domain.errors import Forbidden, InvalidInput

SOURCE_SCOPE = "source:"
PERSON_PREFIX = "user:"
HUB_SOURCE = "hub"
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")


def source_scopes(sources: Iterable[str]) -> tuple[str, ...]:
    """The scopes for a token issued for these sources, checked and without repeats."""
    scopes: list[str] = []
    for raw in sources:
        name = raw.strip().lower()
        if name.startswith(SOURCE_SCOPE):
            name = name[len(SOURCE_SCOPE):]
        if not _SOURCE_NAME.match(name):
            raise InvalidInput(f"source {raw!r}: 1-64 letters, digits, _ . - (e.g. wms, shopee)",
                               field="source",
                               zh=f"来源 {raw!r}：1-64 个字母、数字、_ . -（如 wms、shopee）")
        if name == HUB_SOURCE:
            raise InvalidInput("the hub reports as 'hub' itself; a token may not", field="source",
                               zh="hub 以 'hub' 身份上报，令牌不能使用该来源")
        if SOURCE_SCOPE + name not in scopes:
            scopes.append(SOURCE_SCOPE + name)
    return tuple(scopes)


def sources_of(scopes: Iterable[str]) -> tuple[str, ...]:
    return tuple(s[len(SOURCE_SCOPE):] for s in scopes if s.startswith(SOURCE_SCOPE))


def person_source(login: str) -> str:
    return (PERSON_PREFIX + login)[:64]  # event sources are stored in 64 characters


def allowed_sources(kind: str, name: str, scopes: Iterable[str]) -> tuple[str, ...]:
    """The sources a caller may report as: a person only as themself, a token as its scopes."""
    if kind == "user":
        return (person_source(name),)
    return sources_of(scopes)


def check_source(kind: str, name: str, scopes: Iterable[str], source: str,
                 field: str = "source") -> None:
    allowed = allowed_sources(kind, name, scopes)
    if source.lower() in allowed:
        return
    who = f"user {name}" if kind == "user" else f"token {name!r}"
    may = ", ".join(allowed) if allowed else "none (the token has no source:<name> scope)"
    raise Forbidden(f"{who} may not report as source {source!r}; its sources: {may}",
                    field=field, code="source_not_allowed",
                    zh=f"{who} 不能以来源 {source!r} 上报；其可用来源：{may}")


def check_stock_source(kind: str, name: str, scopes: Iterable[str], code: str,
                       field: str = "source") -> None:
    """A level push names a stock source, not who reports it: a person changes stock as their
    role allows; a token only for the stock sources in its scopes."""
    if kind != "user":
        check_source(kind, name, scopes, code, field)


def check_event_source(type_: str, source: str) -> None:
    """A lifecycle event only from a system that reports its node (unknown types are left to
    the order, which refuses them as bad input)."""
    kind = lifecycle.EVENT_TYPES.get(type_)
    if kind is None or kind.node is None or source.startswith(PERSON_PREFIX):
        return
    system = lifecycle.system_of(source, kind)
    reporters = lifecycle.NODE_BY_ID[kind.node].reported_by
    if system not in reporters:
        raise Forbidden(f"source {source!r} is a {system} system; {type_} is reported only by "
                        f"{' or '.join(reporters)} systems", field="type",
                        code="event_not_from_this_system",
                        zh=f"来源 {source!r} 是{system}系统；"
                           f"{type_} 只能由{' 或 '.join(reporters)}系统上报")


def check_report(kind: str, name: str, scopes: Iterable[str], type_: str, source: str) -> None:
    """Both checks for one order event: the caller may speak for the source, and the source's
    system is one that reports this event."""
    check_source(kind, name, scopes, source)
    check_event_source(type_, source)
