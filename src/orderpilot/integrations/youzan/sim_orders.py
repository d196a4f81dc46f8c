"""Realistic Youzan trades for the simulator, in youzan.trade.get 4.0 ``data`` form.

Mini-program (小程序) orders of a baby-goods shop: 1-4 lines of the demo company's SKUs
(the WMS simulator stocks the same codes), item-level discounts (限时折扣, discount_price
below price), order-level promotions (coupons, 满减送), postage, the buyer's and receiver's
names, phones and street address encrypted as Youzan sends them ("$...$1$", reversible by the
simulator's youzan.cloud.secret.decrypt.batch), ids shaped as Youzan's (tid E + 23 digits,
19-digit oids).
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
FMT = "%Y-%m-%d %H:%M:%S"
CATALOGUE = (  # outer_sku_id, outer_item_id, item_id, sku_id, title, price
    ("DIAPER-L", "DIAPER", 457846930, 36001, "婴儿纸尿裤 L码 54片", "129.00"),
    ("DIAPER-M", "DIAPER", 457846930, 36002, "婴儿纸尿裤 M码 62片", "129.00"),
    ("FORMULA-2", "FORMULA", 457842156, 37002, "婴幼儿配方奶粉 2段 800g", "268.00"),
    ("FORMULA-3", "FORMULA", 457842156, 37003, "婴幼儿配方奶粉 3段 800g", "258.00"),
    ("WIPES-80", "WIPES-80", 450996611, 0, "婴儿手口湿巾 80抽", "19.90"),
    ("BOTTLE-240", "BOTTLE-240", 451230087, 0, "宽口径玻璃奶瓶 240ml", "89.00"),
    ("TEETHER-01", "TEETHER-01", 452201133, 0, "硅胶牙胶", "39.90"),
    ("CREAM-50", "CREAM-50", 453377901, 0, "婴儿润肤霜 50g", "59.00"),
)
PROVINCES = (("浙江省", "杭州市", "西湖区"), ("四川省", "成都市", "青羊区"),
             ("广东省", "深圳市", "南山区"), ("上海市", "上海市", "浦东新区"),
             ("江苏省", "苏州市", "工业园区"))
STATUS_MIX = ("WAIT_SELLER_SEND_GOODS",) * 6 + ("WAIT_BUYER_PAY", "WAIT_BUYER_CONFIRM_GOODS",
                                                "TRADE_SUCCESS", "TRADE_CLOSED")
STATUS_STR = {"WAIT_BUYER_PAY": "待支付", "TRADE_PAID": "已支付", "WAIT_CONFIRM": "待接单",
              "WAIT_SELLER_SEND_GOODS": "待发货", "WAIT_BUYER_CONFIRM_GOODS": "已发货",
              "TRADE_SUCCESS": "已完成", "TRADE_CLOSED": "已关闭"}


SHOP_KEY = b"sim-youzan-kdt-45678901"  # the simulated shop's own key (Youzan's keys are per shop)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲"
STREETS = ("文三路", "天府大道北段", "科技南十二路", "张杨路", "星湖街", "延安西路", "人民南路")
MOBILE_HEADS = ("138", "139", "158", "186", "137", "188", "135", "152")


def _stream(size: int) -> bytes:
    out = b""
    block = 0
    while len(out) < size:
        out += hashlib.sha256(SHOP_KEY + block.to_bytes(4, "big")).digest()
        block += 1
    return out[:size]


def seal(plain: str) -> str:
    """PLAIN as Youzan's ciphertext looks: "$" + base64 + "$1$". Deterministic with the shop's
    key, as Youzan's is (one phone, one ciphertext in a shop); a toy cipher, not security."""
    data = plain.encode()
    sealed = bytes(a ^ b for a, b in zip(data, _stream(len(data)), strict=True))
    return "$" + base64.b64encode(sealed).decode() + "$1$"


def unseal(value: str) -> str | None:
    """The plain text of a ciphertext made by :func:`seal`; None for anything else."""
    if not (value.startswith("$") and value.endswith("$1$")) or len(value) < 5:
        return None
    try:
        data = base64.b64decode(value[1:-3], validate=True)
        return bytes(a ^ b for a, b in zip(data, _stream(len(data)), strict=True)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def plain_value(kind: str, bits: int) -> str:
    """A realistic buyer's value of KIND ("name", "nick", "tel", "address") from 128 bits."""
    def pick(options: str | tuple[str, ...], shift: int) -> str:
        return options[(bits >> shift) % len(options)]
    name = pick(SURNAMES, 0) + pick(GIVEN, 8) + ("" if bits >> 16 & 1 else pick(GIVEN, 20))
    if kind in ("name", "nick"):
        return name if kind == "name" else f"{name[-1]}{pick(('宝妈', '妈妈', '小主'), 28)}"
    if kind in ("tel", "phone"):
        return pick(MOBILE_HEADS, 32) + f"{(bits >> 40) % 10**8:08d}"
    return (f"{pick(STREETS, 72)}{(bits >> 80) % 300 + 1}号{(bits >> 90) % 12 + 1}栋"
            f"{(bits >> 96) % 30 + 1:02d}0{(bits >> 104) % 4 + 1}室")


def cipher(rng: random.Random, kind: str) -> str:
    """A buyer's value of KIND encrypted as Youzan sends it (one 128-bit draw, as before)."""
    return seal(plain_value(kind, rng.getrandbits(128)))


def generate(count: int, seed: int, start: datetime, spread_seconds: int,
             first: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    step = spread_seconds / max(count, 1)
    latest = start + timedelta(seconds=spread_seconds)
    return [make_order(rng, first + n, start + timedelta(seconds=step * n), latest=latest)
            for n in range(count)]


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


FEN = tuple(int(Decimal(row[5]) * 100) for row in CATALOGUE)
FACTORS = (100, 100, 90, 85)  # percent of the price after a 限时折扣
NUMS = (1, 1, 1, 2, 3)


def make_order(rng: random.Random, serial: int, at: datetime, status: str | None = None,
               latest: datetime | None = None) -> dict[str, Any]:
    """One trade; money is worked out in fen (integers) and written as yuan strings."""
    r = rng.random
    created = at.astimezone(BEIJING)
    status = status or STATUS_MIX[int(r() * len(STATUS_MIX))]
    tid = f"E{created:%Y%m%d%H%M%S}{serial % 10**9:09d}"
    lines: list[dict[str, Any]] = []
    item_promos: list[dict[str, Any]] = []
    picks = list(range(len(CATALOGUE)))
    own: list[int] = []
    for k in range(1 + int(r() * 4)):
        j = k + int(r() * (len(picks) - k))
        picks[k], picks[j] = picks[j], picks[k]
        outer_sku, outer_item, item_id, sku_id, title, price = CATALOGUE[picks[k]]
        unit = FEN[picks[k]]
        num = NUMS[int(r() * len(NUMS))]
        now = unit * FACTORS[int(r() * len(FACTORS))] // 100
        oid = str(1507387350277000000 + serial * 10 + k)
        own.append(now * num)
        lines.append({"oid": oid, "item_id": item_id, "sku_id": sku_id, "title": title,
                      "outer_sku_id": outer_sku, "outer_item_id": outer_item, "num": num,
                      "price": price, "discount_price": yuan(now), "total_fee": yuan(unit * num),
                      "item_type": 0, "is_present": False, "sku_properties_name": "[]",
                      "points_price": "0", "buyer_messages": ""})
        if now < unit:
            item_promos.append({"oid": oid, "item_id": item_id, "sku_id": sku_id,
                                "is_present": False, "promotions": [{
                                    "promotion_type": "timelimitedDiscount",
                                    "promotion_type_name": "限时折扣",
                                    "discount_fee": yuan((unit - now) * num)}]})
    goods = sum(own)
    order_promos: list[dict[str, Any]] = []
    off = 0
    if goods >= 19900 and r() < 0.5:
        off = 2000
        order_promos.append({"promotion_type": "meetReduce", "promotion_type_name": "满减送",
                             "promotion_title": "满199减20", "discount_fee": "20.00"})
    elif r() < 0.3 and goods > 1000:
        off = 1000
        order_promos.append({"promotion_type": "coupon", "sub_promotion_type": "card",
                             "promotion_type_name": "优惠券", "promotion_title": "新客券",
                             "coupon_id": f"{rng.getrandbits(40):x}", "discount_fee": "10.00"})
    post_fee = 0 if goods >= 9900 else (600, 800, 1000)[int(r() * 3)]
    left = off
    for n, line in enumerate(lines):  # payment 商品最终均摊价: the line's share of the discount
        share = left if n == len(lines) - 1 else off * own[n] // goods
        left -= share
        line["payment"] = yuan(own[n] - share)
    province, city, district = PROVINCES[int(r() * len(PROVINCES))]
    created_s = created.strftime(FMT)
    info: dict[str, Any] = {
        "tid": tid, "status": status, "status_str": STATUS_STR[status], "type": 0,
        "created": created_s, "update_time": created_s, "pay_time": "", "consign_time": "",
        "success_time": "", "confirm_time": "",
        "expired_time": (created + timedelta(hours=1)).strftime(FMT),
        "pay_type_str": "WEIXIN_DAIXIAO", "pay_type": 10, "refund_state": 0, "close_type": 0,
        "express_type": 0, "team_type": 0, "is_retail_order": False,
        "order_tags": {"is_payed": False, "is_secured_transactions": True}}
    order = {
        "full_order_info": {
            "order_info": info,
            "buyer_info": {"yz_open_id": f"yz{rng.getrandbits(64):x}", "fans_type": 1,
                           "buyer_phone": cipher(rng, "phone"),
                           "fans_nickname": cipher(rng, "nick"),
                           "outer_user_id": f"oY0DB{rng.getrandbits(80):x}"},
            "address_info": {"receiver_name": cipher(rng, "name"),
                             "receiver_tel": cipher(rng, "tel"),
                             "delivery_province": province, "delivery_city": city,
                             "delivery_district": district,
                             "delivery_address": cipher(rng, "address"),
                             "delivery_postal_code": "", "self_fetch_info": "",
                             "address_extra": "{}"},
            "pay_info": {"total_fee": yuan(sum(FEN[i] * ln["num"]
                                               for i, ln in zip(picks, lines, strict=False))),
                         "post_fee": yuan(post_fee), "payment": yuan(goods - off + post_fee),
                         "outer_transactions": [], "transaction": [], "phase_payments": []},
            "remark_info": {"buyer_message": "请尽快发货" if r() < 0.3 else "", "star": 0},
            "source_info": {"is_offline_order": False, "order_mark": "wx_apps",
                            "source": {"platform": "wx", "wx_entrance": "merchant_xcx"}},
            "orders": lines},
        "order_promotion": {
            "item": item_promos, "order": order_promos, "adjust_fee": "0.00",
            "order_discount_fee": yuan(off),
            "item_discount_fee": yuan(sum(FEN[i] * ln["num"] for i, ln in
                                          zip(picks, lines, strict=False)) - goods)},
        "refund_order": [], "delivery_order": []}
    moved = created + timedelta(seconds=int(r() * 90))
    move(order, status, min(moved, latest) if latest is not None and latest >= created else moved)
    return order


def move(order: dict[str, Any], status: str, at: datetime) -> None:
    """Move ORDER to STATUS at AT, filling the times Youzan fills on the way."""
    info = order["full_order_info"]["order_info"]
    when = at.astimezone(BEIJING).strftime(FMT)
    info["status"], info["status_str"], info["update_time"] = status, STATUS_STR[status], when
    paid = status not in ("WAIT_BUYER_PAY", "TRADE_CLOSED") or bool(info.get("pay_time"))
    if status != "WAIT_BUYER_PAY" and status != "TRADE_CLOSED" and not info.get("pay_time"):
        info["pay_time"] = when
    info["order_tags"]["is_payed"] = paid
    if status in ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_SUCCESS") and not info.get("consign_time"):
        info["consign_time"] = when
    if status == "TRADE_SUCCESS":
        info["success_time"] = when
    if status == "TRADE_CLOSED":
        info["close_type"] = 4 if not info.get("pay_time") else 2  # buyer cancelled / refund
        info["refund_state"] = 12 if info.get("pay_time") else 0


def sample_order(index: int, at_iso: str) -> dict[str, Any]:
    """One generated trade (ChannelPlatform.sample_order)."""
    at = datetime.fromisoformat(at_iso.replace("Z", "+00:00"))
    return make_order(random.Random(index), index, at)
