"""Which orders a list shows or a bulk action touches, for the API and the console alike:
the filter read from the query, the buyer-search permission, a selection of ids or the whole
filter (at most MAX_BULK orders)."""

from __future__ import annotations

from collections.abc import Mapping

from orderpilot.adapters.views import order_search
from orderpilot.bootstrap import Hub
from orderpilot.domain import order_filters
from orderpilot.domain.access import allowed
from orderpilot.domain.errors import Forbidden, InvalidInput
from orderpilot.domain.order_filters import OrderFilter
from orderpilot.services.bulk_orders import MAX_BULK, check_size


def read_filter(params: Mapping[str, str], role: str) -> OrderFilter:
    found = order_filters.parse(params)
    if found.searches_buyer and not allowed(role, "orders.search_buyer"):
        field = "phone" if found.phone else "address"
        raise Forbidden(f"{field}: your role may not search orders by the buyer's phone or "
                        "address", field=field, code="search_not_allowed",
                        zh=f"{field}：您的角色不能按买家手机号或地址搜索订单")
    return found


def chosen_orders(hub: Hub, role: str, order_ids: list[str],
                  params: Mapping[str, str]) -> list[str]:
    """The ids of a selection (those that exist), or else of every order of the filter."""
    with hub.db.read() as conn:
        if order_ids:
            check_size(order_ids)
            return order_search.existing_ids(conn, list(dict.fromkeys(order_ids)))
        found = order_search.matching_ids(conn, read_filter(params, role), MAX_BULK + 1)
    if len(found) > MAX_BULK:
        raise InvalidInput(f"the filter matches more than {MAX_BULK} orders; narrow it",
                           field="filter", zh=f"筛选结果超过 {MAX_BULK} 个订单，请缩小范围")
    return found


def held_count(hub: Hub, order_ids: list[str]) -> int:
    with hub.db.read() as conn:
        return order_search.held_among(conn, order_ids)
