"""The Shopee client with returns: listing by update time, reading one, confirming (refunding).

Wire facts (open.shopee.com v2 reference, module 102 "Returns", mirrored in
github.com/congminh1254/shopee-sdk ``schemas/v2.returns.*.json``):

* ``GET /api/v2/returns/get_return_list`` (Shop API): ``page_no`` and ``page_size`` required
  (page_size at most 100); ``update_time_from`` / ``update_time_to`` at most 15 days apart;
  answers ``response.more`` and ``response.return[]`` (each entry carries the return's
  ``return_sn``, ``order_sn``, ``status``, ``reason``, ``text_reason``, ``item[]``,
  ``refund_amount``, ``update_time``...: the hub takes them as they are, no detail call).
  ``page_no``: "Default is 0"; the hub asks pages 0, 1, 2... while ``more`` is true.
* ``GET /api/v2/returns/get_return_detail``: ``return_sn`` (one per call); answers the
  return in ``response``; an unknown return_sn is an ``error_param`` / ``error_data`` answer
  ("Return SN or ID is invalid.", "The return you queried doesn't exist.").
* ``POST /api/v2/returns/confirm`` ``{"return_sn"}`` -> ``response.return_sn``: the seller
  agrees to refund; the return's status becomes ACCEPTED (developer guide "Return & Refund
  Management", 2.2). Shopee refuses with ``error`` set (e.g. a return no longer open).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from math import ceil, floor
from typing import Any

from orderpilot.adapters.channels.base import PlatformError, ReturnPage
from orderpilot.domain.channel_returns import ChannelReturn
from orderpilot.integrations.shopee.client import ShopeeClient

RETURN_LIST_PATH = "/api/v2/returns/get_return_list"
RETURN_DETAIL_PATH = "/api/v2/returns/get_return_detail"
CONFIRM_PATH = "/api/v2/returns/confirm"
RETURN_PAGE_SIZE = 100
RETURN_WINDOW = timedelta(days=15)
NOT_FOUND = ("Return SN or ID is invalid", "doesn't exist", "not found")


class ShopeeReturnsClient(ShopeeClient):
    def list_returns(self, since: datetime, until: datetime,
                     cursor: str | None) -> ReturnPage:
        """Returns updated in [SINCE, UNTIL), one page; our cursor is
        ``<window start>:<page_no>`` (windows of at most 15 days)."""
        start, page_no = floor(since.timestamp()), 0
        if cursor:
            head, _, page = cursor.partition(":")
            start, page_no = int(head), int(page or 0)
        end = ceil(until.timestamp())
        window_end = min(end, start + int(RETURN_WINDOW.total_seconds()))
        answer = self._shop_call("GET", RETURN_LIST_PATH, query={
            "page_no": page_no, "page_size": RETURN_PAGE_SIZE,
            "update_time_from": start, "update_time_to": window_end})
        response = answer.get("response")
        if not isinstance(response, Mapping):
            raise PlatformError("get_return_list: the answer has no response object",
                                transient=False)
        raws = tuple(dict(r) for r in response.get("return") or () if isinstance(r, Mapping))
        if response.get("more"):
            next_cursor: str | None = f"{start}:{page_no + 1}"
        elif window_end < end:
            next_cursor = f"{window_end}:0"
        else:
            next_cursor = None
        return ReturnPage(raws=raws, next_cursor=next_cursor)

    def get_returns(self, return_ids: Sequence[str]) -> list[dict[str, Any]]:
        found = []
        for return_sn in dict.fromkeys(return_ids):
            try:
                answer = self._shop_call("GET", RETURN_DETAIL_PATH,
                                         query={"return_sn": return_sn})
            except PlatformError as error:
                if not error.transient and any(s in error.message for s in NOT_FOUND):
                    continue  # an unknown id is left out
                raise
            response = answer.get("response")
            if isinstance(response, Mapping) and response.get("return_sn"):
                found.append(dict(response))
        return found

    def refund_return(self, ret: ChannelReturn) -> None:
        """Confirm the return at Shopee (the seller agrees to the refund)."""
        self._shop_call("POST", CONFIRM_PATH, body={"return_sn": ret.return_id})
