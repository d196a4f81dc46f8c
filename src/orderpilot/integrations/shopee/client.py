"""The Shopee Open Platform v2 client for one shop, on the hub's guarded httpx client.

Wire facts (official reference, mirrored in github.com/congminh1254/shopee-sdk ``schemas/``;
guides https://open.shopee.com/developer-guide/16 and /20):

* Every call carries ``partner_id``, ``timestamp``, ``sign`` in the query; a Shop API also
  ``access_token`` and ``shop_id`` (see signing.py). Answers are JSON with ``error`` (empty when
  none), ``message``, ``request_id`` and ``response``.
* ``GET /api/v2/order/get_order_list``: ``time_range_field=update_time``, ``time_from``,
  ``time_to`` (at most 15 days apart: error ``order.order_list_invalid_time``), ``page_size``
  1..100, ``cursor``; answers ``more``, ``next_cursor``, ``order_list[].order_sn``.
* ``GET /api/v2/order/get_order_detail``: ``order_sn_list`` comma-joined, 1..50;
  ``response_optional_fields`` comma-joined.
* ``POST /api/v2/payment/get_escrow_detail_batch``: ``{"order_sn_list": [...]}`` (1..50),
  answers ``response[].escrow_detail`` (POST as the shopee-sdk manager sends it; the reference
  does not state the method clearly).
* ``POST /api/v2/auth/access_token/get`` (Public): ``{"refresh_token", "partner_id",
  "shop_id"}`` (ints) -> ``access_token``, ``refresh_token`` (single use, valid 30 days),
  ``expire_in`` (seconds; 14400 = 4 hours in the sample).
* ``GET /api/v2/push/get_lost_push_message`` (Public): the earliest 100 unconfirmed pushes of
  the last 3 days, ``push_message_list[]`` of ``shop_id``, ``code``, ``timestamp``, ``data``
  (the push body; a string in the field table, an object in the sample: both are read),
  ``has_next_page``, ``last_message_id``; ``POST /api/v2/push/confirm_consumed_lost_push_
  message`` ``{"last_message_id"}``.
* ``POST /api/v2/order/cancel_order`` ``{"order_sn", "cancel_reason", "item_list"?}``:
  the seller cancels an order "before the order has been shipped"; ``cancel_reason`` one of
  OUT_OF_STOCK, CUSTOMER_REQUEST, UNDELIVERABLE_AREA ("Only apply for TW and MY"),
  COD_NOT_SUPPORTED; ``item_list[]`` of ``item_id``/``model_id`` "Required when cancel_reason
  is OUT_OF_STOCK"; answers ``response.update_time``; refusals include ``order.error_limit``
  "Can not cancel this order" (shopee-sdk ``schemas/v2.order.cancel_order.json``).
* Errors: ``error_auth`` "Invalid access_token." and ``invalid_acceess_token`` (sic, in the
  common error list) -> TokenExpired; ``error_rate_limit`` "Too many requests" (and HTTP 429)
  -> RateLimited; ``error_server``/``error_network``/``error_busy`` -> transient. The HTTP
  statuses of these answers are not documented.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from math import ceil, floor
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
    answer_json,
    raise_for_status,
)
from orderpilot.domain.channel_orders import MappingError, PushNotice
from orderpilot.integrations.shopee.push import notice_of, shop_of
from orderpilot.integrations.shopee.signing import sign

PRODUCTION_HOST = "https://partner.shopeemobile.com"
MAX_WINDOW = timedelta(days=15)
PAGE_SIZE = 100
FETCH_BATCH = 50
CANCEL_PATH = "/api/v2/order/cancel_order"
# Our cancel reasons (domain/cancellation.py) -> Shopee's cancel_reason.
CANCEL_REASONS = {"out_of_stock": "OUT_OF_STOCK", "customer_request": "CUSTOMER_REQUEST",
                  "undeliverable": "UNDELIVERABLE_AREA"}
REFRESH_TOKEN_LIFE = timedelta(days=30)
DETAIL_FIELDS = ("buyer_user_id,buyer_username,estimated_shipping_fee,recipient_address,"
                 "actual_shipping_fee,goods_to_declare,note,note_update_time,item_list,"
                 "pay_time,dropshipper,dropshipper_phone,split_up,buyer_cancel_reason,"
                 "cancel_by,cancel_reason,actual_shipping_fee_confirmed,fulfillment_flag,"
                 "pickup_done_time,package_list,shipping_carrier,payment_method,total_amount,"
                 "invoice_data,order_chargeable_weight_gram,return_request_due_date,edt,"
                 "payment_info")
TOKEN_ERRORS = frozenset({"invalid_acceess_token", "invalid_access_token",
                          "error_access_token", "error_token"})
RATE_ERRORS = frozenset({"error_rate_limit", "error_too_many_request", "too_many_request"})
TRANSIENT_ERRORS = frozenset({"error_server", "error_network", "error_busy", "error_inner",
                              "error_system"})


def default_base_url(region: str) -> str:
    """Shopee's documented production host for developers outside Chinese Mainland and the
    Americas (https://open.shopee.com/developer-guide/16); the same for every shop region."""
    return PRODUCTION_HOST


class ShopeeClient:
    def __init__(self, account: Account, http: httpx.Client, clock: Clock) -> None:
        self.account = account
        self.http = http
        self.clock = clock
        self.base_url = (account.base_url or default_base_url(account.region)).rstrip("/")

    # -- the ChannelClient protocol ------------------------------------------------------

    def list_orders(self, since: datetime, until: datetime, cursor: str | None) -> OrderPage:
        """Orders updated in [SINCE, UNTIL), one page. Windows over 15 days are walked in
        15-day steps; our cursor is ``<window start>:<Shopee's cursor>``. ``time_to`` is
        rounded up to the second, so an order may appear in two windows (the hub dedups)."""
        start = floor(since.timestamp())
        shopee_cursor = ""
        if cursor:
            head, _, shopee_cursor = cursor.partition(":")
            start = int(head)
        end = ceil(until.timestamp())
        window_end = min(end, start + int(MAX_WINDOW.total_seconds()))
        answer = self._shop_call("GET", "/api/v2/order/get_order_list", query={
            "time_range_field": "update_time", "time_from": start, "time_to": window_end,
            "page_size": PAGE_SIZE, "cursor": shopee_cursor,
            "response_optional_fields": "order_status"})
        response = _response(answer, "get_order_list")
        refs = tuple(str(o["order_sn"]) for o in response.get("order_list") or ()
                     if isinstance(o, Mapping) and o.get("order_sn"))
        if response.get("more") and response.get("next_cursor"):
            next_cursor: str | None = f"{start}:{response['next_cursor']}"
        elif window_end < end:
            next_cursor = f"{window_end}:"
        else:
            next_cursor = None
        return OrderPage(refs=refs, next_cursor=next_cursor)

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Whole orders (items, packages, address) with the escrow detail of paid ones merged
        as ``escrow_detail``; unknown ids are left out."""
        found: list[dict[str, Any]] = []
        ids = list(dict.fromkeys(external_ids))
        for i in range(0, len(ids), FETCH_BATCH):
            batch = ids[i:i + FETCH_BATCH]
            answer = self._shop_call("GET", "/api/v2/order/get_order_detail", query={
                "order_sn_list": ",".join(batch), "response_optional_fields": DETAIL_FIELDS})
            orders = [dict(o) for o in _response(answer, "get_order_detail")
                      .get("order_list") or () if isinstance(o, Mapping)]
            self._merge_escrow(orders)
            found += orders
        return found

    def refresh(self) -> Tokens | None:
        now = self.clock()
        refresh_token = (self.account.tokens.refresh_token
                         or self.account.secret("refresh_token"))
        answer = self._call("POST", "/api/v2/auth/access_token/get", shop_level=False, body={
            "refresh_token": refresh_token, "partner_id": _int(self._partner_id()),
            "shop_id": _int(self.account.shop_id)})
        expire_in = answer.get("expire_in")
        if not answer.get("access_token") or not isinstance(expire_in, int):
            raise PlatformError(f"refresh access token: no access_token/expire_in in "
                                f"{str(answer)[:200]!r}", transient=False)
        return Tokens(access_token=str(answer["access_token"]),
                      refresh_token=str(answer.get("refresh_token") or refresh_token),
                      expires_at=now + timedelta(seconds=expire_in),
                      refresh_expires_at=now + REFRESH_TOKEN_LIFE)

    def check(self) -> str:
        answer = self._shop_call("GET", "/api/v2/shop/get_shop_info")
        return str(answer.get("shop_name") or f"shop {self.account.shop_id}")

    def lost_pushes(self) -> list[PushNotice]:
        """This shop's pushes Shopee could not deliver (the earliest 100). The API is
        partner-wide: another shop's messages come back as kind="other"."""
        return [notice for notice, _ in self._lost_page()[0]]

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        """Confirm the page of lost pushes once NOTICES hold every order message of this shop
        in it (Shopee confirms up to a message id, so a page is taken whole or not at all)."""
        page, last_id = self._lost_page()
        taken = {n.dedup_key for n in notices}
        if not page or last_id is None:
            return
        if any(n.kind == "order" and n.dedup_key not in taken for n, _ in page):
            return
        self._call("POST", "/api/v2/push/confirm_consumed_lost_push_message",
                   shop_level=False, body={"last_message_id": last_id})

    # -- helpers --------------------------------------------------------------------------

    def _lost_page(self) -> tuple[list[tuple[PushNotice, str]], int | None]:
        answer = self._call("GET", "/api/v2/push/get_lost_push_message", shop_level=False)
        response = _response(answer, "get_lost_push_message")
        page = []
        for entry in response.get("push_message_list") or ():
            if not isinstance(entry, Mapping):
                continue
            message = _push_body(entry)
            digest = f"lost:{entry.get('shop_id')}:{entry.get('code')}:{entry.get('timestamp')}"
            try:
                notice = notice_of(message, digest)
            except MappingError:
                notice = PushNotice(external_id="", dedup_key=f"shopee:other:{digest}",
                                    kind="other")
            shop = shop_of(message) or str(entry.get("shop_id") or "")
            if notice.kind == "order" and shop != str(self.account.shop_id):
                notice = PushNotice(external_id=notice.external_id,
                                    dedup_key=notice.dedup_key, status=notice.status,
                                    update_time=notice.update_time, kind="other")
            page.append((notice, shop))
        last = response.get("last_message_id")
        return page, last if isinstance(last, int) else None

    def _merge_escrow(self, orders: list[dict[str, Any]]) -> None:
        paid = [str(o["order_sn"]) for o in orders
                if o.get("pay_time") and o.get("order_sn") and o.get("order_status") != "UNPAID"]
        if not paid:
            return
        try:
            answer = self._shop_call("POST", "/api/v2/payment/get_escrow_detail_batch",
                                     body={"order_sn_list": paid})
        except (RateLimited, TokenExpired):
            raise
        except PlatformError:
            return  # the orders map without it: vouchers and coins stay in "other"
        entries = answer.get("response")
        details = {}
        for entry in entries if isinstance(entries, list) else ():
            detail = entry.get("escrow_detail") if isinstance(entry, Mapping) else None
            if isinstance(detail, Mapping) and detail.get("order_sn"):
                details[str(detail["order_sn"])] = detail
        for order in orders:
            if str(order.get("order_sn")) in details:
                order["escrow_detail"] = details[str(order["order_sn"])]

    def cancel_order(self, raw: Mapping[str, Any], reason: str) -> None:
        """Cancel RAW (the order as get_order_detail answered it) as the seller, for REASON
        (Shopee's code); an out-of-stock cancellation names every item of the order."""
        body: dict[str, Any] = {"order_sn": str(raw.get("order_sn")), "cancel_reason": reason}
        if reason == "OUT_OF_STOCK":
            body["item_list"] = [{"item_id": _int(str(item.get("item_id"))),
                                  "model_id": _int(str(item.get("model_id") or 0))}
                                 for item in raw.get("item_list") or ()
                                 if isinstance(item, Mapping)]
        self._shop_call("POST", CANCEL_PATH, body=body)

    def _partner_id(self) -> str:
        return self.account.secret("partner_id")

    def _shop_call(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                   body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        answer = self._call(method, path, query=query, body=body, shop_level=True)
        if answer.get("error"):
            _raise(answer, path)
        return answer

    def _call(self, method: str, path: str, *, shop_level: bool,
              query: Mapping[str, Any] | None = None,
              body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        timestamp = int(self.clock().timestamp())
        partner_id = self._partner_id()
        params: dict[str, Any] = {"partner_id": partner_id, "timestamp": timestamp}
        token = shop = ""
        if shop_level:
            token = (self.account.tokens.access_token
                     or self.account.secret("access_token"))
            shop = str(self.account.shop_id)
            params |= {"access_token": token, "shop_id": shop}
        params["sign"] = sign(self.account.secret("partner_key"), partner_id, path,
                              timestamp, token, shop)
        params |= dict(query or {})
        try:
            response = self.http.request(
                method, f"{self.base_url}{path}", params=params,
                content=json.dumps(body).encode() if body is not None else None,
                headers={"Content-Type": "application/json"})
        except httpx.TimeoutException as error:
            raise PlatformError(f"{path}: timed out ({error})") from None
        except httpx.TransportError as error:
            raise PlatformError(f"{path}: {type(error).__name__}: {error}") from None
        if response.status_code == 429:
            raise_for_status(response, path)
        try:
            answer = answer_json(response, path)
        except PlatformError:
            raise_for_status(response, path)
            raise
        if not isinstance(answer, dict):
            raise PlatformError(f"{path}: the answer is not a JSON object", transient=False)
        if answer.get("error"):
            _raise(answer, path, refreshing=not shop_level)
        raise_for_status(response, path)
        return answer


def _raise(answer: Mapping[str, Any], what: str, *, refreshing: bool = False) -> None:
    error = str(answer.get("error") or "")
    message = str(answer.get("message") or "")
    code = error.rsplit(".", 1)[-1]  # "common.error_auth" in the field table's sample
    said = f"{what}: {error}: {message}"[:300]
    if code in RATE_ERRORS:
        raise RateLimited(said, 1.0)
    if not refreshing and (code in TOKEN_ERRORS
                           or (code == "error_auth" and "access_token" in message)):
        raise TokenExpired(said)
    raise PlatformError(said, transient=code in TRANSIENT_ERRORS)


def _response(answer: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    response = answer.get("response")
    if not isinstance(response, Mapping):
        raise PlatformError(f"{what}: the answer has no response object", transient=False)
    return response


def _push_body(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    data = entry.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if isinstance(data, Mapping) and "code" in data:
        return data
    return {"code": entry.get("code"), "shop_id": entry.get("shop_id"),
            "timestamp": entry.get("timestamp"), "data": data if isinstance(data, Mapping)
            else {}}


def _int(value: str) -> int | str:
    return int(value) if value.isdigit() else value
