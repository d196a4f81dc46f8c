"""A sales channel's return request as the hub reads it: the shape every platform's return
mapping produces (Shopee return detail, Lazada reverse order, Shopify return, Youzan 维权).

Each platform that carries returns declares a :class:`ReturnSupport` on its ChannelPlatform
(``returns=``); the channel service (services/channels/return_intake.py) turns a
:class:`ChannelReturn` into the hub's return (services/returns.py ``RequestReturn`` with
``source`` = the channel account's code and ``source_event_id`` = the platform's return id) on
the order the platform names, and moves it as the platform's status moves. Nothing here knows
a platform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.domain.channel_orders import Account

# What the platform's return status means to the hub (each platform maps its own statuses):
#   requested  open at the platform (the buyer asked, the seller or platform has not decided)
#   accepted   the seller (or the platform) agreed to refund; the money may not have moved yet
#   cancelled  closed without a refund: the buyer cancelled, the seller won a dispute
#   refunded   the platform paid the buyer back
RETURN_STATES = ("requested", "accepted", "cancelled", "refunded")


@dataclass(frozen=True)
class ChannelReturn:
    return_id: str  # the platform's return id, exact text (the hub's source_event_id)
    order_external_id: str  # the platform's order id, as ChannelOrder.external_id has it
    status: str  # one of RETURN_STATES
    platform_status: str  # the platform's status, as sent
    lines: tuple[tuple[str, int], ...]  # (sku as the order mapping names it, units)
    updated_at: datetime  # the platform's last update of the return
    reason_text: str = ""  # the buyer's words (and the platform's reason, when no words)
    reason_code: str = ""  # the platform's reason code, as sent
    reason_tags: tuple[str, ...] = ()  # our tags when the platform's code obviously maps
    refund_amount: Decimal | None = None  # what the platform refunds / refunded, if it says
    currency: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class ReturnPage:
    """One page of a list-returns-by-update-time call. REFS: return ids to fetch in full;
    RAWS: whole returns when the list already carries them. NEXT_CURSOR None on the last."""

    refs: tuple[str, ...] = ()
    raws: tuple[dict[str, Any], ...] = ()
    next_cursor: str | None = None


@dataclass(frozen=True)
class ReturnSupport:
    """What a platform offers for returns (``ChannelPlatform.returns``; None: no returns).

    * ``map_return(raw, account)`` -> ChannelReturn (pure; MappingError with the platform's
      field path on what cannot be mapped).
    * ``fetch_batch``: most ids one ``client.get_returns`` call takes.
    * ``push_carries_return``: the push body is the whole return (no fetch).
    * ``refunds``: the client can refund a return through the platform
      (``client.refund_return``); otherwise a refund at the hub is recorded only.
    * ``reason_tags``: the platform's reason codes that obviously match our tags (the mapping
      uses it; also shown in the platform's doc).
    """

    map_return: Callable[[Mapping[str, Any], Account], ChannelReturn]
    fetch_batch: int = 20
    push_carries_return: bool = False
    refunds: bool = False
    reason_tags: Mapping[str, str] | None = None


def is_return_raw(raw: object) -> bool:
    """A quarantined item that is a return (kept as ``{"channel_return": raw}``)."""
    return isinstance(raw, Mapping) and set(raw) == {"channel_return"} \
        and isinstance(raw["channel_return"], Mapping)
