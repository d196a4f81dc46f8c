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

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
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
from orderpilot.domain.channel_orders import MappingError, PushNotice, iso, money
from orderpilot.domain.channel_returns import ChannelRefund
from orderpilot.integrations.shopify.mapping import line_sku
from orderpilot.integrations.shopify.returns import HUB_NOTE, hub_return_of, order_id_of

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

    # Returns and refunds (formats and sources: returns.py and the module docstring)

    def with_order_lines(self, raw: dict[str, Any]) -> dict[str, Any]:
        """RAW (a Return webhook body) with its order's line items under ``order.line_items``
        when a return line names its line item by id only (Shopify's sample does)."""
        order_id = order_id_of(raw)
        rows = [r for r in raw.get("return_line_items") or [] if isinstance(r, Mapping)]
        if not order_id or all(_line_item(r).get("sku") for r in rows):
            return raw
        order = self._order(order_id, "return's order")
        known = raw.get("order")
        head: dict[str, Any] = dict(known) if isinstance(known, Mapping) else {}
        return {**raw, "order": {**head, "line_items": order.get("line_items") or []}}

    def list_refunds(self, order_id: str) -> list[dict[str, Any]]:
        """The order's refunds (``GET orders/{id}/refunds.json``)."""
        answer = answer_json(self._get(f"orders/{order_id}/refunds.json", {}, "list refunds"),
                             "list refunds")
        refunds = answer.get("refunds") if isinstance(answer, dict) else None
        if not isinstance(refunds, list):
            raise PlatformError("list refunds: the answer has no refunds list",
                                transient=False)
        return [r for r in refunds if isinstance(r, dict)]

    def refund_return(self, order_id: str, return_key: str,
                      lines: Sequence[tuple[str, int]], amount: Decimal) -> ChannelRefund:
        """Refund AMOUNT for LINES (sku, units) of the order through Shopify, once per
        RETURN_KEY. The order's refunds are looked up first: one whose note carries
        ``HUB_NOTE + RETURN_KEY`` means it was made already (a lost answer, a retry) and
        nothing is sent. Otherwise ``refunds/calculate.json`` gives the suggested refund
        transactions (parent transaction, gateway, ``maximum_refundable``), AMOUNT is spread
        over them, and ``refunds.json`` creates the refund with ``restock_type``
        "no_restock" (the hub restocks through its own inventory and pushes availability)
        and ``notify`` false (the hub texts the buyer)."""
        for refund in self.list_refunds(order_id):
            if hub_return_of(refund) == return_key:
                return ChannelRefund(return_id=return_key, reference=str(refund.get("id")),
                                     amount=_refunded(refund), already_done=True)
        order = self._order(order_id, "refund's order")
        refund_lines = _refund_lines(order, lines)
        asked = {"refund": {"shipping": {"amount": "0.00"}, "refund_line_items": refund_lines}}
        calculated = self._post(f"orders/{order_id}/refunds/calculate.json", asked,
                                "calculate refund")
        suggestions = (calculated.get("refund") or {}).get("transactions") or []
        transactions = _spread(amount, [t for t in suggestions if isinstance(t, dict)])
        currency = str((calculated.get("refund") or {}).get("currency")
                       or order.get("currency") or "")
        created = self._post(f"orders/{order_id}/refunds.json", {"refund": {
            "currency": currency, "notify": False, "note": f"{HUB_NOTE}{return_key}",
            "shipping": {"amount": "0.00"}, "refund_line_items": refund_lines,
            "transactions": transactions}}, "create refund")
        made = created.get("refund")
        if not isinstance(made, dict):
            raise PlatformError("create refund: the answer has no refund", transient=False)
        return ChannelRefund(return_id=return_key, reference=str(made.get("id")),
                             amount=_refunded(made))

    def _order(self, order_id: str, what: str) -> dict[str, Any]:
        answer = answer_json(self._get(f"orders/{order_id}.json", {}, what), what)
        order = answer.get("order") if isinstance(answer, dict) else None
        if not isinstance(order, dict):
            raise PlatformError(f"{what}: Shopify has no order {order_id}", transient=False)
        return order

    def _post(self, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        try:
            response = self.http.post(f"{self.api}/{path}", json=body,
                                      headers=self._headers())
        except httpx.HTTPError as error:
            raise PlatformError(f"{what}: Shopify could not be reached: {error}") from error
        if response.status_code == 422:  # Shopify's refusal: {"errors": {...}}
            raise PlatformError(f"{what}: Shopify refused it: {response.text[:300]}",
                                status_code=422, transient=False)
        self._check(response, what)
        answer = answer_json(response, what)
        return answer if isinstance(answer, dict) else {}

    def _headers(self) -> dict[str, str]:
        token = self.account.tokens.access_token or self.account.secret("access_token")
        return {"X-Shopify-Access-Token": token, "Accept": "application/json"}

    def _get(self, path: str, params: dict[str, str], what: str) -> httpx.Response:
        try:
            response = self.http.get(f"{self.api}/{path}", params=params,
                                     headers=self._headers())
        except httpx.HTTPError as error:
            raise PlatformError(f"{what}: Shopify could not be reached: {error}") from error
        self._check(response, what)
        return response

    def _check(self, response: httpx.Response, what: str) -> None:
        if response.status_code == 401:
            raise PlatformError(
                f"{what}: Shopify refused the access token (HTTP 401). Shopify access tokens "
                f"do not expire and cannot be refreshed: the app was uninstalled or the token "
                f"revoked; install the app again and save its new Admin API access token "
                f"with this channel account", status_code=401, transient=False)
        raise_for_status(response, what)


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


def _line_item(row: Mapping[str, Any]) -> Mapping[str, Any]:
    fulfilled = row.get("fulfillment_line_item")
    item = fulfilled.get("line_item") if isinstance(fulfilled, Mapping) else row.get("line_item")
    return item if isinstance(item, Mapping) else {}


def _refund_lines(order: Mapping[str, Any],
                  lines: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    """The order's line items for (sku, units): each SKU's units taken from its line items
    in order, never more than a line item has not been refunded yet."""
    refunded: dict[str, int] = {}
    for refund in order.get("refunds") or []:
        for row in refund.get("refund_line_items") or []:
            key = str(row.get("line_item_id"))
            refunded[key] = refunded.get(key, 0) + int(row.get("quantity") or 0)
    chosen: list[dict[str, Any]] = []
    for sku, units in lines:
        left = units
        for item in order.get("line_items") or []:
            if left <= 0:
                break
            if line_sku(item) != sku:
                continue
            free = int(item.get("quantity") or 0) - refunded.get(str(item.get("id")), 0)
            take = min(left, free)
            if take > 0:
                chosen.append({"line_item_id": item["id"], "quantity": take,
                               "restock_type": "no_restock"})
                refunded[str(item["id"])] = refunded.get(str(item["id"]), 0) + take
                left -= take
        if left > 0:
            raise PlatformError(f"refund: the Shopify order has {units - left} refundable "
                                f"unit(s) of {sku}, not {units}", transient=False)
    return chosen


def _spread(amount: Decimal, suggestions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """AMOUNT over the suggested refund transactions, each up to its maximum_refundable."""
    left = amount
    transactions = []
    for n, suggestion in enumerate(suggestions):
        if left <= 0:
            break
        most = money(suggestion.get("maximum_refundable") or suggestion.get("amount"),
                     f"transactions[{n}].maximum_refundable")
        take = min(left, most)
        if take > 0:
            transactions.append({"parent_id": suggestion.get("parent_id"),
                                 "amount": f"{take:.2f}", "kind": "refund",
                                 "gateway": suggestion.get("gateway")})
            left -= take
    if left > 0:
        raise PlatformError(f"refund: Shopify can refund at most {amount - left:.2f} of this "
                            f"order, not {amount:.2f}", transient=False)
    return transactions


def _refunded(refund: Mapping[str, Any]) -> Decimal | None:
    paid = [money(t.get("amount"), "transactions.amount")
            for t in refund.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") == "success"]
    return sum(paid, Decimal("0.00")) if paid else None
