"""An order sent again under the same channel, shop and external number: the same order (a
re-delivery, answered as a duplicate), or a changed one, refused with the fields that differ.

The API does not apply changes to a placed order: its lifecycle, holds, allocations and rule
runs were decided on what was sent first. A sales platform's later versions of its orders come
through the channel integration instead (pushes and pulls, services/channels/apply.py), which
records each change as an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderpilot.domain.errors import Conflict
from orderpilot.domain.order import Order

ORDER_FIELDS = ("currency", "placed_at", "total", "shipping_fee")
ADDRESS_FIELDS = ("country", "province", "city", "district", "line1", "postal_code")
LINE_FIELDS = ("sku", "quantity", "unit_price", "discount", "name")


@dataclass(frozen=True)
class Change:
    field: str
    code: str = "changed"

    @property
    def message(self) -> str:
        return f"{self.field} differs from the order as first placed"

    @property
    def message_zh(self) -> str:
        return f"{self.field} 与首次下单时不同"


def changed_fields(stored: Order, sent: Order) -> list[str]:
    """The fields of ``sent`` that differ from ``stored``, as API field paths.

    Tags count only when ``sent`` has one the order lacks: rules and staff add tags to a placed
    order, so a re-delivery without them is still the same order."""
    changes = [name for name in ORDER_FIELDS if getattr(stored, name) != getattr(sent, name)]
    changes += [f"customer.{name}" for name in ("name", "phone")
                if getattr(stored.customer, name) != getattr(sent.customer, name)]
    changes += [f"shipping_address.{name}" for name in ADDRESS_FIELDS
                if getattr(stored.shipping_address, name) != getattr(sent.shipping_address, name)]
    if len(stored.lines) != len(sent.lines):
        changes.append("lines")
    else:
        pairs = enumerate(zip(stored.lines, sent.lines, strict=True))
        changes += [f"lines[{i}].{name}" for i, (old, new) in pairs
                    for name in LINE_FIELDS if getattr(old, name) != getattr(new, name)]
    changes += [f"adjustments.{kind}" for kind in sorted(set(stored.adjustments)
                                                         | set(sent.adjustments))
                if stored.adjustments.get(kind) != sent.adjustments.get(kind)]
    if set(sent.tags) - set(stored.tags):
        changes.append("tags")
    return changes


class OrderChanged(Conflict):
    """A re-sent order whose contents differ from the stored one (409 ``order_changed``)."""

    code = "order_changed"
    title_zh = "订单内容与已有订单不同"

    def __init__(self, order_id: str, external_id: str, fields: list[str]) -> None:
        listed = ", ".join(fields)
        super().__init__(
            f"order {external_id} was already placed (id {order_id}) with other contents; "
            f"changed: {listed}. A placed order is not changed by sending it again: send a new "
            "external_id for a new order, or report what happened with an event",
            field=fields[0], params={"order_id": order_id, "fields": fields},
            zh=f"订单 {external_id} 已下单（id {order_id}），内容不同；"
               f"有变化的字段：{'、'.join(fields)}。重新提交不会修改已下单的订单："
               "新订单请使用新的 external_id，已发生的变化请用事件上报")
        self.problems = [Change(name) for name in fields]
