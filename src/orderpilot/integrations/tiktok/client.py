"""The TikTok Shop Partner API (version 202309) for one shop, on the hub's guarded client.

Wire facts (TikTok Shop Partner Center documentation):

* Host ``https://open-api.tiktokglobalshop.com`` for every region; common query parameters
  ``app_key``, ``timestamp`` (unix seconds), ``sign`` and, for shop-scoped calls,
  ``shop_cipher``; headers ``x-tts-access-token`` and ``content-type: application/json``
  (https://partner.tiktokshop.com/docv2/page/common-parameters,
  https://partner.tiktokshop.com/docv2/page/sign-your-api-request). Signing: ``signing.py``.
* Answers are ``{"code", "message", "data", "request_id"}``; ``code`` 0 is success.
  ``105002`` is an expired access token, ``106001`` a bad signature, ``36009004`` invalid
  credentials (the message names which, e.g. the ``x-tts-access-token`` header),
  ``36009002`` or HTTP 429 a rate limit; TikTok sends no documented ``Retry-After``
  (https://partner.tiktokshop.com/docv2/page/common-errors,
  https://partner.tiktokshop.com/docv2/page/64f1991d64ed2e0295f3d2c0 "Rate limits").
* Get Order List: ``POST /order/202309/orders/search`` with ``page_size`` (1..100),
  ``page_token``, ``sort_field`` (``create_time`` | ``update_time``) and ``sort_order`` in
  the query, filters (``update_time_ge``, ``update_time_lt``, ...) in the JSON body; the
  answer's ``data`` has ``orders`` (whole orders, line items included), ``next_page_token``
  and ``total_count`` (https://partner.tiktokshop.com/docv2/page/get-order-list-202309). No
  maximum time window is documented; the hub's puller asks for windows of a day at most.
* Get Order Detail: ``GET /order/202309/orders?ids=a,b`` with at most 50 ids
  (https://partner.tiktokshop.com/docv2/page/get-order-detail-202309).
* Get Authorized Shops: ``GET /authorization/202309/shops`` (no ``shop_cipher``)
  (https://partner.tiktokshop.com/docv2/page/get-authorized-shops).
* Refresh: ``GET https://auth.tiktok-shops.com/api/v2/token/refresh`` with ``app_key``,
  ``app_secret``, ``refresh_token`` and ``grant_type=refresh_token``; ``data`` has
  ``access_token``, ``access_token_expire_in`` and ``refresh_token_expire_in`` as unix times
  (not durations) and ``refresh_token``
  (https://partner.tiktokshop.com/docv2/page/authorization-overview-202407). The sandbox
  pair is ``open-api-sandbox.tiktokglobalshop.com`` / ``auth-sandbox.tiktok-shops.com``
  (https://help.useresponse.com/hemi/knowledge-base/article/marketplaces-tiktok-marketplace-
  integration-v2-tiktok-authentication-database-structure_1; not on a TikTok page read here).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

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
    dumps,
)
from orderpilot.domain.channel_orders import MappingError, PushNotice, from_unix
from orderpilot.integrations.tiktok.signing import request_sign

API_HOST = "https://open-api.tiktokglobalshop.com"
AUTH_HOST = "https://auth.tiktok-shops.com"
# The token host of each API host; any other base URL (the simulator) serves both.
AUTH_HOSTS = {"open-api.tiktokglobalshop.com": AUTH_HOST,
              "open-api-sandbox.tiktokglobalshop.com": "https://auth-sandbox.tiktok-shops.com"}
SEARCH_PATH = "/order/202309/orders/search"
DETAIL_PATH = "/order/202309/orders"
SHOPS_PATH = "/authorization/202309/shops"
REFRESH_PATH = "/api/v2/token/refresh"
PAGE_SIZE = 100
DETAIL_BATCH = 50
EXPIRED = frozenset({105002})
THROTTLED = frozenset({36009002})
INVALID_CREDENTIALS = 36009004
TRANSIENT = frozenset({36009003, 36009007})  # internal error, request timeout


def default_base_url(region: str) -> str:
    """Every region is served from one documented host."""
    return API_HOST


class TikTokShopClient:
    """One TikTok shop (its ``shop_cipher``) for the hub: list, fetch, refresh, check."""

    def __init__(self, account: Account, http: httpx.Client, clock: Clock) -> None:
        self.account = account
        self.http = http
        self.clock = clock
        self.base = (account.base_url or default_base_url(account.region)).rstrip("/")
        self.auth_base = AUTH_HOSTS.get(urlsplit(self.base).netloc, self.base)

    def list_orders(self, since: datetime, until: datetime,
                    cursor: str | None) -> OrderPage:
        """Orders updated in [SINCE, UNTIL), oldest update first, 100 a page. The list
        carries whole orders, so the page's ``raws`` are the orders themselves."""
        query = {"page_size": str(PAGE_SIZE), "sort_field": "update_time",
                 "sort_order": "ASC"}
        if cursor:
            query["page_token"] = cursor
        body = {"update_time_ge": math.floor(since.timestamp()),
                "update_time_lt": math.ceil(until.timestamp())}
        data = self._call("POST", SEARCH_PATH, query, body, what="get order list")
        orders = _orders(data, "get order list")
        token = str(data.get("next_page_token") or "")
        return OrderPage(raws=tuple(orders), next_cursor=token if token and orders else None)

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Whole orders by id, 50 a call; an id TikTok does not know is left out."""
        found: list[dict[str, Any]] = []
        ids = [str(i) for i in external_ids]
        for start in range(0, len(ids), DETAIL_BATCH):
            chunk = ids[start:start + DETAIL_BATCH]
            data = self._call("GET", DETAIL_PATH, {"ids": ",".join(chunk)}, None,
                              what="get order detail")
            found += _orders(data, "get order detail")
        return found

    def refresh(self) -> Tokens | None:
        refresh_token = self.account.tokens.refresh_token or self.account.secret("refresh_token")
        if not refresh_token:
            raise PlatformError("TikTok Shop: no refresh token for this shop; authorise the "
                                "app again in Partner Center", transient=False)
        query = {"app_key": self.account.secret("app_key"),
                 "app_secret": self.account.secret("app_secret"),
                 "refresh_token": refresh_token, "grant_type": "refresh_token"}
        response = self._send("GET", self.auth_base + REFRESH_PATH, query, b"", {},
                              "refresh token")
        data = _data(response, "refresh token")
        try:
            return Tokens(
                access_token=str(data["access_token"]),
                refresh_token=str(data.get("refresh_token") or refresh_token),
                expires_at=from_unix(data["access_token_expire_in"],
                                     "access_token_expire_in"),
                refresh_expires_at=(from_unix(data["refresh_token_expire_in"],
                                              "refresh_token_expire_in")
                                    if data.get("refresh_token_expire_in") else None))
        except (KeyError, MappingError) as error:
            raise PlatformError(f"refresh token: unexpected answer ({error})",
                                transient=False) from None

    def check(self) -> str:
        data = self._call("GET", SHOPS_PATH, {}, None, what="get authorized shops",
                          shop=False)
        shops = data.get("shops") or []
        names = [f"{s.get('name') or s.get('id')} ({s.get('region', '')})"
                 for s in shops if isinstance(s, Mapping)]
        return ", ".join(names) or "no authorised shop"

    def lost_pushes(self) -> list[PushNotice]:
        return []

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        return None

    def _call(self, method: str, path: str, query: Mapping[str, str],
              body: Mapping[str, Any] | None, *, what: str, shop: bool = True) -> Any:
        """One signed call; the answer's ``data``."""
        signed = {"app_key": self.account.secret("app_key"),
                  "timestamp": str(math.floor(self.clock().timestamp())), **query}
        if shop:
            signed["shop_cipher"] = self.account.secret("shop_cipher")
        content = dumps(body).encode() if body is not None else b""
        signed_path = urlsplit(self.base).path.rstrip("/") + path
        signed["sign"] = request_sign(self.account.secret("app_secret"), signed_path, signed,
                                      content)
        token = self.account.tokens.access_token or self.account.secret("access_token")
        headers = {"x-tts-access-token": token, "content-type": "application/json"}
        response = self._send(method, self.base + path, signed, content, headers, what)
        return _data(response, what)

    def _send(self, method: str, url: str, query: Mapping[str, str], content: bytes,
              headers: Mapping[str, str], what: str) -> httpx.Response:
        try:
            return self.http.request(method, url, params=dict(query), content=content or None,
                                     headers=dict(headers))
        except httpx.HTTPError as error:
            raise PlatformError(f"{what}: {type(error).__name__}", transient=True) from None


def _data(response: httpx.Response, what: str) -> Any:
    """The ``data`` of a TikTok answer, or the error it means."""
    status = response.status_code
    if status == 429:
        raise RateLimited(f"{what}: rate limited (HTTP 429)", _wait(response))
    body = answer_json(response, what)
    if not isinstance(body, Mapping):
        raise PlatformError(f"{what}: the answer is not an object", status_code=status,
                            transient=status >= 500)
    code = body.get("code")
    message = str(body.get("message") or "")
    if code == 0 and status < 400:
        data = body.get("data")
        return data if isinstance(data, Mapping) else {}
    said = f"{what}: TikTok code {code} (HTTP {status}): {message[:200]}"
    lowered = message.lower()
    if code in EXPIRED or (code == INVALID_CREDENTIALS and "access" in lowered
                           and "token" in lowered):
        raise TokenExpired(said)
    if code in THROTTLED:
        raise RateLimited(said, _wait(response))
    raise PlatformError(said, status_code=status,
                        transient=status >= 500 or code in TRANSIENT)


def _wait(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("retry-after") or 1), 0.05), 60)
    except ValueError:
        return 1.0


def _orders(data: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
    orders = data.get("orders") or []
    if not isinstance(orders, list):
        raise PlatformError(f"{what}: data.orders is not a list", transient=False)
    return [dict(o) for o in orders if isinstance(o, Mapping)]


def client(account: Account, http: httpx.Client, clock: Clock) -> TikTokShopClient:
    return TikTokShopClient(account, http, clock)
