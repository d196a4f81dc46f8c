"""The Shopify Admin REST API client for one shop (the company's own store).

* Host: ``https://{shop}.myshopify.com/admin/api/{version}/``, ``shop`` being the account's
  ``shop_id`` (its myshopify sub-domain); ``account.base_url`` replaces the host (tests,
  the simulator). Every call carries ``X-Shopify-Access-Token``
  (https://shopify.dev/docs/api/admin-rest, "Authentication").
* List by update time: ``GET orders.json?status=any&updated_at_min=&updated_at_max=
  &limit=250&order=updated_at asc`` (``status`` defaults to open, so ``any`` is needed;
  limit at most 250) — https://shopify.dev/docs/api/admin-rest/2026-04/resources/order .
* Paging: cursor-based; the ``Link`` header's ``rel="next"`` URL carries ``page_info``, and
  a request with page_info may carry only ``limit`` (and ``fields``) besides it; no Link
  header or no next link means the last page —
  https://shopify.dev/docs/api/admin-rest/usage/pagination .
* A batch: ``GET orders.json?ids=1,2,3&status=any&limit=250``.
* Rate limit: a leaky bucket per app and shop (``X-Shopify-Shop-Api-Call-Limit: 32/40``);
  over it, ``429 Too Many Requests`` with ``Retry-After`` (seconds) —
  https://shopify.dev/docs/api/admin-rest/usage/rate-limits .
* A bad or revoked token: ``401 {"errors": "[API] Invalid API key or access token
  (unrecognized login or wrong password)"}``
  (https://shopify.dev/docs/api/usage/response-codes). An offline token of a custom app does
  not expire and has no refresh: ``refresh()`` returns None and a 401 is a permanent
  PlatformError saying what to do (install the app again / paste a new token).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from orderpilot.adapters.channels.base import (
    Account,
    Clock,
    OrderPage,
    PlatformError,
    Tokens,
    answer_json,
    raise_for_status,
)
from orderpilot.domain.channel_orders import MappingError, PushNotice, iso

API_VERSION = "2026-04"
PAGE_LIMIT = 250
PRODUCTION_HOST = "https://{shop}.myshopify.com"


def shop_base_url(account: Account) -> str:
    """The base URL this account's calls go to (without /admin/api/...)."""
    if account.base_url:
        return account.base_url.rstrip("/")
    return PRODUCTION_HOST.format(shop=account.shop_id.strip().removesuffix(".myshopify.com"))


class ShopifyClient:
    """A ChannelClient for one Shopify shop, on the hub's guarded HTTP client."""

    def __init__(self, account: Account, http: httpx.Client, clock: Clock) -> None:
        self.account = account
        self.http = http
        self.clock = clock
        self.api = f"{shop_base_url(account)}/admin/api/{API_VERSION}"

    def list_orders(self, since: datetime, until: datetime, cursor: str | None) -> OrderPage:
        """Orders updated in [SINCE, UNTIL), oldest update first, one page of up to 250."""
        if cursor:
            params: dict[str, str] = {"page_info": cursor, "limit": str(PAGE_LIMIT)}
        else:
            params = {"status": "any", "updated_at_min": _stamp(since),
                      "updated_at_max": _stamp(until), "limit": str(PAGE_LIMIT),
                      "order": "updated_at asc"}
        response = self._get("orders.json", params, "list orders")
        orders = _orders(response, "list orders")
        # updated_at_max is inclusive; the window is half-open, the next one takes the edge
        inside = tuple(o for o in orders if _before(o, until))
        return OrderPage(raws=inside, next_cursor=_next_page_info(response))

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not external_ids:
            return []
        params = {"ids": ",".join(external_ids), "status": "any", "limit": str(PAGE_LIMIT)}
        return _orders(self._get("orders.json", params, "get orders"), "get orders")

    def refresh(self) -> Tokens | None:
        return None  # offline access tokens do not expire; there is nothing to refresh

    def check(self) -> str:
        answer = answer_json(self._get("shop.json", {}, "shop"), "shop")
        shop = answer.get("shop") if isinstance(answer, dict) else None
        if not isinstance(shop, dict):
            raise PlatformError("shop: the answer has no shop", transient=False)
        return f"{shop.get('name', '')} ({shop.get('myshopify_domain', '')})"

    def lost_pushes(self) -> list[PushNotice]:
        return []

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        return None

    def _get(self, path: str, params: dict[str, str], what: str) -> httpx.Response:
        token = self.account.tokens.access_token or self.account.secret("access_token")
        try:
            response = self.http.get(f"{self.api}/{path}", params=params,
                                     headers={"X-Shopify-Access-Token": token,
                                              "Accept": "application/json"})
        except httpx.HTTPError as error:
            raise PlatformError(f"{what}: Shopify could not be reached: {error}") from error
        if response.status_code == 401:
            raise PlatformError(
                f"{what}: Shopify refused the access token (HTTP 401). Shopify access tokens "
                f"do not expire and cannot be refreshed: the app was uninstalled or the token "
                f"revoked; install the app again and save its new Admin API access token "
                f"with this channel account", status_code=401, transient=False)
        raise_for_status(response, what)
        return response


def _orders(response: httpx.Response, what: str) -> list[dict[str, Any]]:
    answer = answer_json(response, what)
    orders = answer.get("orders") if isinstance(answer, dict) else None
    if not isinstance(orders, list):
        raise PlatformError(f"{what}: the answer has no orders list: {response.text[:200]!r}",
                            status_code=response.status_code, transient=False)
    return [o for o in orders if isinstance(o, dict)]


def _next_page_info(response: httpx.Response) -> str | None:
    url = response.links.get("next", {}).get("url")
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page_info")
    return values[0] if values else None


def _before(order: dict[str, Any], until: datetime) -> bool:
    """ORDER was last updated before UNTIL (an unreadable time is kept: the mapping says
    what is wrong with it)."""
    try:
        return iso(order.get("updated_at"), "updated_at") < _aware(until)
    except MappingError:
        return True


def _stamp(moment: datetime) -> str:
    return _aware(moment).isoformat()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
