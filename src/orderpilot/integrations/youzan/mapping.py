"""A Youzan trade (youzan.trade.get 4.0.x ``data``) as a :class:`ChannelOrder`.

Format facts and where they come from:

* Shape ``{full_order_info: {order_info, buyer_info, address_info, pay_info, remark_info,
  orders: [...]}, order_promotion, refund_order, delivery_order}``; the answer envelope
  ``{success, code: 200, message, data}``: youzan.trade.get doc
  https://doc.youzanyun.com/detail/API/0/71 as modelled in a public Java model generated from
  Youzan's SDK (class YouzanTradeGetResult, package me.zhengjie.support.youzan), and a real
  answer kept in github.com/zedisdog/youzanphp tests/TradeTest.php (tid
  E20190326101702000600011, used as our contract sample).
* ``tid`` "E开头长度24位" (E + 23 digits); ``oid`` a string (19 digits in real answers).
* Money: yuan as decimal strings ("0.30") in ``pay_info`` (total_fee 优惠前商品总价,
  post_fee 邮费, payment 最终支付价格), ``orders[]`` (price 单商品原价, discount_price
  单商品现价 = unit price after item-level discounts, total_fee, payment 商品最终均摊价) and
  ``order_promotion`` (order_discount_fee 订单级优惠, item_discount_fee 商品级优惠,
  adjust_fee 改价: "0.01" = price lowered by 0.01, "-0.01" = raised). The Java model calls
  ``orders[].total_fee`` 商品优惠前总价 (before discounts) while the 4.0.4 doc
  (github.com/waywake/youzan-sdk-ts src/api-types/youzan-trades-sold-get-v404.ts, generated
  from Youzan's docs) calls it 商品优惠后总价 (after): both readings are accepted, anything
  else contradicts the line. Fen (cents, integers) only in ``order_info.order_extra`` cash
  fields and ``pay_info.deduction_pay`` (gift/stored-value card part, kept in ``extra``).
* Times: zone-less "yyyy-MM-dd HH:mm:ss", Beijing time (Asia/Shanghai); empty string when
  not reached (real answers: ``"success_time": ""``).
* Statuses and refund states: statuses.py. ``pay_time`` gives payment.succeeded.
* Receiver name/phone/address are ciphertext "$...$1$" (docs/guide/encryption.md in
  github.com/cesing/youzanyun-doc, and the real order in
  github.com/inNovationGG/petnote_admin_server test.js). The hub decrypts them before mapping
  (decryption.py); a ciphertext still found here becomes withheld.NOT_DECRYPTED, never stored.
* Lines: seller SKU = ``outer_sku_id`` (规格编码), else ``outer_item_id`` (商品编码) for an
  item without variants (sku_id 0), else ``YZ-{item_id}-{sku_id}``.
* All Youzan promotions are the shop's own (Youzan is the shop's SaaS, not a marketplace):
  coupons are seller vouchers, 积分抵扣 points are "coins", 抹零 is rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.domain.channel_orders import (
    Account,
    ChannelLine,
    ChannelOrder,
    Package,
    StatusChange,
    ids_text,
    local,
    money,
    text,
    unmappable,
)
from orderpilot.domain.withheld import NOT_DECRYPTED
from orderpilot.integrations.youzan.decryption import is_cipher
from orderpilot.integrations.youzan.statuses import BY_STATUS, PAID_STATUSES

ZONE = "Asia/Shanghai"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PROMOTION_KINDS = {
    "coupon": "seller_voucher", "pointsExchange": "coins", "ignoreOddChange": "rounding",
    "customerPostageFree": "shipping_discount", "periodBuyPostageFree": "shipping_discount",
    "supplierMeetReduce": "shipping_discount",
}


def _obj(value: object, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise unmappable(field, f"{field} is not an object", f"{field} 不是对象")
    return value


def _list(value: object) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):  # the doc's own example sends a single object
        return [value]
    return list(value) if isinstance(value, list | tuple) else []


def _time(value: object, field: str) -> datetime | None:
    if value is None or str(value).strip() in ("", "null"):
        return None
    return local(value, ZONE, field)


def _opt_money(value: object, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "null")):
        return None
    return money(value, field)


def trade_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The trade.get ``data`` object, whether given as is or inside the answer envelope."""
    if "full_order_info" not in raw and isinstance(raw.get("data"), Mapping):
        return raw["data"]  # type: ignore[no-any-return]
    return raw


def map_order(raw: Mapping[str, Any], account: Account) -> ChannelOrder:
    trade = trade_of(raw)
    full = _obj(trade.get("full_order_info"), "full_order_info")
    info = _obj(full.get("order_info"), "full_order_info.order_info")
    tid = ids_text(info.get("tid"), "full_order_info.order_info.tid")
    status = str(info.get("status") or "")
    if status not in BY_STATUS:
        raise unmappable("full_order_info.order_info.status", f"unknown Youzan status {status!r}",
                         f"未知的有赞订单状态：{status!r}")
    placed = _time(info.get("created"), "full_order_info.order_info.created")
    if placed is None:
        raise unmappable("full_order_info.order_info.created", "the order has no created time",
                         "订单没有创建时间")
    updated = _time(info.get("update_time"), "full_order_info.order_info.update_time") or placed
    pay = _obj(full.get("pay_info"), "full_order_info.pay_info")
    paid_total = money(pay.get("payment"), "full_order_info.pay_info.payment")
    shipping = _opt_money(pay.get("post_fee"), "full_order_info.pay_info.post_fee") or ZERO
    address = _obj(full.get("address_info"), "full_order_info.address_info")
    buyer = _obj(full.get("buyer_info"), "full_order_info.buyer_info")
    remark = _obj(full.get("remark_info"), "full_order_info.remark_info")
    order = ChannelOrder(
        external_id=tid, placed_at=placed, updated_at=updated,
        currency=account.currency or "CNY", status=status,
        buyer_name=_readable(address.get("receiver_name") or buyer.get("fans_nickname")),
        buyer_phone=_readable(address.get("receiver_tel") or buyer.get("buyer_phone")),
        address={"country": "CN", "province": text(address.get("delivery_province")),
                 "city": text(address.get("delivery_city")),
                 "district": text(address.get("delivery_district")),
                 "line1": _readable(address.get("delivery_address"), 500),
                 "postal_code": text(address.get("delivery_postal_code"))},
        lines=_lines(full.get("orders")), shipping_fee=shipping, paid_total=paid_total,
        adjustments=_adjustments(_obj(trade.get("order_promotion"), "order_promotion")),
        statuses=_statuses(info, status, placed, updated),
        packages=_packages(trade.get("delivery_order")),
        buyer_note=text(remark.get("buyer_message"), 500), extra=_extra(info, pay))
    return order.explained()


def _readable(value: object, limit: int = 200) -> str:
    return NOT_DECRYPTED if is_cipher(value) else text(value, limit)


def _lines(orders: object) -> tuple[ChannelLine, ...]:
    rows = _list(orders)
    if not rows:
        raise unmappable("full_order_info.orders", "the order has no lines", "订单没有商品明细")
    return tuple(_line(_obj(row, f"full_order_info.orders[{i}]"), f"full_order_info.orders[{i}]")
                 for i, row in enumerate(rows))


def _line(row: Mapping[str, Any], path: str) -> ChannelLine:
    try:
        quantity = int(str(row.get("num")))
    except ValueError:
        quantity = 0
    if quantity <= 0:
        raise unmappable(f"{path}.num", f"{path}.num is not a positive count: {row.get('num')!r}",
                         f"{path}.num 不是正整数：{row.get('num')!r}")
    price = money(row.get("price"), f"{path}.price")
    now_price = _opt_money(row.get("discount_price"), f"{path}.discount_price") or price
    total = _opt_money(row.get("total_fee"), f"{path}.total_fee")
    gross = price * quantity
    if now_price > price:
        raise unmappable(f"{path}.discount_price",
                         f"{path}: discount_price {now_price} is above price {price}",
                         f"{path}：现价 {now_price} 高于原价 {price}")
    if total is None or total == gross:
        discount = (price - now_price) * quantity
    elif total < gross and abs(total - now_price * quantity) <= CENT * quantity:
        discount = gross - total  # total_fee read as the line after its item discounts
    else:
        raise unmappable(f"{path}.total_fee",
                         f"{path}: total_fee {total} is neither {quantity} x price {price} nor "
                         f"{quantity} x discount_price {now_price}",
                         f"{path}：total_fee {total} 既不等于 {quantity}×原价 {price}，"
                         f"也不等于 {quantity}×现价 {now_price}")
    return ChannelLine(sku=_sku(row, path), quantity=quantity, unit_price=price,
                       discount=discount.quantize(CENT), name=text(row.get("title")),
                       item_ids=(ids_text(row.get("oid"), f"{path}.oid"),))


def _sku(row: Mapping[str, Any], path: str) -> str:
    outer_sku = text(row.get("outer_sku_id"))
    if outer_sku and outer_sku != "null":
        return outer_sku
    sku_id = str(row.get("sku_id") if row.get("sku_id") is not None else "0")
    outer_item = text(row.get("outer_item_id"))
    if outer_item and outer_item != "null" and sku_id == "0":
        return outer_item
    item = ids_text(row.get("item_id"), f"{path}.item_id")
    return f"YZ-{item}-{sku_id}"


def _adjustments(promotion: Mapping[str, Any]) -> tuple[tuple[str, Decimal], ...]:
    found: dict[str, Decimal] = {}
    listed = ZERO
    for i, row in enumerate(_list(promotion.get("order"))):
        entry = _obj(row, f"order_promotion.order[{i}]")
        fee = _opt_money(entry.get("discount_fee"), f"order_promotion.order[{i}].discount_fee")
        if fee:
            kind = PROMOTION_KINDS.get(str(entry.get("promotion_type") or ""), "seller_discount")
            found[kind] = found.get(kind, ZERO) - fee
            listed += fee
    whole = _opt_money(promotion.get("order_discount_fee"), "order_promotion.order_discount_fee")
    if whole and not listed:
        found["seller_discount"] = found.get("seller_discount", ZERO) - whole
    adjust = _opt_money(promotion.get("adjust_fee"), "order_promotion.adjust_fee")
    if adjust:  # "0.01": the shop lowered the price by 0.01; "-0.01": raised it
        found["seller_discount"] = found.get("seller_discount", ZERO) - adjust
    return tuple((kind, amount) for kind, amount in found.items() if amount)


def _statuses(info: Mapping[str, Any], status: str, placed: datetime,
              updated: datetime) -> tuple[StatusChange, ...]:
    base = "full_order_info.order_info."
    pay_time = _time(info.get("pay_time"), base + "pay_time")
    changes: list[StatusChange] = []
    if pay_time is not None and (status in PAID_STATUSES or status == "TRADE_CLOSED"):
        changes.append(StatusChange("payment.succeeded", "TRADE_PAID", pay_time))
    if status == "WAIT_BUYER_PAY":
        changes.append(StatusChange("system.status", status, placed))
    elif status == "TRADE_PAID":
        if pay_time is None:
            changes.append(StatusChange("payment.succeeded", status, updated))
    elif status == "WAIT_BUYER_CONFIRM_GOODS":
        at = _time(info.get("consign_time"), base + "consign_time") or updated
        changes.append(StatusChange("system.status", status, at))
    elif status == "TRADE_SUCCESS":
        at = _time(info.get("success_time"), base + "success_time") or updated
        changes.append(StatusChange("order.completed", status, at))
    else:
        changes.append(StatusChange(BY_STATUS[status].event_type, status, updated))
    refund = f"refund_state:{info.get('refund_state')}"
    if refund in BY_STATUS:
        changes.append(StatusChange(BY_STATUS[refund].event_type, refund, updated))
    return tuple(sorted(changes, key=lambda c: c.occurred_at))


def _packages(delivery: object) -> tuple[Package, ...]:
    packages = []
    for i, row in enumerate(_list(delivery)):
        entry = _obj(row, f"delivery_order[{i}]")
        oids = tuple(str(_obj(o, f"delivery_order[{i}].oids").get("oid"))
                     for o in _list(entry.get("oids")))
        state = "shipped" if str(entry.get("express_state")) == "1" else "waiting"
        for j, dist in enumerate(_list(entry.get("dists"))):
            d = _obj(dist, f"delivery_order[{i}].dists[{j}]")
            express = _obj(d.get("express_info"), f"delivery_order[{i}].dists[{j}].express_info")
            packages.append(Package(package_id=text(d.get("dist_id")),
                                    tracking_number=text(express.get("express_no")),
                                    carrier=text(express.get("express_id")), status=state,
                                    item_ids=oids))
    return tuple(packages)


def _extra(info: Mapping[str, Any], pay: Mapping[str, Any]) -> dict[str, str]:
    extra = {key: text(info.get(key)) for key in
             ("status_str", "pay_type_str", "express_type", "refund_state", "close_type",
              "shop_name") if info.get(key) not in (None, "")}
    card = pay.get("deduction_pay")
    if isinstance(card, int) and not isinstance(card, bool) and card:
        extra["deduction_pay_yuan"] = str(money(card, "full_order_info.pay_info.deduction_pay",
                                                fen=True))
    return extra



def lines_by_oid(raw: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """oid -> (seller SKU, quantity) of a trade's lines, by the same SKU rule as map_order:
    what a refund's ``oid`` names (refunds.py)."""
    full = _obj(trade_of(raw).get("full_order_info"), "full_order_info")
    found: dict[str, tuple[str, int]] = {}
    for i, row in enumerate(_list(full.get("orders"))):
        path = f"full_order_info.orders[{i}]"
        line = _obj(row, path)
        try:
            quantity = int(str(line.get("num")))
        except ValueError:
            quantity = 0
        found[ids_text(line.get("oid"), f"{path}.oid")] = (_sku(line, path), quantity)
    return found
