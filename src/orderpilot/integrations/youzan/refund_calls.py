"""The Youzan after-sales calls (formats and sources: refunds.py).

Paying a refund through Youzan is made exactly-once by reading before acting: every agree
first reads the refund (youzan.trade.refund.get) and acts only when its status still asks the
seller; SUCCESS means it was paid already (a lost answer, a retry after kill -9) and nothing
is sent again. The ``version`` Youzan requires on every seller action is that read's; a stale
version or a changed state (103010039, 102010002) reads again, as Youzan's docs advise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from orderpilot.domain.channel_orders import PlatformError
from orderpilot.integrations.youzan.refunds import (
    AGREE_API,
    AGREE_PAYS,
    AGREE_VERSION,
    GET_API,
    GET_VERSION,
    GOODS_API,
    GOODS_VERSION,
    NO_SUCH_REFUND,
    SEARCH_API,
    SEARCH_MAX,
    SEARCH_PAGE_SIZE,
    SEARCH_VERSION,
    STALE_CODES,
    STATUSES,
)

ATTEMPTS = 3


class Caller(Protocol):
    def call(self, api: str, version: str, params: dict[str, Any]) -> Any: ...


class RefundRefused(PlatformError):
    """Youzan's refund is in a state where the seller cannot do this (closed by the buyer,
    refused, goods not back yet): lasting, the return needs a person."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message, transient=False)
        self.status = status


@dataclass(frozen=True)
class Agreed:
    refund_id: str
    status: str  # Youzan's status after the action
    sent: bool  # False: Youzan had done it already, nothing was sent


@dataclass(frozen=True)
class ReturnAddress:
    """Where the buyer sends the goods (returngoods.agree: name, mobile, address, post)."""

    name: str
    mobile: str
    address: str
    post: str = ""
    remark: str = ""


@dataclass(frozen=True)
class RefundPage:
    refund_ids: tuple[str, ...] = ()
    next_cursor: str | None = None


def _code(error: PlatformError) -> int | None:
    code = getattr(error, "code", None)
    return code if isinstance(code, int) else None


def get_refund(client: Caller, refund_id: str) -> dict[str, Any] | None:
    """The 售后单, or None when Youzan knows no such refund (103011024)."""
    try:
        data = client.call(GET_API, GET_VERSION, {"refund_id": refund_id})
    except PlatformError as error:
        if _code(error) == NO_SUCH_REFUND:
            return None
        raise
    if not isinstance(data, dict) or not data.get("refund_id"):
        raise PlatformError(f"youzan {GET_API}: data is not a refund: {str(data)[:200]!r}",
                            transient=False)
    return data


def list_refunds(client: Caller, since: datetime, until: datetime,
                 cursor: str | None) -> RefundPage:
    """Refund ids updated in [SINCE, UNTIL), newest pages first as Youzan pages them; a window
    holding more than SEARCH_MAX is split in halves (as trades.sold.get's in client.py)."""
    state: dict[str, Any] = json.loads(cursor) if cursor else {
        "w": [[int(since.timestamp()), int(until.timestamp()) - 1]], "p": 1}
    windows: list[list[int]] = state["w"]
    page = int(state["p"])
    while windows:
        start, end = windows[0]
        data = client.call(SEARCH_API, SEARCH_VERSION, {
            "update_time_start": start, "update_time_end": end, "page_no": page,
            "page_size": SEARCH_PAGE_SIZE})
        data = data if isinstance(data, dict) else {}
        total = int(data.get("total") or 0)
        if page == 1 and total > SEARCH_MAX and start < end:
            middle = start + (end - start) // 2
            windows[0:1] = [[start, middle], [middle + 1, end]]
            continue
        ids = tuple(str(row["refund_id"]) for row in data.get("refunds") or []
                    if isinstance(row, dict) and row.get("refund_id"))
        if ids and page * SEARCH_PAGE_SIZE < min(total, SEARCH_MAX):
            return RefundPage(ids, json.dumps({"w": windows, "p": page + 1}))
        rest = windows[1:]
        return RefundPage(ids, json.dumps({"w": rest, "p": 1}) if rest else None)
    return RefundPage()


def agree_refund(client: Caller, refund_id: str) -> Agreed:
    """Pay the buyer (refund.agree): for a refund-only request, or a goods return whose goods
    are back (WAIT_SELLER_CONFIRM_GOODS). Exactly once: see the module's docstring."""
    return _act(client, refund_id, AGREE_API, AGREE_VERSION, {}, AGREE_PAYS, "SUCCESS")


def agree_return_goods(client: Caller, refund_id: str, to: ReturnAddress) -> Agreed:
    """Agree that the buyer sends the goods back to TO (returngoods.agree)."""
    extra: dict[str, Any] = {"name": to.name, "mobile": to.mobile, "address": to.address}
    if to.post:
        extra["post"] = to.post
    if to.remark:
        extra["remark"] = to.remark
    return _act(client, refund_id, GOODS_API, GOODS_VERSION, extra,
                frozenset({"WAIT_SELLER_AGREE"}), "WAIT_BUYER_RETURN_GOODS",
                done=frozenset({"WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS",
                                "SUCCESS"}))


def _act(client: Caller, refund_id: str, api: str, version: str, extra: dict[str, Any],
         acting: frozenset[str], after: str, done: frozenset[str] | None = None) -> Agreed:
    done = done or frozenset({after})
    for _ in range(ATTEMPTS):
        refund = get_refund(client, refund_id)
        if refund is None:
            raise RefundRefused(f"youzan {api}: Youzan knows no refund {refund_id}", "")
        status = str(refund.get("status") or "")
        if status in done:
            return Agreed(refund_id, status, sent=False)
        if status not in acting:
            words = STATUSES.get(status, ("", status, status))
            raise RefundRefused(f"youzan {api}: refund {refund_id} is {status} ({words[2]}); "
                                f"the seller cannot act on it now", status)
        try:
            data = client.call(api, version, {"refund_id": refund_id,
                                              "version": refund.get("version"), **extra})
        except PlatformError as error:
            if _code(error) in STALE_CODES:
                continue  # someone moved it meanwhile: read again
            raise
        if isinstance(data, dict) and data.get("is_success") is False:
            raise PlatformError(f"youzan {api}: is_success false for {refund_id}",
                                transient=False)
        return Agreed(refund_id, after, sent=True)
    raise PlatformError(f"youzan {api}: refund {refund_id} kept changing; try again later")


