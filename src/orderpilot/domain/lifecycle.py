"""The order lifecycle as data: nodes, who reports them, and the allowed steps.

A report whose node the order has already passed is *late*: it is recorded and updates the
reporting system's view, but the order does not move back. A report whose node is neither
allowed from here nor already passed is *illegal* and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Node:
    id: str
    zh: str
    en: str
    reported_by: tuple[str, ...]
    next: tuple[str, ...]
    pre_shipment: bool = False


_FULFIL = ("validated", "erp_booked", "allocated", "released_to_wms")

NODES: tuple[Node, ...] = (
    Node("placed", "已下单", "Placed", ("storefront",), ("paid", "cancelled"), True),
    Node("paid", "已支付", "Paid", ("storefront",), (*_FULFIL, "cancelled"), True),
    Node("validated", "已校验", "Validated", ("hub",),
         ("erp_booked", "allocated", "released_to_wms", "cancelled"), True),
    Node("erp_booked", "ERP已入账", "Booked in ERP", ("erp",),
         ("allocated", "released_to_wms", "cancelled"), True),
    Node("allocated", "已分配库存", "Stock allocated", ("hub", "erp"),
         ("released_to_wms", "cancelled"), True),
    Node("released_to_wms", "已下发仓库", "Released to warehouse", ("wms",),
         ("picked", "packed", "shipped", "cancelled"), True),
    Node("picked", "已拣货", "Picked", ("wms",), ("packed", "shipped"), True),
    Node("packed", "已打包", "Packed", ("wms",), ("shipped",), True),
    Node("shipped", "已发货", "Shipped", ("wms", "carrier"),
         ("in_transit", "delivered", "return_requested")),
    Node("in_transit", "运输中", "In transit", ("carrier",), ("delivered", "return_requested")),
    Node("delivered", "已签收", "Delivered", ("carrier",),
         ("completed", "invoiced", "return_requested")),
    Node("completed", "交易成功", "Completed", ("storefront",), ("invoiced", "return_requested")),
    Node("invoiced", "已开票", "Invoiced", ("erp",), ("return_requested",)),
    Node("cancelled", "已取消", "Cancelled", ("storefront", "hub"), ("refunded",)),
    Node("return_requested", "退货申请", "Return requested", ("storefront", "crm"),
         ("return_in_transit", "return_received", "refunded", "after_sales_closed")),
    Node("return_in_transit", "退货运输中", "Return in transit", ("carrier",),
         ("return_received",)),
    Node("return_received", "退货已入库", "Return received", ("wms",), ("refunded",)),
    Node("refunded", "已退款", "Refunded", ("storefront", "erp"), ("after_sales_closed",)),
    Node("after_sales_closed", "售后关闭", "After-sales closed", ("crm", "hub"), ()),
)

NODE_BY_ID: dict[str, Node] = {n.id: n for n in NODES}


@dataclass(frozen=True)
class EventType:
    type: str
    node: str | None  # None: only updates the reporting system's view
    system: str  # the system that usually reports it, when the source does not say
    zh: str
    en: str
    view_status: str = ""  # the status shown in the system's view when the report gives none


EVENT_TYPES: dict[str, EventType] = {e.type: e for e in (
    EventType("payment.succeeded", "paid", "storefront", "支付成功", "Payment succeeded"),
    EventType("order.validated", "validated", "hub", "校验通过", "Validated"),
    EventType("erp.booked", "erp_booked", "erp", "ERP入账", "Booked in ERP"),
    EventType("inventory.allocated", "allocated", "hub", "库存分配", "Stock allocated"),
    EventType("wms.released", "released_to_wms", "wms", "下发仓库", "Released to warehouse"),
    EventType("wms.picked", "picked", "wms", "拣货完成", "Picked"),
    EventType("wms.packed", "packed", "wms", "打包完成", "Packed"),
    EventType("shipment.shipped", "shipped", "carrier", "已发货", "Shipped"),
    EventType("shipment.in_transit", "in_transit", "carrier", "运输中", "In transit"),
    EventType("shipment.delivered", "delivered", "carrier", "已签收", "Delivered"),
    EventType("order.completed", "completed", "storefront", "交易成功", "Completed"),
    EventType("invoice.issued", "invoiced", "erp", "已开票", "Invoice issued"),
    EventType("order.cancelled", "cancelled", "storefront", "订单取消", "Cancelled"),
    EventType("return.requested", "return_requested", "storefront", "申请退货", "Return requested"),
    EventType("return.shipped", "return_in_transit", "carrier", "退货寄回", "Return shipped"),
    EventType("return.received", "return_received", "wms", "退货入库", "Return received"),
    EventType("refund.succeeded", "refunded", "storefront", "退款成功", "Refunded"),
    EventType("after_sales.closed", "after_sales_closed", "crm", "售后关闭", "After-sales closed"),
    EventType("system.status", None, "hub", "系统状态", "System status"),
    EventType("erp.receivable_opened", None, "erp", "应收已立账", "Receivable opened", "open"),
    EventType("erp.receivable_closed", None, "erp", "应收已核销", "Receivable closed",
              "closed"),
    EventType("customer.contacted", None, "crm", "客户咨询客服", "Customer contacted support",
              "contacted"),
    # A reconciliation discrepancy put right or accepted (services/reconciliation.py)
    EventType("reconciliation.fixed", None, "hub", "对账差异已修复", "Reconciliation fixed",
              "fixed"),
    EventType("reconciliation.accepted", None, "hub", "对账差异已接受",
              "Reconciliation accepted", "accepted"),
    # Checks and reactions the expectations watch for (docs/expectations.md); none moves the
    # order. The purchase-order link is checked by the ERP, which holds the purchase orders.
    EventType("crm.level_changed", None, "crm", "会员等级已重新评定", "Customer level re-evaluated",
              "level_changed"),
    EventType("wms.inbound_scanned", None, "wms", "入库扫描", "Inbound scanned", "scanned"),
    EventType("po_link.checked", None, "erp", "采购单关联已核对", "Purchase-order link checked",
              "po_checked"),
    # A return's own steps (domain/returns.py): they update the hub's view, not the order node.
    EventType("return.approved", None, "hub", "退货已同意", "Return approved", "return_approved"),
    EventType("return.rejected", None, "hub", "退货已拒绝", "Return rejected", "return_rejected"),
    EventType("return.pickup_booked", None, "hub", "退货已预约取件", "Return pickup booked",
              "return_pickup_booked"),
    EventType("return.route_decided", None, "hub", "退货路由已人工决定", "Return route decided",
              "return_route_decided"),
    EventType("return.inspected", None, "hub", "退货已质检", "Return inspected",
              "return_inspected"),
)}

# Which system a reporting source belongs to. Unknown sources fall back to the event type's.
SOURCE_SYSTEM: dict[str, str] = {
    **{c: "storefront" for c in (
        "shopee", "lazada", "youzan", "shopify", "woocommerce", "own_store", "tmall", "jd",
        "pinduoduo", "douyin", "storefront", "csv", "excel")},
    **{s: "erp" for s in ("erp", "kingdee")},
    **{s: "wms" for s in ("wms",)},
    **{s: "carrier" for s in ("carrier", "sf", "sf-express", "yto", "zto", "sto", "jt", "ems",
                              "yunda", "dhl", "ninjavan")},
    **{s: "crm" for s in ("crm",)},
    "hub": "hub",
}


def system_of(source: str, event_type: EventType) -> str:
    return SOURCE_SYSTEM.get(source.lower(), event_type.system)


@cache
def predecessors(node_id: str) -> frozenset[str]:
    """Every node from which ``node_id`` can be reached: the nodes an order has passed."""
    found: set[str] = set()
    frontier = [node_id]
    while frontier:
        current = frontier.pop()
        for n in NODES:
            if current in n.next and n.id not in found:
                found.add(n.id)
                frontier.append(n.id)
    return frozenset(found)


def is_late(current: str, target: str) -> bool:
    return target == current or target in predecessors(current)


def can_move(current: str, target: str) -> bool:
    return target in NODE_BY_ID[current].next


def needs_release(node_id: str) -> bool:
    """Nodes at or after release to the warehouse are blocked while an order is held."""
    return node_id in ("released_to_wms", "picked", "packed", "shipped")
