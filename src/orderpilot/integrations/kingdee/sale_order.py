"""A canonical order as the SAL_SaleOrder ``Model`` a FieldMapping describes (the mapping,
its vocabulary and the sources of the Kingdee format: mapping.py)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orderpilot.domain.channel_orders import unmappable
from orderpilot.domain.order import Order, OrderLine
from orderpilot.domain.times import SHANGHAI
from orderpilot.integrations.kingdee.mapping import LINE_SOURCES, FieldMapping


def sale_order_model(order: Order, mapping: FieldMapping) -> dict[str, Any]:
    """The SAL_SaleOrder ``Model`` for ORDER; MappingError (with both languages) when a value
    cannot be found, e.g. a currency or channel no lookup table knows."""
    lookups: dict[str, Any] = mapping.document.get("lookups") or {}
    model = {name: _value(spec, order, None, 0, lookups, f"head.{name}")
             for name, spec in mapping.section("head").items()}
    finance = {name: _value(spec, order, None, 0, lookups, f"finance.{name}")
               for name, spec in mapping.section("finance").items()}
    if finance:
        model["FSaleOrderFinance"] = finance
    model["FSaleOrderEntry"] = [
        {name: _value(spec, order, line, number, lookups, f"entry.{name}")
         for name, spec in mapping.section("entry").items()}
        for number, line in enumerate(order.lines, start=1)]
    return model


def _value(spec: Any, order: Order, line: OrderLine | None, number: int,
           lookups: Mapping[str, Any], where: str) -> Any:
    if isinstance(spec, dict):
        return {"FNumber": str(_value(spec["FNumber"], order, line, number, lookups, where))}
    source = str(spec)
    if source.startswith("const:"):
        return source[len("const:"):]
    if source.startswith("lookup:"):
        name = source[len("lookup:"):]
        table = lookups[name]
        key = str(_value(table["key"], order, line, number, lookups, where))
        found = (table.get("values") or {}).get(key, table.get("default"))
        if found is None:
            raise unmappable(where, f"the lookup table {name!r} has no value for {key!r} "
                                    f"and no default; add it to the Kingdee field mapping",
                             f"查找表 {name!r} 中没有 {key!r} 的值，也没有默认值；"
                             "请在金蝶字段映射中补充")
        return found
    if source in LINE_SOURCES:
        assert line is not None  # parse_mapping keeps line.* in the entry
        return _line_value(source, line, number)
    return _order_value(source, order)


def _order_value(source: str, order: Order) -> Any:
    values: dict[str, Any] = {
        "order.external_id": order.external_id, "order.id": order.id,
        "order.channel": order.channel, "order.shop_id": order.shop_id,
        "order.currency": order.currency,
        "order.placed_date": order.placed_at.astimezone(SHANGHAI).date().isoformat(),
        "order.total": order.total, "order.shipping_fee": order.shipping_fee,
        "order.customer_name": order.customer.name,
        "order.summary": f"{order.channel} {order.shop_id} {order.external_id}",
    }
    return values[source]


def _line_value(source: str, line: OrderLine, number: int) -> Any:
    values: dict[str, Any] = {
        "line.sku": line.sku, "line.name": line.name, "line.quantity": line.quantity,
        "line.unit_price": line.unit_price, "line.discount": line.discount,
        "line.amount": line.amount, "line.number": number,
        "line.discount_rate": _rate(line),
    }
    return values[source]


def _rate(line: OrderLine) -> Decimal:
    gross = line.unit_price * line.quantity
    if not gross or not line.discount:
        return Decimal("0")
    return (line.discount * 100 / gross).quantize(Decimal("0.000001"))


__all__ = ["sale_order_model"]
