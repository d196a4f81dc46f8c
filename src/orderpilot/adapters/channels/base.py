"""What a sales-channel platform integration gives the hub, and what it is given.

Each platform package (integrations/shopee, lazada, tiktok, shopify, woocommerce, youzan)
exports a :class:`ChannelPlatform` as ``INTEGRATION.channel``:

* ``client(account, http, clock)`` -> a :class:`ChannelClient` for one shop (channel account);
  HTTP goes through ``http``, the hub's guarded httpx client (allow-list, DNS pinning, answer
  cap), never a client of its own.
* ``verify_push(account, hook, body)`` checks the platform's signature over the exact raw
  bytes of a push; ``read_push(body)`` turns a verified push into :class:`PushNotice` values
  (MappingError on a push it cannot read: truncated JSON, a missing id).
* ``map_order(raw, account)`` -> :class:`ChannelOrder` (pure; MappingError with the
  platform's field path on what cannot be mapped).
* ``ack`` is the answer the platform expects to a push (Shopee: an empty 2xx body).
* ``statuses`` is the status table: platform status -> lifecycle event type, zh, en.

Errors a client raises: :class:`RateLimited` (429 or the platform's throttling code, with
the wait it asked for), :class:`TokenExpired` (the hub refreshes and retries once),
:class:`PlatformError` (``transient`` says whether a retry may help).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import httpx

from orderpilot.domain.channel_orders import (
    Account,
    ChannelError,
    ChannelOrder,
    Hook,
    HookAnswer,
    OrderPage,
    PlatformError,
    PushNotice,
    RateLimited,
    Revealed,
    StatusRow,
    TokenExpired,
    Tokens,
    plain,
    unmappable,
)
from orderpilot.domain.channel_returns import ChannelReturn, ReturnPage, ReturnSupport

__all__ = ["Account", "ChannelClient", "ChannelError", "ChannelPlatform", "Clock", "Hook",
           "HookAnswer", "OrderPage", "PlatformError", "RateLimited", "ReturnClient",
           "ReturnPage", "ReturnSupport", "Revealed", "StatusRow",
           "TokenExpired", "Tokens", "answer_json", "dumps", "plain", "raise_for_status",
           "read_json"]

Clock = Callable[[], datetime]


class ChannelClient(Protocol):
    def list_orders(self, since: datetime, until: datetime,
                    cursor: str | None) -> OrderPage:
        """Orders updated in [SINCE, UNTIL), one page; CURSOR from the previous page."""

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The whole raw orders (with their items), as the platform sends them; at most
        ``ChannelPlatform.fetch_batch`` ids per call. An id the platform does not know is
        left out of the answer."""

    def refresh(self) -> Tokens | None:
        """New tokens from the refresh token; None when the platform has no refresh."""

    def check(self) -> str:
        """A cheap authenticated call (the connection test); returns what it saw, e.g. the
        shop's name. Raises ChannelError."""

    def lost_pushes(self) -> list[PushNotice]:
        """Pushes the platform could not deliver (Shopee's push-lost API); [] elsewhere."""

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        """Tell the platform the lost pushes were taken (Shopee: confirm_consumed_lost_push);
        a no-op elsewhere."""


class ReturnClient(Protocol):
    """The calls a client adds when its platform declares ``returns``."""

    def list_returns(self, since: datetime, until: datetime,
                     cursor: str | None) -> ReturnPage:
        """Returns updated in [SINCE, UNTIL), one page; CURSOR from the previous page."""

    def get_returns(self, return_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The whole raw returns, as the platform sends them; at most
        ``ReturnSupport.fetch_batch`` ids per call; an unknown id is left out."""

    def refund_return(self, ret: ChannelReturn) -> None:
        """Refund RET through the platform (Shopee: accept the return). PlatformError with
        ``transient=False`` when the platform refuses (its message is shown on the return)."""


@dataclass(frozen=True)
class ChannelPlatform:
    platform: str  # one of domain.channel_orders.PLATFORMS
    title_zh: str
    title_en: str
    default_base_url: Callable[[str], str]  # region -> the documented production host
    client: Callable[[Account, httpx.Client, Clock], ChannelClient]
    verify_push: Callable[[Account, Hook, bytes], bool]
    read_push: Callable[[bytes], list[PushNotice]]
    map_order: Callable[[Mapping[str, Any], Account], ChannelOrder]
    statuses: tuple[StatusRow, ...]
    ack: HookAnswer = HookAnswer()
    fetch_batch: int = 50  # most ids one get_orders call takes
    push_carries_order: bool = False  # the push body is the whole order (no fetch)
    region_currency: Mapping[str, str] = field(default_factory=dict)
    # Shopee partner ids etc. that identify the account from a push without the code
    sources: tuple[str, ...] = ()  # the public documents every format fact comes from
    # A sample raw order in the platform's format (the simulator's generator uses it)
    sample_order: Callable[[int, str], dict[str, Any]] | None = None
    # (client, raw orders) -> the orders with the buyer's encrypted fields decrypted, for a
    # platform that encrypts them (Youzan); called through the hub's token/rate-limit handling
    reveal: Callable[[Any, Sequence[Mapping[str, Any]]], Revealed] | None = None
    # Return requests (domain/channel_returns.py): None when the platform brings none. A
    # platform with returns gives its client list_returns / get_returns (and refund_return
    # when ``returns.refunds``), see :class:`ReturnClient`.
    returns: ReturnSupport | None = None
    # A seller's cancellation through the platform: our reason code
    # (domain/cancellation.py) -> the platform's; None when the hub cannot cancel there.
    # The client then has ``cancel_order(raw order, platform reason)``.
    cancel_reasons: Mapping[str, str] | None = None


def read_json(body: bytes | str, what: str) -> Any:
    """JSON with every number that has a fraction read as Decimal (money stays exact) and
    every integer as int (ids above 2**53 stay exact); MappingError on bad JSON."""
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise unmappable(what, f"{what} is not valid JSON: {error}",
                         f"{what} 不是有效的 JSON：{error}") from None


def answer_json(response: httpx.Response, what: str) -> Any:
    """The JSON body of a platform answer (see read_json); PlatformError when it is not."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise PlatformError(f"{what}: the answer is not JSON (HTTP {response.status_code}): "
                            f"{response.text[:200]!r}", status_code=response.status_code,
                            transient=response.status_code >= 500) from None


def raise_for_status(response: httpx.Response, what: str) -> None:
    """RateLimited on 429 (Retry-After honoured), transient PlatformError on 5xx, permanent
    on other 4xx."""
    status = response.status_code
    if status == 429:
        try:
            wait = float(response.headers.get("retry-after") or 1)
        except ValueError:
            wait = 1.0
        raise RateLimited(f"{what}: rate limited (HTTP 429)", min(max(wait, 0.05), 60))
    if status >= 500:
        raise PlatformError(f"{what}: HTTP {status}: {response.text[:200]!r}",
                            status_code=status)
    if status >= 400:
        raise PlatformError(f"{what}: HTTP {status}: {response.text[:200]!r}",
                            status_code=status, transient=False)


def dumps(value: Any) -> str:
    """JSON for a platform request or answer with every Decimal written as its exact digits
    (a JSON number, as the platforms send money: ``12.30`` stays ``12.30``)."""
    text = json.dumps(value, default=_mark, separators=(",", ":"), ensure_ascii=False)
    return _MARKED.sub(lambda m: m.group(1), text)


_MARKED = re.compile(r'"\\u0000D:([-+0-9.eE]+)"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"\x00D:{value}"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
