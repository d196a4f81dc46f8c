"""A Shopee return (v2.returns.get_return_detail ``response``, or one entry of
v2.returns.get_return_list ``response.return[]``) as the hub's ChannelReturn.

Wire facts (open.shopee.com v2 reference, module 102 "Returns", mirrored in
github.com/congminh1254/shopee-sdk ``schemas/v2.returns.get_return_detail.json`` and
``schemas/v2.returns.get_return_list.json``; data definitions in the developer guide
"Return & Refund Management", mirrored in github.com/lazykern/ecommerce-api-docs
``data/processed/shopee/guides/api-best-practices/return-refund-management.md``):

* ``return_sn`` (string, the return's id), ``order_sn``, ``status`` (ReturnStatus),
  ``reason`` (ReturnReason), ``text_reason`` (the buyer's words), ``reassessed_request_reason``
  (the reason as Shopee reassessed it), ``refund_amount`` (float), ``currency``,
  ``create_time`` / ``update_time`` (unix seconds).
* ``item[]``: ``item_id``, ``model_id`` (0 without variations), ``item_sku``,
  ``variation_sku``, ``amount`` (the units returned), ``item_price``, ``name``.
* ReturnStatus: REQUESTED, ACCEPTED, CANCELLED, JUDGING, CLOSED, PROCESSING, SELLER_DISPUTE
  (the guide), and REFUND_PAID (github.com/LightsoftHub/open-platforms
  ``src/ShopeeSdk.Core/Enums/ReturnStatus.cs``, the refund paid to the buyer).
* ReturnReason: NONE, NOT_RECEIPT, WRONG_ITEM, ITEM_DAMAGED, DIFFERENT_DESCRIPTION,
  MUTUAL_AGREE, OTHER, ITEM_WRONGDAMAGED, CHANGE_MIND, ITEM_MISSING, EXPECTATION_FAILED,
  ITEM_FAKE, PHYSICAL_DMG, FUNCTIONAL_DMG.

The line SKU is named as the order mapping names it (mapping.py ``_line``): the variation SKU,
else the item SKU when the item has no variations, else ``item_id:model_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orderpilot.domain.channel_orders import (
    Account,
    from_unix,
    ids_text,
    money,
    text,
    unmappable,
)
from orderpilot.domain.channel_returns import ChannelReturn

# Shopee's ReturnStatus -> what it means to the hub (domain/channel_returns.py)
STATUS: dict[str, str] = {
    "REQUESTED": "requested", "PROCESSING": "requested", "JUDGING": "requested",
    "SELLER_DISPUTE": "requested", "ACCEPTED": "accepted", "REFUND_PAID": "refunded",
    "CANCELLED": "cancelled", "CLOSED": "cancelled",
}
# (zh, en) of each status, for docs/channels/shopee.md and the console
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "REQUESTED": ("买家已申请", "Requested"), "PROCESSING": ("处理中", "Processing"),
    "JUDGING": ("平台裁决中", "Judging"), "SELLER_DISPUTE": ("卖家已申诉", "Seller dispute"),
    "ACCEPTED": ("已同意退款", "Accepted"), "REFUND_PAID": ("已退款", "Refund paid"),
    "CANCELLED": ("买家已取消", "Cancelled"), "CLOSED": ("已关闭", "Closed"),
}
# Shopee's reasons that obviously match our tags; the others are classified from the text.
REASON_TAGS: dict[str, str] = {
    "WRONG_ITEM": "wrong_item", "ITEM_MISSING": "missing_items",
    "DIFFERENT_DESCRIPTION": "not_as_described", "CHANGE_MIND": "changed_mind",
    "FUNCTIONAL_DMG": "quality_issue",
}
# The reason's own words, for a return whose buyer wrote nothing (classified by keywords).
REASON_TEXT: dict[str, str] = {
    "NOT_RECEIPT": "未收到货 not received", "ITEM_DAMAGED": "商品破损 item damaged",
    "PHYSICAL_DMG": "外观破损 physical damage", "ITEM_FAKE": "假货 fake item",
    "EXPECTATION_FAILED": "不符合预期 expectation failed",
    "ITEM_WRONGDAMAGED": "发错货或破损 wrong or damaged item",
    "MUTUAL_AGREE": "协商一致 mutual agreement",
}


def map_return(raw: Mapping[str, Any], account: Account) -> ChannelReturn:
    return_sn = ids_text(raw.get("return_sn"), "return_sn")
    order_sn = ids_text(raw.get("order_sn"), "order_sn")
    status = str(raw.get("status") or "")
    if status not in STATUS:
        raise unmappable("status", f"unknown Shopee return status {status[:40]!r}",
                         f"未知的 Shopee 退货状态 {status[:40]!r}")
    items = raw.get("item")
    if not isinstance(items, list) or not items:
        raise unmappable("item", f"Shopee return {return_sn} has no item list",
                         f"Shopee 退货 {return_sn} 没有商品列表")
    units: dict[str, int] = {}
    for i, item in enumerate(items):
        sku, amount = _line(item, f"item[{i}]")
        units[sku] = units.get(sku, 0) + amount
    reason = str(raw.get("reassessed_request_reason") or raw.get("reason") or "")
    words = text(raw.get("text_reason"), 2000)
    tag = REASON_TAGS.get(reason)
    refund = raw.get("refund_amount")
    return ChannelReturn(
        return_id=return_sn, order_external_id=order_sn, status=STATUS[status],
        platform_status=status, lines=tuple(units.items()),
        updated_at=from_unix(raw.get("update_time"), "update_time"),
        reason_text=words or REASON_TEXT.get(reason, ""), reason_code=reason,
        reason_tags=(tag,) if tag else (),
        refund_amount=None if refund is None else _amount(refund),
        currency=str(raw.get("currency") or account.currency or ""),
        created_at=from_unix(raw["create_time"], "create_time")
        if raw.get("create_time") is not None else None)


def _line(item: object, path: str) -> tuple[str, int]:
    if not isinstance(item, Mapping):
        raise unmappable(path, f"{path} is not an object", f"{path} 不是对象")
    amount = item.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise unmappable(f"{path}.amount", f"{path}.amount is not a positive count: "
                                           f"{amount!r}", f"{path}.amount 不是正整数：{amount!r}")
    item_id = ids_text(item.get("item_id"), f"{path}.item_id")
    model_id = str(item.get("model_id") if item.get("model_id") is not None else 0)
    sku = (text(item.get("variation_sku"), 100)
           or (text(item.get("item_sku"), 100) if model_id == "0" else "")
           or f"{item_id}:{model_id}")
    return sku, amount


def _amount(value: object) -> Decimal:
    return money(value, "refund_amount")
