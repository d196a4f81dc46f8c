"""The Lazada Open Platform client for one shop, on the hub's guarded httpx client.

Calls (https://open.lazada.com/apps/doc/api?path=...): GetOrders ``GET /orders/get``
(``update_after``/``update_before`` ISO 8601 with offset, "after or on"/"before or on";
``sort_by=updated_at``; ``offset``; ``limit`` at most 100; the answer's ``data.countTotal``;
the tutorial https://open.alitrip.com/docs/doc.htm?articleId=121327&docType=1&treeId=499 caps
``offset`` at 5000 and says to move the time filter on past that), GetOrder ``GET /order/get``
(``order_id``), GetMultipleOrderItems ``GET /orders/items/get`` (``order_ids`` like
"[42062,42063]", at most 50: "No more than 50 at a time"), GetSeller ``GET /seller/get``, and
RefreshAccessToken ``/auth/token/refresh`` on https://auth.lazada.com/rest ("Central: for all
countries", https://open.lazada.com/apps/doc/doc?nodeId=10777&docId=108260) answering
``access_token``, ``refresh_token``, ``expires_in`` and ``refresh_expires_in`` in seconds.

Returns (reverse orders, see returns.py for their sources): GetReverseOrdersForSeller
``/reverse/getreverseordersforseller`` (``page_no``/``page_size``, the lines' modified-time
range in milliseconds), GetReverseOrderDetail ``/order/reverse/return/detail/list``
(``reverse_order_id``) and ReverseOrderReturnUpdate ``/order/reverse/return/update``
(https://open.lazada.com/apps/doc/api?path=%2Forder%2Freverse%2Freturn%2Fupdate: GET,
``action`` one of instantRefund, agreeReturn, refuseReturn, agreeRefund, refuseRefund,
confirmDelivery; ``reverse_order_id``; ``reverse_order_item_ids`` "Number[]", the reverse
order line ids; the answer's ``data.total_refund``; errors E0112 "no reverse order found",
E0114 "this reverse does not support this action").

Every answer is JSON with ``code`` "0" on success; an error has ``type`` (ISV, ISP, SYSTEM),
``code``, ``message``, ``request_id`` (https://open.lazada.com/apps/doc/doc?nodeId=10450&docId=108138,
copy at https://open.alitrip.com/docs/doc.htm?articleId=108138&docType=1&treeId=499).
``IllegalAccessToken`` ("The specified access token is invalid or expired") -> TokenExpired;
``ApiCallLimit`` ("... this ban will last N seconds") -> RateLimited(N). Neither code's exact
HTTP status is documented: both are read from the body whatever the status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from orderpilot.adapters.channels.base import (
    Account,
    Clock,
    OrderPage,
    PlatformError,
    RateLimited,
    TokenExpired,
    Tokens,
    raise_for_status,
)
from orderpilot.domain.channel_orders import MappingError, PushNotice
from orderpilot.domain.channel_returns import ChannelReturn, ReturnPage
from orderpilot.integrations.lazada.hosts import AUTH_URL, default_base_url
from orderpilot.integrations.lazada.mapping import lazada_time
from orderpilot.integrations.lazada.returns import return_status, reverse_lines
from orderpilot.integrations.lazada.signing import SIGN_METHOD, sign_request

PAGE_LIMIT = 100
RETURNS_PAGE = 50
MAX_OFFSET = 5000
ITEMS_BATCH = 50
TOKEN_CODES = frozenset({"IllegalAccessToken", "MissingAccessToken"})
THROTTLE_CODES = frozenset({"ApiCallLimit", "AppCallLimit"})
_BAN = re.compile(r"last\s+(\d+)\s*second", re.IGNORECASE)


# GetReverseOrderDetail's answers for an id the store does not hold: E0105 "reverse order id
# is empty or invalid" and 106 ("The reverse ID entered in reverse_order_id does not exist in
# the current store or is incorrect"), on its documented error table.
UNKNOWN_REVERSE_CODES = frozenset({"105", "106"})


class LazadaRefused(PlatformError):
    """Lazada answered an error code (CODE, as sent)."""

    def __init__(self, message: str, code: str, *, transient: bool,
                 status_code: int | None) -> None:
        super().__init__(message, transient=transient, status_code=status_code)
        self.code = code


class LazadaClient:
    def __init__(self, account: Account, http: httpx.Client, clock: Clock) -> None:
        self.account = account
        self.http = http
        self.clock = clock
        own = account.base_url.rstrip("/")
        self.base_url = own or default_base_url(account.region)
        self.auth_url = own or AUTH_URL  # a sandbox or simulator answers both

    # The ChannelClient protocol

    def list_orders(self, since: datetime, until: datetime, cursor: str | None) -> OrderPage:
        """One page of orders updated in [SINCE, UNTIL] (Lazada's filter includes both ends:
        an order at UNTIL may come again in the next window, which changes nothing). CURSOR is
        ``<offset>@<update_after>``: past the 5000 offset cap the filter moves to the last
        order's update time."""
        offset, after = _read_cursor(cursor, since)
        answer = self._call("/orders/get", {
            "update_after": after, "update_before": until.isoformat(timespec="seconds"),
            "sort_by": "updated_at", "sort_direction": "ASC",
            "offset": str(offset), "limit": str(PAGE_LIMIT)})
        data = answer.get("data") or {}
        orders = [o for o in data.get("orders") or [] if isinstance(o, dict)]
        total = int(str(data.get("countTotal") or 0))
        items = self._items([str(o.get("order_id")) for o in orders])
        raws = tuple({**o, "order_items": items[str(o.get("order_id"))]} for o in orders
                     if str(o.get("order_id")) in items)
        refs = tuple(str(o.get("order_id")) for o in orders
                     if str(o.get("order_id")) not in items)
        consumed = offset + len(orders)
        next_cursor: str | None = None
        if orders and consumed < total:
            last = _moment(orders[-1].get("updated_at"))
            if consumed + PAGE_LIMIT > MAX_OFFSET and last:
                next_cursor = f"0@{last}"
            else:
                next_cursor = f"{consumed}@{after}"
        return OrderPage(refs=refs, raws=raws, next_cursor=next_cursor)

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Each order's header (GetOrder) with its items (one GetMultipleOrderItems call)."""
        headers: list[dict[str, Any]] = []
        for external_id in external_ids[:ITEMS_BATCH]:
            try:
                answer = self._call("/order/get", {"order_id": str(external_id)})
            except PlatformError as error:
                if error.transient:
                    raise
                continue  # Lazada does not know this id (E016 Invalid Order ID)
            if isinstance(answer.get("data"), dict) and answer["data"].get("order_id"):
                headers.append(answer["data"])
        items = self._items([str(h["order_id"]) for h in headers])
        return [{**h, "order_items": items[str(h["order_id"])]} for h in headers
                if str(h["order_id"]) in items]

    def refresh(self) -> Tokens | None:
        refresh_token = self.account.tokens.refresh_token or self.account.secret("refresh_token")
        answer = self._call("/auth/token/refresh", {"refresh_token": refresh_token},
                            token=False, auth=True)
        now = self.clock()
        refresh_in = int(str(answer.get("refresh_expires_in") or 0))
        return Tokens(access_token=str(answer["access_token"]),
                      refresh_token=str(answer.get("refresh_token") or refresh_token),
                      expires_at=now + timedelta(seconds=int(str(answer["expires_in"]))),
                      refresh_expires_at=now + timedelta(seconds=refresh_in)
                      if refresh_in > 0 else None)

    def check(self) -> str:
        data = self._call("/seller/get", {}).get("data") or {}
        return str(data.get("name") or data.get("seller_id") or "ok")

    def lost_pushes(self) -> list[PushNotice]:
        return []

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        return None

    # Returns (reverse orders): see returns.py for the formats and their sources

    def list_returns(self, since: datetime, until: datetime, cursor: str | None) -> ReturnPage:
        """One page of reverse orders whose lines changed in [SINCE, UNTIL)
        (GetReverseOrdersForSeller, ``ReverseOrderLineModifiedTimeRange*`` in milliseconds,
        ``page_no`` from 1; the end is asked one millisecond early, so the window is
        half-open as the service cuts them). CURSOR is the next page number."""
        page = int(cursor or 1)
        answer = self._call("/reverse/getreverseordersforseller", {
            "page_no": str(page), "page_size": str(RETURNS_PAGE),
            "ReverseOrderLineModifiedTimeRangeStart": str(int(since.timestamp() * 1000)),
            "ReverseOrderLineModifiedTimeRangeEnd": str(int(until.timestamp() * 1000) - 1)})
        result = answer.get("result") or {}
        items = tuple(i for i in result.get("items") or [] if isinstance(i, dict))
        total = int(str(result.get("total") or 0))
        more = bool(items) and (page - 1) * RETURNS_PAGE + len(items) < total
        return ReturnPage(raws=items, next_cursor=str(page + 1) if more else None)

    def get_returns(self, return_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Each reverse order's detail (GetReverseOrderDetail); an id Lazada does not know
        (UNKNOWN_REVERSE_CODES) is left out, any other refusal raised."""
        found: list[dict[str, Any]] = []
        for return_id in return_ids:
            try:
                answer = self._call("/order/reverse/return/detail/list",
                                    {"reverse_order_id": str(return_id)})
            except LazadaRefused as error:
                if error.code in UNKNOWN_REVERSE_CODES:
                    continue
                raise
            data = answer.get("data")
            if isinstance(data, dict) and data.get("reverse_order_id"):
                found.append(data)
        return found

    def agree_return(self, return_id: str) -> None:
        """The seller agrees the buyer may send the parcel back (action agreeReturn on every
        line still open)."""
        open_lines = [line for line in reverse_lines(self._detail(return_id))
                      if return_status([line])[0] == "requested"]
        if open_lines:
            self._update(return_id, "agreeReturn", open_lines)

    def refund_return(self, ret: ChannelReturn) -> None:
        """Refund the reverse order through Lazada (ReverseOrderReturnUpdate, action
        agreeRefund) on the lines still open. The hub reads the reverse order first
        (get_returns: refunded there means done) and so does this call, on the detail it is
        about to act on: lines Lazada shows refunded or closed are never sent, and when none
        is open nothing is sent."""
        detail = self._detail(ret.return_id)
        lines = reverse_lines(detail)
        pending = [line for line in lines if return_status([line])[0] == "requested"]
        if not pending:
            status, shown = return_status(lines)
            if status == "refunded":
                return
            raise PlatformError(f"Lazada reverse order {ret.return_id} cannot be refunded: "
                                f"its lines are {shown}", transient=False)
        self._update(ret.return_id, "agreeRefund", pending)

    def _detail(self, return_id: str) -> dict[str, Any]:
        found = self.get_returns([return_id])
        if not found:
            raise PlatformError(f"Lazada does not know reverse order {return_id}",
                                transient=False)
        return found[0]

    def _update(self, return_id: str, action: str,
                lines: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        ids = ",".join(str(line.get("reverse_order_line_id")) for line in lines)
        answer = self._call("/order/reverse/return/update", {
            "action": action, "reverse_order_id": str(return_id),
            "reverse_order_item_ids": f"[{ids}]"})
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    # Lazada's calls

    def _items(self, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(order_ids), ITEMS_BATCH):
            batch = order_ids[start:start + ITEMS_BATCH]
            answer = self._call("/orders/items/get", {"order_ids": f"[{','.join(batch)}]"})
            for entry in answer.get("data") or []:
                if isinstance(entry, dict) and entry.get("order_items"):
                    found[str(entry.get("order_id"))] = list(entry["order_items"])
        return found

    def _call(self, path: str, params: dict[str, str], *, token: bool = True,
              auth: bool = False) -> dict[str, Any]:
        signed = {"app_key": self.account.secret("app_key"), "sign_method": SIGN_METHOD,
                  "timestamp": str(int(self.clock().timestamp() * 1000)), **params}
        if token:
            signed["access_token"] = (self.account.tokens.access_token
                                      or self.account.secret("access_token"))
        signed["sign"] = sign_request(path, signed, self.account.secret("app_secret"))
        try:
            if auth:
                response = self.http.post(f"{self.auth_url}{path}", data=signed)
            else:
                response = self.http.get(f"{self.base_url}{path}", params=signed)
        except httpx.HTTPError as error:
            raise PlatformError(f"Lazada {path}: {type(error).__name__}: {error}") from None
        return _answer(response, path)


def _answer(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        code = str(body.get("code", "0"))
        message = str(body.get("message") or "")
        if code in TOKEN_CODES:
            raise TokenExpired(f"Lazada {path}: {code}: {message}")
        if code in THROTTLE_CODES:
            ban = _BAN.search(message)
            raise RateLimited(f"Lazada {path}: {code}: {message}",
                              float(ban.group(1)) if ban else 1.0)
    raise_for_status(response, f"Lazada {path}")
    if not isinstance(body, dict):
        raise PlatformError(f"Lazada {path}: the answer is not a JSON object: "
                            f"{response.text[:200]!r}")
    if str(body.get("code", "0")) != "0":
        kind = str(body.get("type") or "")
        raise LazadaRefused(f"Lazada {path}: {body.get('code')}: {body.get('message')}",
                            str(body.get("code")), transient=kind in ("ISP", "SYSTEM"),
                            status_code=response.status_code)
    return body


def _moment(value: object) -> str:
    """An order's update time as the ISO text the time filters take ("" when unreadable)."""
    try:
        return lazada_time(value, "updated_at").isoformat(timespec="seconds")
    except MappingError:
        return ""


def _read_cursor(cursor: str | None, since: datetime) -> tuple[int, str]:
    if not cursor:
        return 0, since.isoformat(timespec="seconds")
    offset, _, after = cursor.partition("@")
    return int(offset or 0), after or since.isoformat(timespec="seconds")
