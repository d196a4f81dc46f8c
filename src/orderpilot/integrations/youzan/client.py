"""The Youzan Cloud open API for one shop (kdt_id = the account's shop_id).

* Token (自用型应用, "silent"): ``POST {host}/auth/token`` JSON ``{client_id, client_secret,
  authorize_type: "silent", grant_id: kdt_id, refresh}`` -> ``{success, code, message, data:
  {access_token, expires (epoch milliseconds), scope, authority_id}}``; a token lasts 7 days;
  asking again with ``refresh: true`` gives a new one. Errors: ``{"success": false, "code":
  1103, "data": null, "message": "Client 不存在"}`` (HTTP 200). Sources: Youzan's PHP SDK
  github.com/youzan/open-sdk-php src/Open/Token.php and src/Open/Config/HttpConfig.php;
  the Node SDK github.com/youzan/open-sdk-node src/token.js; ``expires`` in milliseconds and
  the 7-day default as handled by public clients; the probe log of the real gateway quoted
  below.
* Calls: ``POST {host}/api/{api}/{version}?access_token=...`` with a JSON body (HttpConfig.php
  ``/api/%s/%s?access_token=%s``; Http.php posts ``json``). The token is only read from the
  query string. Gateway errors come with HTTP 200 as ``{"gw_err_resp": {"trace_id",
  "err_code", "err_msg"}}``: 4201 非法的请求凭证 (no token), 4203 "Token 不存在", 4005 非法的API,
  4001 bad path, 4007 bad content type — a published probe of open.youzanyun.com
  (2026-09-11, "有赞云无凭证探测记录"). 4202 (请求凭证已过期, the expired token) is from
  Youzan's error code table as recalled there and NOT verified; it is treated like 4203.
  Business errors: ``{"success": false, "code": N, "message"}``.
* Rate limiting: NOT verified. HTTP 429 and any gateway error whose message speaks of 限流 /
  频率 / frequency are read as rate limiting; Youzan documents no Retry-After.
* youzan.trades.sold.get 4.0.4: ``start_update``/``end_update`` "yyyy-MM-dd HH:mm:ss"
  (Beijing), pairs, span <= 3 months; ``page_no`` 1..100, ``page_size`` <= 100,
  page_no x page_size <= 3200; answer ``data: {full_order_info_list: [{full_order_info}],
  total_results}``. Sources: github.com/waywake/youzan-sdk-ts
  src/api-types/youzan-trades-sold-get-v404.ts; the SDK's YouzanTradesSoldGetParams docs
  ("page_size 和page_no相乘总条数不能大于3200条"); https://doc.youzanyun.com/detail/API/0/3887.
  A window holding more than 3200 orders is split in halves here until each fits.
* youzan.trade.get 4.0.2 ``{tid}`` -> ``data`` = the whole trade (mapping.py).
* youzan.cloud.secret.decrypt.batch 1.0.0 ``{sources}`` -> ``data`` = {cipher: plain}
  (decryption.py, with its sources).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from orderpilot.adapters.channels.base import (
    Clock,
    OrderPage,
    answer_json,
    dumps,
    raise_for_status,
)
from orderpilot.domain.channel_orders import (
    Account,
    PlatformError,
    PushNotice,
    RateLimited,
    TokenExpired,
    Tokens,
    from_millis,
)
from orderpilot.domain.channel_returns import ChannelReturn, ReturnPage
from orderpilot.integrations.youzan import refund_calls
from orderpilot.integrations.youzan.decryption import DECRYPT_API, DECRYPT_VERSION
from orderpilot.integrations.youzan.mapping import lines_by_oid
from orderpilot.integrations.youzan.refunds import with_order_lines

HOST = "https://open.youzanyun.com"
BEIJING = ZoneInfo("Asia/Shanghai")
LIST_API, LIST_VERSION = "youzan.trades.sold.get", "4.0.4"
GET_API, GET_VERSION = "youzan.trade.get", "4.0.2"
SHOP_API, SHOP_VERSION = "youzan.shop.basic.get", "3.0.0"
PAGE_SIZE = 100
MAX_RESULTS = 3200  # page_no x page_size
TOKEN_CODES = frozenset({4201, 4202, 4203})
THROTTLE_WORDS = ("限流", "频率", "频繁", "too many", "frequency", "rate limit")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class BusinessError(PlatformError):
    """The API answered ``success: false`` (not a gateway error): e.g. no such order. CODE is
    Youzan's business code when it is a number."""

    def __init__(self, message: str, *, code: int | None = None, transient: bool = False,
                 status_code: int | None = None) -> None:
        super().__init__(message, transient=transient, status_code=status_code)
        self.code = code


def default_base_url(region: str) -> str:
    return HOST


def beijing(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime(TIME_FORMAT)


class YouzanClient:
    def __init__(self, account: Account, http: httpx.Client, clock: Clock) -> None:
        self.account = account
        self.http = http
        self.clock = clock
        self.base = (account.base_url or default_base_url(account.region)).rstrip("/")
        self.token = account.tokens.access_token or account.secret("access_token")

    # -- calls -------------------------------------------------------------------------
    def call(self, api: str, version: str, params: dict[str, Any]) -> Any:
        if not self.token:
            raise TokenExpired(f"{api}: no access token yet")
        what = f"youzan {api}"
        try:
            response = self.http.post(
                f"{self.base}/api/{api}/{version}", params={"access_token": self.token},
                content=dumps(params).encode(), headers={"Content-Type": "application/json"})
        except httpx.HTTPError as error:
            raise PlatformError(f"{what}: {type(error).__name__}: {error}") from None
        try:
            body = answer_json(response, what)
        except PlatformError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("gw_err_resp"), dict):
            _gateway_error(body["gw_err_resp"], what, response.status_code)
        raise_for_status(response, what)
        if not isinstance(body, dict):
            raise PlatformError(f"{what}: the answer is not a JSON object: "
                                f"{response.text[:200]!r}", transient=False)
        if body.get("success") is False or str(body.get("code", 200)) != "200":
            raise BusinessError(f"{what}: code {body.get('code')}: {body.get('message')}",
                                code=_code(body.get("code")), status_code=response.status_code)
        return body.get("data", body.get("response"))

    def list_orders(self, since: datetime, until: datetime, cursor: str | None) -> OrderPage:
        state: dict[str, Any] = json.loads(cursor) if cursor else {
            "w": [[beijing(since), beijing(until - timedelta(microseconds=1))]], "p": 1}
        windows: list[list[str]] = state["w"]
        page = int(state["p"])
        while windows:
            start, end = windows[0]
            data = self._sold(start, end, page)
            total = int(data.get("total_results") or 0)
            if page == 1 and total > MAX_RESULTS and start < end:
                windows[0:1] = _halves(start, end)
                continue
            refs = tuple(_tid(entry) for entry in data.get("full_order_info_list") or [])
            if refs and page * PAGE_SIZE < min(total, MAX_RESULTS):
                return OrderPage(refs=refs, next_cursor=json.dumps({"w": windows, "p": page + 1}))
            rest = windows[1:]
            return OrderPage(refs=refs,
                             next_cursor=json.dumps({"w": rest, "p": 1}) if rest else None)
        return OrderPage()

    def _sold(self, start: str, end: str, page: int) -> dict[str, Any]:
        data = self.call(LIST_API, LIST_VERSION, {"start_update": start, "end_update": end,
                                                  "page_no": page, "page_size": PAGE_SIZE})
        return data if isinstance(data, dict) else {}

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        found = []
        for tid in external_ids:
            try:
                data = self.call(GET_API, GET_VERSION, {"tid": tid})
            except BusinessError:
                continue  # the platform does not know this order: left out
            if isinstance(data, dict) and data.get("full_order_info"):
                found.append(data)
        return found

    def decrypt(self, sources: Sequence[str]) -> dict[str, str]:
        """youzan.cloud.secret.decrypt.batch (decryption.py): ciphertext -> plain text, for at
        most decryption.MAX_SOURCES non-empty SOURCES."""
        data = self.call(DECRYPT_API, DECRYPT_VERSION, {"sources": list(sources)})
        if not isinstance(data, dict):
            raise PlatformError(f"youzan {DECRYPT_API}: data is not an object: "
                                f"{str(data)[:200]!r}", transient=False)
        return {str(k): str(v) for k, v in data.items() if v is not None}

    def refresh(self) -> Tokens | None:
        what = "youzan auth/token"
        payload = {"client_id": self.account.secret("client_id"),
                   "client_secret": self.account.secret("client_secret"),
                   "authorize_type": "silent", "grant_id": self.account.shop_id, "refresh": True}
        try:
            response = self.http.post(f"{self.base}/auth/token", content=dumps(payload).encode(),
                                      headers={"Content-Type": "application/json"})
        except httpx.HTTPError as error:
            raise PlatformError(f"{what}: {type(error).__name__}: {error}") from None
        raise_for_status(response, what)
        body = answer_json(response, what)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not data.get("access_token"):
            code = body.get("code") if isinstance(body, dict) else None
            message = body.get("message") if isinstance(body, dict) else None
            raise PlatformError(f"{what}: code {code}: {message}", transient=False)
        self.token = str(data["access_token"])
        return Tokens(access_token=self.token, expires_at=self._expiry(data.get("expires")))

    def _expiry(self, value: object) -> datetime:
        try:
            number = int(str(value))
        except ValueError:
            return self.clock() + timedelta(days=7)
        if number > 10**11:  # epoch milliseconds, as documented
            return from_millis(number, "data.expires")
        if number > 10**9:  # epoch seconds
            return from_millis(number * 1000, "data.expires")
        return self.clock() + timedelta(seconds=number)

    def check(self) -> str:
        data = self.call(SHOP_API, SHOP_VERSION, {})
        name = data.get("name") if isinstance(data, dict) else None
        return str(name or f"kdt_id {self.account.shop_id}")

    # -- after-sales (维权): refund_calls.py, formats in refunds.py ------------------------
    def get_refund(self, refund_id: str) -> dict[str, Any] | None:
        return refund_calls.get_refund(self, refund_id)

    def list_returns(self, since: datetime, until: datetime, cursor: str | None) -> ReturnPage:
        page = refund_calls.list_refunds(self, since, until, cursor)
        return ReturnPage(refs=page.refund_ids, next_cursor=page.next_cursor)

    def get_returns(self, return_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Each refund (refund.get) with its order's lines (youzan.trade.get, once per
        order): refunds.with_order_lines. A refund Youzan does not know is left out."""
        found: list[dict[str, Any]] = []
        lines: dict[str, dict[str, tuple[str, int]]] = {}
        for refund_id in return_ids:
            refund = self.get_refund(refund_id)
            if refund is None:
                continue
            tid = str(refund.get("tid") or "")
            if tid not in lines:
                trades = self.get_orders([tid]) if tid else []
                lines[tid] = lines_by_oid(trades[0]) if trades else {}
            found.append(with_order_lines(refund, lines[tid]))
        return found

    def refund_return(self, ret: ChannelReturn) -> None:
        """Pay RET's refund at Youzan (refund.agree), read before acting: refund_calls.py."""
        refund_calls.agree_refund(self, ret.return_id)

    def agree_return_goods(self, refund_id: str, to: refund_calls.ReturnAddress
                           ) -> refund_calls.Agreed:
        return refund_calls.agree_return_goods(self, refund_id, to)

    def lost_pushes(self) -> list[PushNotice]:
        return []

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        return None


def _gateway_error(error: dict[str, Any], what: str, status: int) -> None:
    try:
        code = int(str(error.get("err_code")))
    except ValueError:
        code = 0
    message = str(error.get("err_msg") or "")
    if code in TOKEN_CODES:
        raise TokenExpired(f"{what}: {code} {message}")
    if status == 429 or code == 429 or any(w in message.lower() for w in THROTTLE_WORDS):
        raise RateLimited(f"{what}: rate limited: {code} {message}", 1.0)
    raise PlatformError(f"{what}: gateway error {code}: {message}", transient=False,
                        status_code=status)


def _code(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _tid(entry: Any) -> str:
    try:
        return str(entry["full_order_info"]["order_info"]["tid"])
    except (KeyError, TypeError):
        raise PlatformError(f"youzan {LIST_API}: a listed trade has no "
                            f"full_order_info.order_info.tid: {str(entry)[:200]}",
                            transient=False) from None


def _halves(start: str, end: str) -> list[list[str]]:
    a = datetime.strptime(start, TIME_FORMAT)
    b = datetime.strptime(end, TIME_FORMAT)
    middle = a + (b - a) // 2
    return [[start, middle.strftime(TIME_FORMAT)],
            [(middle + timedelta(seconds=1)).strftime(TIME_FORMAT), end]]


def client(account: Account, http: httpx.Client, clock: Clock) -> YouzanClient:
    return YouzanClient(account, http, clock)
