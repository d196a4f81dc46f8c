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
* Refunds (https://shopify.dev/docs/api/admin-rest/2026-04/resources/refund):
  ``GET orders/{id}/refunds.json`` -> ``{"refunds": [...]}``; ``POST
  orders/{id}/refunds/calculate.json`` ``{"refund": {"shipping", "refund_line_items":
  [{"line_item_id", "quantity", "restock_type"}]}}`` -> the refund with suggested
  ``transactions`` (``kind`` "suggested_refund", ``parent_id``, ``gateway``, ``amount``,
  ``maximum_refundable``); ``POST orders/{id}/refunds.json`` with ``currency``, ``notify``,
  ``note``, the lines and ``transactions`` (``kind`` "refund") -> 201 ``{"refund": {...}}``;
  a refusal is 422 ``{"errors": {...}}``.
* Returns: the REST Admin API has none; they are read with the GraphQL Admin API at
  ``POST graphql.json`` (``return(id:)``, an order's ``returns``; see returns.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from orderpilot.domain.channel_returns import ChannelReturn, ReturnPage
from orderpilot.integrations.shopify.mapping import line_sku
from orderpilot.integrations.shopify.returns import HUB_NOTE, hub_return_of

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

    def list_returns(self, since: datetime, until: datetime, cursor: str | None) -> ReturnPage:
        """The returns of orders updated in [SINCE, UNTIL) (GraphQL ``orders`` with the search
        query ``updated_at:>='…' updated_at:<'…'``, 50 a page, each order's ``returns``): a
        return's change updates its order. CURSOR is the GraphQL page cursor."""
        query = f"updated_at:>='{_stamp(since)}' updated_at:<'{_stamp(until)}'"
        data = self._graphql(LIST_RETURNS, {"query": query, "after": cursor}, "list returns")
        found = data.get("orders")
        orders: dict[str, Any] = found if isinstance(found, dict) else {}
        refs = tuple(_legacy(node.get("id"))
                     for order in orders.get("nodes") or [] if isinstance(order, dict)
                     for node in ((order.get("returns") or {}).get("nodes") or [])
                     if isinstance(node, dict) and node.get("id"))
        info = orders.get("pageInfo") or {}
        more = bool(info.get("hasNextPage")) and info.get("endCursor")
        return ReturnPage(refs=refs, next_cursor=str(info["endCursor"]) if more else None)

    def get_returns(self, return_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Each return read with GraphQL ``return(id:)``, in the webhook's REST-style shape
        (returns.py), with its order's line items, its refunds and ``fetched_at``; an id
        Shopify does not know (``return`` null) is left out."""
        found: list[dict[str, Any]] = []
        for return_id in return_ids:
            data = self._graphql(GET_RETURN, {"id": f"gid://shopify/Return/{return_id}"},
                                 "get return")
            node = data.get("return")
            if isinstance(node, dict):
                found.append(_rest_return(node, self.clock()))
        return found

    def refund_return(self, ret: ChannelReturn) -> None:
        """Refund the return's lines through Shopify, once per return. The order's refunds
        are looked up first: one whose note carries ``HUB_NOTE + <return id>`` means it was
        made (a lost answer, a retry) and nothing is sent. Otherwise
        ``refunds/calculate.json`` gives Shopify's refund for those units (suggested
        transactions: parent, gateway, amount) and ``refunds.json`` creates it with
        ``restock_type`` "no_restock" (the hub restocks through its own inventory and pushes
        availability), ``notify`` false (the hub texts the buyer) and the note."""
        order_id = ret.order_external_id
        for refund in self.list_refunds(order_id):
            if hub_return_of(refund) == ret.return_id:
                return
        order = self._order(order_id, "refund's order")
        refund_lines = _refund_lines(order, ret.lines)
        asked = {"refund": {"shipping": {"amount": "0.00"}, "refund_line_items": refund_lines}}
        calculated = self._post(f"orders/{order_id}/refunds/calculate.json", asked,
                                "calculate refund")
        proposed = calculated.get("refund")
        suggestion: dict[str, Any] = proposed if isinstance(proposed, dict) else {}
        transactions = [{"parent_id": t.get("parent_id"), "amount": t.get("amount"),
                         "kind": "refund", "gateway": t.get("gateway")}
                        for t in suggestion.get("transactions") or [] if isinstance(t, dict)]
        if not transactions:
            raise PlatformError(f"refund: Shopify suggests no refund transaction for order "
                                f"{order_id}", transient=False)
        self._post(f"orders/{order_id}/refunds.json", {"refund": {
            "currency": suggestion.get("currency") or order.get("currency"), "notify": False,
            "note": f"{HUB_NOTE}{ret.return_id}", "shipping": {"amount": "0.00"},
            "refund_line_items": refund_lines, "transactions": transactions}},
            "create refund")

    def list_refunds(self, order_id: str) -> list[dict[str, Any]]:
        """The order's refunds (``GET orders/{id}/refunds.json``)."""
        answer = answer_json(self._get(f"orders/{order_id}/refunds.json", {}, "list refunds"),
                             "list refunds")
        refunds = answer.get("refunds") if isinstance(answer, dict) else None
        if not isinstance(refunds, list):
            raise PlatformError("list refunds: the answer has no refunds list",
                                transient=False)
        return [r for r in refunds if isinstance(r, dict)]

    def _graphql(self, query: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
        """A GraphQL Admin API call (``POST graphql.json`` {query, variables}); Shopify answers
        200 with ``errors`` for a query it refuses
        (https://shopify.dev/docs/api/admin-graphql#status-and-error-codes)."""
        answer = self._post("graphql.json", {"query": query, "variables": variables}, what)
        if answer.get("errors"):
            raise PlatformError(f"{what}: Shopify refused the query: "
                                f"{str(answer['errors'])[:300]}", transient=False)
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

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


GET_RETURN = """query($id: ID!) { return(id: $id) { id name status
  order { legacyResourceId }
  refunds(first: 20) { nodes { id note } }
  returnLineItems(first: 100) { nodes { ... on ReturnLineItem { id quantity returnReason
    returnReasonNote customerNote fulfillmentLineItem { lineItem { id sku
      product { legacyResourceId } variant { legacyResourceId } } } } } } } }"""
LIST_RETURNS = """query($query: String!, $after: String) {
  orders(first: 50, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { legacyResourceId returns(first: 20) { nodes { id } } } } }"""


def _legacy(gid: object) -> str:
    """The numeric id at the end of a GraphQL global id (gid://shopify/Return/123 -> 123)."""
    return str(gid or "").rsplit("/", 1)[-1]


def _rest_return(node: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A GraphQL Return in the REST-style shape of the returns/* webhook bodies."""
    head = node.get("order")
    order: Mapping[str, Any] = head if isinstance(head, Mapping) else {}
    rows, items = [], []
    for row in (node.get("returnLineItems") or {}).get("nodes") or []:
        line = ((row.get("fulfillmentLineItem") or {}).get("lineItem")) or {}
        product, variant = line.get("product") or {}, line.get("variant") or {}
        item = {"id": _legacy(line.get("id")), "sku": line.get("sku"),
                "product_id": product.get("legacyResourceId"),
                "variant_id": variant.get("legacyResourceId")}
        items.append(item)
        rows.append({"id": _legacy(row.get("id")), "quantity": row.get("quantity"),
                     "return_reason": str(row.get("returnReason") or "").lower(),
                     "return_reason_note": row.get("returnReasonNote") or "",
                     "customer_note": row.get("customerNote") or "",
                     "fulfillment_line_item": {"line_item": item}})
    refunds = [{"id": _legacy(r.get("id")), "note": r.get("note")}
               for r in (node.get("refunds") or {}).get("nodes") or [] if isinstance(r, dict)]
    return {"id": _legacy(node.get("id")), "admin_graphql_api_id": node.get("id"),
            "name": node.get("name"), "status": str(node.get("status") or "").lower(),
            "order": {"id": order.get("legacyResourceId"), "line_items": items},
            "return_line_items": rows, "refunds": refunds,
            "fetched_at": _aware(now).isoformat()}
