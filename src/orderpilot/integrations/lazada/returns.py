"""A Lazada reverse order (逆向单: a buyer's return, refund-only or cancellation request) as
the hub's ChannelReturn.

Format facts and where they come from (Lazada Open Platform, "Return and Refund API"):

* GetReverseOrdersForSeller ``/reverse/getreverseordersforseller``
  (https://open.lazada.com/apps/doc/api?path=%2Freverse%2Fgetreverseordersforseller):
  ``page_size`` and ``page_no`` required, filters ``reverse_status_list``, ``ofc_status_list``,
  ``request_type_list``, ``ReverseOrderLineModifiedTimeRangeStart``/``...End`` ("timestamp in
  Milliseconds"). Answer ``result``: ``page_no``, ``page_size``, ``total``, ``success``,
  ``items[]``: ``reverse_order_id``, ``trade_order_id``, ``request_type`` (CANCEL, RETURN,
  ONLY_REFUND), ``is_rtm``, ``shipping_type``, ``reverse_order_lines[]`` with
  ``reverse_order_line_id``, ``trade_order_line_id``, ``seller_sku_id``, ``platform_sku_id``,
  ``product`` {``product_id``, ``product_sku``}, ``reverse_status``, ``ofc_status``,
  ``refund_amount``, ``item_unit_price``, ``reason_text``, ``reason_code``,
  ``return_order_line_gmt_create``/``..._modified``, ``tracking_number``, ``is_need_refund``.
* GetReverseOrderDetail ``/order/reverse/return/detail/list``
  (https://open.lazada.com/apps/doc/api?path=%2Forder%2Freverse%2Freturn%2Fdetail%2Flist):
  ``reverse_order_id`` required; answer ``data`` with the same header and the lines under
  ``reverseOrderLineDTOList`` (the product under ``productDTO`` {``product_id``, ``sku``}).
  ``reverse_status`` values documented there: REQUEST_INITIATE, REQUEST_REJECT,
  REQUEST_CANCEL, CANCEL_SUCCESS; ``ofc_status`` examples in the documented answers: INITIAL,
  RETURN_CANCELED.
* Money: ``refund_amount`` and ``item_unit_price`` are "currency in cent, except VN (for
  example for SG, 100 equals SGD $1; for VN, 10000 equals VND 10000)" (both pages).
* A reverse order line is one unit: order items are one row per unit (see mapping.py), each
  reverse line names one ``trade_order_line_id``; neither page documents a quantity.

The hub's statuses (domain/channel_returns.py RETURN_STATES): requested while any line is
open, cancelled when every line was cancelled (REQUEST_CANCEL, CANCEL_SUCCESS, ofc
RETURN_CANCELED) or refused (REQUEST_REJECT), refunded when every live line is refunded.

Our reading, not documented by Lazada: a line whose ``ofc_status`` or ``reverse_status`` is
one of REFUNDED_STATUSES has been refunded (Lazada publishes no list of ofc statuses); the SKU
fallback ``lazada:<product_id>:<platform_sku_id>`` assumes ``platform_sku_id`` is the
order item's ``sku_id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.adapters.channels.base import Account
from orderpilot.domain.channel_orders import (
    from_millis,
    ids_text,
    money,
    text,
    unmappable,
)
from orderpilot.domain.channel_returns import ChannelReturn
from orderpilot.integrations.lazada.mapping import REGION_CURRENCY

# Lazada's reason codes are numbers it does not publish a table of: none maps to a tag here,
# the reason text is classified by the hub's keyword table.
REASON_TAGS: dict[str, str] = {}
CANCELLED_STATUSES = frozenset({"REQUEST_CANCEL", "CANCEL_SUCCESS", "RETURN_CANCELED"})
REJECTED_STATUSES = frozenset({"REQUEST_REJECT"})
REFUNDED_STATUSES = frozenset({"REFUND_SUCCESS", "REFUNDED"})
REQUEST_TYPES = frozenset({"RETURN", "ONLY_REFUND", "CANCEL"})


def reverse_lines(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The lines of a reverse order from either call (list: reverse_order_lines; detail:
    reverseOrderLineDTOList)."""
    found = raw.get("reverse_order_lines")
    if found is None:
        found = raw.get("reverseOrderLineDTOList")
    return [line for line in found or [] if isinstance(line, Mapping)]


def line_refunded(line: Mapping[str, Any]) -> bool:
    return (text(line.get("ofc_status")).upper() in REFUNDED_STATUSES
            or text(line.get("reverse_status")).upper() in REFUNDED_STATUSES)


def return_status(lines: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(the hub's status, Lazada's statuses as sent) of a reverse order from its lines
    (RETURN_STATES): refunded when every live line is refunded; cancelled when no line is
    live (the buyer cancelled, or the seller's refusal stood); else requested (Lazada
    documents no "agreed" status a line reaches before its refund)."""
    shown = sorted({f"{text(line.get('reverse_status'))}/{text(line.get('ofc_status'))}"
                    for line in lines})
    states = [_line_state(line) for line in lines]
    live = [s for s in states if s not in ("cancelled", "rejected")]
    if live and all(s == "refunded" for s in live):
        status = "refunded"
    elif not live:
        status = "cancelled"
    else:
        status = "requested"
    return status, ",".join(shown)[:120]


def _line_state(line: Mapping[str, Any]) -> str:
    reverse = text(line.get("reverse_status")).upper()
    ofc = text(line.get("ofc_status")).upper()
    if line_refunded(line):
        return "refunded"
    if reverse in REJECTED_STATUSES:
        return "rejected"
    if reverse in CANCELLED_STATUSES or ofc in CANCELLED_STATUSES:
        return "cancelled"
    return "requested"


def map_return(raw: Mapping[str, Any], account: Account) -> ChannelReturn:
    """One reverse order (a GetReverseOrdersForSeller item or GetReverseOrderDetail's data)
    as a ChannelReturn (MappingError naming Lazada's field when it cannot be read)."""
    return_id = ids_text(raw.get("reverse_order_id"), "reverse_order_id")
    order_id = ids_text(raw.get("trade_order_id"), "trade_order_id")
    request_type = text(raw.get("request_type")).upper()
    if request_type and request_type not in REQUEST_TYPES:
        raise unmappable("request_type", f"unknown request_type {request_type!r}",
                         f"未知的 request_type：{request_type!r}")
    lines = reverse_lines(raw)
    if not lines:
        raise unmappable("reverse_order_lines", "the reverse order has no lines",
                         "逆向单没有商品行")
    fen = account.region.strip().upper() != "VN"
    units: dict[str, int] = {}
    refunds: list[Decimal] = []
    moments: list[datetime] = []
    created: list[datetime] = []
    for n, line in enumerate(lines):
        where = f"reverse_order_lines[{n}]"
        refund = line.get("refund_amount")
        if refund not in (None, ""):
            refunds.append(money(refund, f"{where}.refund_amount", fen=fen))
        sku = _sku(line, where)
        units[sku] = units.get(sku, 0) + 1
        for key, found in (("return_order_line_gmt_modified", moments),
                           ("return_order_line_gmt_create", created)):
            value = line.get(key)
            if value not in (None, "", 0, "0"):
                found.append(from_millis(value, f"{where}.{key}"))
    if not moments and not created:
        raise unmappable("reverse_order_lines[0].return_order_line_gmt_modified",
                         "the reverse order has no line time", "逆向单没有行时间")
    status, shown = return_status(lines)
    first = lines[0]
    code = text(first.get("reason_code"), 40)
    return ChannelReturn(
        return_id=return_id, order_external_id=order_id, status=status,
        platform_status=shown, lines=tuple(units.items()),
        updated_at=max(moments or created), reason_text=text(first.get("reason_text"), 500),
        reason_code=code, reason_tags=(REASON_TAGS[code],) if code in REASON_TAGS else (),
        refund_amount=sum(refunds, Decimal("0.00")) if refunds else None,
        currency=account.currency or REGION_CURRENCY.get(account.region.upper(), ""),
        created_at=min(created) if created else None)


def _sku(line: Mapping[str, Any], where: str) -> str:
    """The seller's SKU (``seller_sku_id``) as the order mapping uses ``sku``; else
    ``lazada:<product_id>:<platform_sku_id>`` as the order mapping's fallback."""
    seller_sku = text(line.get("seller_sku_id"), 120)
    if seller_sku:
        return seller_sku
    product = line.get("product") or line.get("productDTO") or {}
    product_id = text(product.get("product_id"), 40) if isinstance(product, Mapping) else ""
    platform_sku = text(line.get("platform_sku_id"), 40)
    if product_id or platform_sku:
        return f"lazada:{product_id}:{platform_sku}"
    raise unmappable(f"{where}.seller_sku_id", "the reverse order line names no SKU",
                     "逆向单行没有 SKU")
