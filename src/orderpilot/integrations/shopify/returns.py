"""Shopify returns and refunds as the hub's ChannelReturn.

Two things reach the hub:

* A **return** (the buyer's request, from the customer account or made by staff), by the
  ``returns/request``, ``returns/approve``, ``returns/decline``, ``returns/cancel`` and
  ``returns/close`` webhooks (topics: https://shopify.dev/docs/api/webhooks, "returns/...";
  the body is the Return in REST-style JSON, the way every webhook body is the REST
  representation, https://shopify.dev/docs/apps/build/webhooks/delivery-structure): ``id``,
  ``admin_graphql_api_id`` "gid://shopify/Return/<id>", ``status``, ``name`` "#1001-R1",
  ``order`` {``id``, ``admin_graphql_api_id``}, ``return_line_items[]`` {``id``,
  ``quantity``, ``return_reason``, ``return_reason_note``, ``customer_note``,
  ``fulfillment_line_item`` {``id``, ``line_item`` {``id``, ...}}}. The statuses are GraphQL's
  ReturnStatus (REQUESTED, OPEN, DECLINED, CANCELED, CLOSED,
  https://shopify.dev/docs/api/admin-graphql/latest/enums/ReturnStatus) and the reasons
  ReturnReason (COLOR, DEFECTIVE, NOT_AS_DESCRIBED, OTHER, SIZE_TOO_LARGE, SIZE_TOO_SMALL,
  STYLE, UNKNOWN, UNWANTED, WRONG_ITEM,
  https://shopify.dev/docs/api/admin-graphql/latest/enums/ReturnReason), lower-case in the
  webhook body. The REST Admin API has no Return resource (returns are GraphQL-only), so a
  return is not pulled: the order pull still brings its refunds (below).
* A **refund** (REST Refund resource, https://shopify.dev/docs/api/admin-rest/2026-04/resources/refund;
  the ``refunds/create`` webhook body, ``GET orders/{id}/refunds.json``, and ``refunds[]`` on
  the order): ``id``, ``order_id``, ``created_at``, ``processed_at``, ``note``,
  ``refund_line_items[]`` {``line_item_id``, ``quantity``, ``restock_type``, ``subtotal``,
  ``line_item`` {the order's line item, ``sku`` ...}}, ``transactions[]`` {``kind`` "refund",
  ``status`` "success", ``amount``, ``currency``}.

The line item a return line names carries its id only in Shopify's sample; its SKU comes
from the order's ``line_items`` (the client attaches them under ``order.line_items``,
ShopifyClient.with_order_lines), by the order mapping's own SKU rule. A return webhook
carries no time: ``updated_at`` is None and the hub's receipt time stands. Our reading, not
documented: a refund names its return under ``return`` {``id``} when it has one (else the
refund stands alone, as ``refund-<id>``), and the hub's own refunds carry ``HUB_NOTE`` in their
note (the hub writes it: see ShopifyClient.refund_return).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orderpilot.adapters.channels.base import Account
from orderpilot.domain.channel_orders import ids_text, iso, money, text, unmappable
from orderpilot.domain.channel_returns import ChannelReturn, merge_lines
from orderpilot.integrations.shopify.mapping import line_sku

STATUS_OF = {"requested": "requested", "open": "approved", "declined": "rejected",
             "canceled": "cancelled", "closed": "closed"}
# Only the reasons that obviously are one of ours; the rest leave the text to the keywords.
REASON_TAGS = {"defective": "quality_issue", "not_as_described": "not_as_described",
               "size_too_large": "wrong_size", "size_too_small": "wrong_size",
               "unwanted": "changed_mind", "wrong_item": "wrong_item"}
HUB_NOTE = "orderpilot return "
_HUB_NOTE = re.compile(re.escape(HUB_NOTE) + r"(\S+)")


def is_return(payload: Mapping[str, Any]) -> bool:
    gid = text(payload.get("admin_graphql_api_id"))
    return gid.startswith("gid://shopify/Return/") or "return_line_items" in payload


def is_refund(payload: Mapping[str, Any]) -> bool:
    return "order_id" in payload and "refund_line_items" in payload


def order_id_of(payload: Mapping[str, Any]) -> str:
    """The order a return names (``order.id``), "" when the body does not say."""
    order = _mapping(payload.get("order"))
    value = order.get("id") if order else payload.get("order_id")
    return ids_text(value, "order.id") if value not in (None, "") else ""


def map_return(raw: Mapping[str, Any], account: Account) -> ChannelReturn:
    """A Return webhook body (with the order's line items under ``order.line_items`` when
    the return lines carry no SKU) as a ChannelReturn."""
    return_id = ids_text(raw.get("id"), "id")
    status = text(raw.get("status")).lower()
    if status not in STATUS_OF:
        raise unmappable("status", f"unknown return status {status!r}",
                         f"未知的退货状态：{status!r}")
    order_id = order_id_of(raw)
    rows = raw.get("return_line_items")
    if status == "requested" and (not order_id or not rows):
        raise unmappable("order.id" if not order_id else "return_line_items",
                         "a return request must name its order and lines",
                         "退货申请必须写明订单和商品行")
    order_lines = {text(_mapping(i).get("id")): _mapping(i)
                   for i in _mapping(raw.get("order")).get("line_items") or []}
    pairs: list[tuple[str, int, Decimal | None, str]] = []
    reasons, notes = [], []
    for n, row in enumerate(rows or []):
        row = _mapping(row)
        where = f"return_line_items[{n}]"
        quantity = row.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise unmappable(f"{where}.quantity", f"{where}.quantity is not a positive count",
                             f"{where}.quantity 不是正整数")
        item = _mapping(_mapping(row.get("fulfillment_line_item")).get("line_item")) \
            or _mapping(row.get("line_item"))
        pairs.append((_return_sku(item, order_lines, where), quantity, None,
                      text(item.get("id"), 40)))
        reasons.append(text(row.get("return_reason")).lower())
        notes += [text(row.get(k), 500) for k in ("return_reason_note", "customer_note")
                  if text(row.get(k))]
    tags = tuple(dict.fromkeys(REASON_TAGS[r] for r in reasons if r in REASON_TAGS))
    return ChannelReturn(
        account=account.code, return_id=return_id, order_external_id=order_id,
        lines=merge_lines(pairs), status=STATUS_OF[status], platform_status=status,
        updated_at=None, reason_text=" / ".join(dict.fromkeys(notes))[:500],
        reason_code=",".join(dict.fromkeys(r for r in reasons if r))[:120],
        reason_tags=tags, currency=account.currency, raw=dict(raw))


def map_refund(raw: Mapping[str, Any], account: Account) -> ChannelReturn:
    """A Refund (refunds/create body, refunds.json, an order's refunds[]) as a refunded
    ChannelReturn: its lines by SKU, the amount its successful refund transactions paid."""
    refund_id = ids_text(raw.get("id"), "id")
    order_id = ids_text(raw.get("order_id"), "order_id")
    linked = _mapping(raw.get("return"))
    return_id = ids_text(linked["id"], "return.id") if linked.get("id") not in (None, "") \
        else f"refund-{refund_id}"
    pairs: list[tuple[str, int, Decimal | None, str]] = []
    for n, row in enumerate(raw.get("refund_line_items") or []):
        row = _mapping(row)
        where = f"refund_line_items[{n}]"
        quantity = row.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise unmappable(f"{where}.quantity", f"{where}.quantity is not a count",
                             f"{where}.quantity 不是整数")
        item = _mapping(row.get("line_item"))
        if not item:
            raise unmappable(f"{where}.line_item", f"{where} carries no line item",
                             f"{where} 没有商品行")
        subtotal = row.get("subtotal")
        amount = money(subtotal, f"{where}.subtotal") if subtotal is not None else None
        if quantity:
            pairs.append((line_sku(item), quantity, amount, text(row.get("line_item_id"), 40)))
    paid = Decimal("0.00")
    currency = account.currency
    for n, transaction in enumerate(raw.get("transactions") or []):
        transaction = _mapping(transaction)
        if transaction.get("kind") == "refund" and transaction.get("status") == "success":
            paid += money(transaction.get("amount"), f"transactions[{n}].amount")
            currency = text(transaction.get("currency"), 3) or currency
    moment = raw.get("processed_at") or raw.get("created_at")
    return ChannelReturn(
        account=account.code, return_id=return_id, order_external_id=order_id,
        lines=merge_lines(pairs), status="refunded", platform_status="refunded",
        updated_at=iso(moment, "processed_at") if moment else None,
        reason_text=text(raw.get("note"), 500), refund_amount=paid, currency=currency,
        raw=dict(raw))


def hub_return_of(refund: Mapping[str, Any]) -> str | None:
    """The hub's return id when the hub made this refund (its note carries HUB_NOTE)."""
    found = _HUB_NOTE.search(text(refund.get("note"), 500))
    return found.group(1) if found else None


def _return_sku(item: Mapping[str, Any], order_lines: Mapping[str, Mapping[str, Any]],
                where: str) -> str:
    if text(item.get("sku")) or item.get("product_id") is not None \
            or item.get("variant_id") is not None:
        return line_sku(item)
    line = order_lines.get(text(item.get("id")))
    if line is None:
        raise unmappable(f"{where}.fulfillment_line_item.line_item.id",
                         f"line item {text(item.get('id'))!r} is not on the order",
                         f"商品行 {text(item.get('id'))!r} 不在订单上")
    return line_sku(line)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
