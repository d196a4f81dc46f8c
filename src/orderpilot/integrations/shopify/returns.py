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

The REST Admin API has no Return resource: the hub reads a return with the GraphQL Admin
API's ``return(id:)`` query and lists them through ``orders(query: "updated_at:...")``
(ShopifyClient.get_returns / list_returns turn the answer into the webhook's shape above,
with the order's line items under ``order.line_items``, the return's ``refunds`` and
``fetched_at``, the time it was read: the Return carries no update time we read). A push only
tells the hub which return to read. The SKU of a returned line item is the order mapping's
own rule over that line item.

Our reading, not documented: a refund names its return under ``return`` {``id``} when it has
one; the hub's own refunds carry ``HUB_NOTE`` and the Shopify return id in their note (the hub
writes it: see ShopifyClient.refund_return). A refund of no return (a cancellation, a goodwill
refund in the admin) is not a return: the order notice covers it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from orderpilot.adapters.channels.base import Account
from orderpilot.domain.channel_orders import ids_text, iso, money, text, unmappable
from orderpilot.domain.channel_returns import ChannelReturn
from orderpilot.integrations.shopify.mapping import line_sku

# Shopify's return status -> the hub's (domain/channel_returns.py RETURN_STATES): an open
# (approved) return is not refunded yet, so still "requested" for the hub; declined and
# canceled ones are closed without a refund; a closed one is done at Shopify ("accepted": the
# hub sends no refund for it). A return with refunds is "refunded".
STATUS_OF = {"requested": "requested", "open": "requested", "declined": "cancelled",
             "canceled": "cancelled", "closed": "accepted"}
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
    """A Return (as ShopifyClient.get_returns gives it, with the order's line items under
    ``order.line_items`` and its ``refunds``) or a Refund that names its return, as a
    ChannelReturn."""
    if is_refund(raw):
        return map_refund(raw, account)
    return_id = ids_text(raw.get("id"), "id")
    shown = text(raw.get("status")).lower()
    if shown not in STATUS_OF:
        raise unmappable("status", f"unknown return status {shown!r}",
                         f"未知的退货状态：{shown!r}")
    order_id = order_id_of(raw)
    rows = raw.get("return_line_items")
    if not order_id or not rows:
        raise unmappable("order.id" if not order_id else "return_line_items",
                         "a return must name its order and lines", "退货必须写明订单和商品行")
    order_lines = {text(_mapping(i).get("id")): _mapping(i)
                   for i in _mapping(raw.get("order")).get("line_items") or []}
    units: dict[str, int] = {}
    reasons, notes = [], []
    for n, row in enumerate(rows):
        row = _mapping(row)
        where = f"return_line_items[{n}]"
        quantity = row.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise unmappable(f"{where}.quantity", f"{where}.quantity is not a positive count",
                             f"{where}.quantity 不是正整数")
        item = _mapping(_mapping(row.get("fulfillment_line_item")).get("line_item")) \
            or _mapping(row.get("line_item"))
        sku = _return_sku(item, order_lines, where)
        units[sku] = units.get(sku, 0) + quantity
        reasons.append(text(row.get("return_reason")).lower())
        notes += [text(row.get(k), 500) for k in ("return_reason_note", "customer_note")
                  if text(row.get(k))]
    moment = raw.get("updated_at") or raw.get("fetched_at")
    if not moment:
        raise unmappable("updated_at", "the return carries no time", "退货没有时间")
    refunds = [r for r in raw.get("refunds") or [] if isinstance(r, Mapping)]
    tags = tuple(dict.fromkeys(REASON_TAGS[r] for r in reasons if r in REASON_TAGS))
    return ChannelReturn(
        return_id=return_id, order_external_id=order_id,
        status="refunded" if refunds else STATUS_OF[shown], platform_status=shown,
        lines=tuple(units.items()), updated_at=iso(moment, "updated_at"),
        reason_text=" / ".join(dict.fromkeys(notes))[:500],
        reason_code=",".join(dict.fromkeys(r for r in reasons if r))[:120],
        reason_tags=tags, currency=account.currency)


def refund_return_id(raw: Mapping[str, Any]) -> str | None:
    """The return a refund belongs to: the one it names under ``return``, else the one the
    hub's note names (a refund the hub made); None for a refund of no return."""
    linked = _mapping(raw.get("return"))
    if linked.get("id") not in (None, ""):
        return ids_text(linked["id"], "return.id")
    return hub_return_of(raw)


def map_refund(raw: Mapping[str, Any], account: Account) -> ChannelReturn:
    """A Refund that belongs to a return (refund_return_id) as that return, refunded: its
    lines by SKU, the amount its successful refund transactions paid."""
    order_id = ids_text(raw.get("order_id"), "order_id")
    return_id = refund_return_id(raw)
    if return_id is None:
        raise unmappable("return.id", "the refund belongs to no return", "该退款不属于任何退货")
    units: dict[str, int] = {}
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
        if quantity:
            units[line_sku(item)] = units.get(line_sku(item), 0) + quantity
    paid = Decimal("0.00")
    currency = account.currency
    for n, transaction in enumerate(raw.get("transactions") or []):
        transaction = _mapping(transaction)
        if transaction.get("kind") == "refund" and transaction.get("status") == "success":
            paid += money(transaction.get("amount"), f"transactions[{n}].amount")
            currency = text(transaction.get("currency"), 3) or currency
    moment = raw.get("processed_at") or raw.get("created_at")
    if not moment:
        raise unmappable("created_at", "the refund carries no time", "退款没有时间")
    return ChannelReturn(
        return_id=return_id, order_external_id=order_id, status="refunded",
        platform_status="refunded", lines=tuple(units.items()),
        updated_at=iso(moment, "processed_at"), reason_text=text(raw.get("note"), 500),
        refund_amount=paid, currency=currency)


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
