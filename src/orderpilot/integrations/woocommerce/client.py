"""The WooCommerce REST API v3 client for one store (one channel account).

Facts (woocommerce/woocommerce-rest-api-docs source/includes/wp-api-v3/_orders.md "List all
orders", _introduction.md "Pagination" and "Errors", _authentication.md; the controller
plugins/woocommerce/includes/rest-api/Controllers/Version3/class-wc-rest-crud-controller.php
``get_collection_params`` in woocommerce/woocommerce):

* Every store is its own host: ``{site}/wp-json/wc/v3/orders``; there is no production host
  to default to, so the account's ``base_url`` (the site URL) is required.
* ``GET orders`` takes ``modified_after`` / ``modified_before`` (both exclusive, a WordPress
  date query), ``dates_are_gmt=true`` (compare against the GMT columns), ``per_page``
  (1..100, default 10), ``page`` (1-based), ``orderby`` (date, id, include, title, slug,
  modified), ``order`` (asc/desc), ``include`` / ``exclude`` (id lists); the answer is a
  JSON array with ``X-WP-Total`` and ``X-WP-TotalPages`` headers.
* ``GET orders?include=1,2,3`` returns those orders (trashed ones are left out).
* Errors are ``{"code", "message", "data": {"status"}}``: 401 for bad keys
  (``woocommerce_rest_authentication_error``: "Consumer secret is invalid.") or no
  authentication (``woocommerce_rest_cannot_view``), 404 ``rest_no_route`` when the REST
  API is not reachable at that path. WooCommerce itself does not rate-limit this API; a host
  or CDN in front of it may answer 429 with Retry-After. Keys do not expire: no refresh.

Paging by update time: page numbers over a changing set skip an order whenever an earlier
one is modified between two pages (it moves to the end). So the cursor is a key set instead:
the last page's latest ``date_modified_gmt`` and the ids seen at that second; the next page
asks for ``modified_after`` one second earlier and excludes those ids. When one second holds
more orders than a page (a bulk edit), that second alone is paged by number, then the walk
goes on after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

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
from orderpilot.domain.channel_orders import MappingError, PushNotice
from orderpilot.integrations.woocommerce.mapping import gmt, gmt_text
from orderpilot.integrations.woocommerce.signing import basic_auth_header, query_auth

API = "/wp-json/wc/v3"
PER_PAGE = 100  # the REST API's maximum
SECOND = timedelta(seconds=1)


def api_root(account: Account) -> str:
    if not account.base_url:
        raise PlatformError(f"channel {account.code}: WooCommerce needs the store's site URL "
                            f"(base_url); every store is its own host", transient=False)
    return account.base_url.rstrip("/") + API


class WooCommerceClient:
    def __init__(self, account: Account, http: httpx.Client, clock: Clock,
                 *, query_string_auth: bool = False) -> None:
        self.account = account
        self.http = http
        self.clock = clock
        self.query_string_auth = query_string_auth

    def list_orders(self, since: datetime, until: datetime,
                    cursor: str | None) -> OrderPage:
        floor_since = since.astimezone(UTC).replace(microsecond=0)
        ceil_until = _ceil(until)
        params: dict[str, Any] = {"dates_are_gmt": "true", "per_page": PER_PAGE, "page": 1,
                                  "orderby": "modified", "order": "asc",
                                  "modified_before": gmt_text(ceil_until)}
        mode, at, rest = _read_cursor(cursor, floor_since)
        if mode == "s":  # one crowded second, paged by number (less the ids seen before)
            page, _, seen = rest.partition("|")
            params.update(modified_after=gmt_text(at - SECOND),
                          modified_before=gmt_text(at + SECOND), page=int(page or 1))
            if seen:
                params["exclude"] = seen
        elif mode == "a":
            params["modified_after"] = gmt_text(at)
        else:
            params["modified_after"] = gmt_text(at - SECOND)
            if rest:
                params["exclude"] = rest
        response = self._get("orders", params)
        orders = _order_list(answer_json(response, "woocommerce orders"))
        pages = _int_header(response, "x-wp-totalpages")
        kept = tuple(o for o in orders if floor_since <= _modified(o) < until)
        return OrderPage(raws=kept, next_cursor=_next(mode, at, rest, params, orders, pages))

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        wanted = [i for i in dict.fromkeys(external_ids) if i.isdigit()]
        if not wanted:
            return []
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), PER_PAGE):
            chunk = wanted[start:start + PER_PAGE]
            response = self._get("orders", {"include": ",".join(chunk),
                                            "per_page": len(chunk), "orderby": "include"})
            found += _order_list(answer_json(response, "woocommerce orders by id"))
        return [o for o in found if str(o.get("id")) in set(wanted)]

    def refresh(self) -> Tokens | None:
        return None  # REST API keys do not expire

    def check(self) -> str:
        response = self._get("orders", {"per_page": 1})
        answer_json(response, "woocommerce connection test")
        total = response.headers.get("x-wp-total", "?")
        return f"WooCommerce store {self.account.base_url}: {total} orders"

    def lost_pushes(self) -> list[PushNotice]:
        return []

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        return None

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        key = self.account.secret("consumer_key")
        secret = self.account.secret("consumer_secret")
        if not key or not secret:
            raise PlatformError(f"channel {self.account.code}: consumer_key and "
                                f"consumer_secret are required", transient=False)
        headers = {"Accept": "application/json"}
        if self.query_string_auth:
            params = {**params, **query_auth(key, secret)}
        else:
            headers["Authorization"] = basic_auth_header(key, secret)
        what = f"woocommerce GET {path}"
        try:
            response = self.http.get(f"{api_root(self.account)}/{path}", params=params,
                                     headers=headers)
        except httpx.HTTPError as error:
            raise PlatformError(f"{what}: {type(error).__name__}: {error}") from None
        if response.status_code in (401, 403, 404):
            raise PlatformError(f"{what}: HTTP {response.status_code} {_wp_error(response)}",
                                status_code=response.status_code, transient=False)
        raise_for_status(response, what)
        return response


def _ceil(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + SECOND


def _read_cursor(cursor: str | None, since: datetime) -> tuple[str, datetime, str]:
    """(mode, second, rest): k = from SECOND on, excluding the ids REST; s = "page|ids":
    that page of SECOND alone, excluding ids; a = strictly after SECOND."""
    if not cursor:
        return "k", since, ""
    mode, _, tail = cursor.partition("|")
    stamp, _, rest = tail.partition("|")
    try:
        return mode, gmt(stamp, "cursor"), rest
    except MappingError:
        raise PlatformError(f"woocommerce: bad cursor {cursor[:60]!r}", transient=False) \
            from None


def _next(mode: str, at: datetime, rest: str, params: dict[str, Any],
          orders: list[dict[str, Any]], pages: int) -> str | None:
    if mode == "s":
        page, seen = int(params["page"]), params.get("exclude", "")
        return f"s|{gmt_text(at)}|{page + 1}|{seen}" if orders and page < pages \
            else f"a|{gmt_text(at)}"
    if not orders or pages <= 1:
        return None
    last = max(_modified(o) for o in orders)
    seen = [str(o["id"]) for o in orders if _modified(o) == last]
    if mode == "k" and last == at and rest:
        seen = [*rest.split(","), *seen]
    ids = ",".join(dict.fromkeys(seen))
    if len(seen) >= PER_PAGE:  # the ids seen so far stay excluded while that second is paged
        return f"s|{gmt_text(last)}|1|{ids}"
    return f"k|{gmt_text(last)}|{ids}"


def _modified(order: dict[str, Any]) -> datetime:
    try:
        return gmt(order.get("date_modified_gmt") or order.get("date_created_gmt"),
                   "date_modified_gmt")
    except MappingError:
        raise PlatformError(f"woocommerce order {order.get('id')!r} has no date_modified_gmt",
                            transient=False) from None


def _order_list(answer: Any) -> list[dict[str, Any]]:
    if not isinstance(answer, list) or not all(isinstance(o, dict) for o in answer):
        raise PlatformError("woocommerce: the orders answer is not a list of orders",
                            transient=False)
    return answer


def _int_header(response: httpx.Response, name: str) -> int:
    try:
        return max(int(response.headers.get(name, "1")), 0)
    except ValueError:
        return 1


def _wp_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return f"{body.get('code', '')}: {body.get('message', '')}"
    return str(body)[:200]

