"""Youzan after-sales (维权 / 售后单): the formats, and one refund as a return request.

Format facts and where they come from (none verified against a live shop):

* **youzan.trade.refund.get** ``{refund_id}`` -> ``data`` = one 售后单: ``refund_id`` (维权ID,
  "年月日时分秒+10位随机数", e.g. 201907042058500000031002), ``tid``, ``oid`` (the first refunded
  line), ``refund_order_item: [{oid, refund_fee (fen), item_num}]`` (every refunded line),
  ``refund_fee`` (yuan string, postage included), ``refund_postage`` (yuan), ``status``,
  ``demand`` (1 仅退款, 2 退货退款, 3 换货), ``return_goods`` (bool), ``reason`` (integer code,
  REASON_CODES), ``desc`` (the buyer's words, 售后说明), ``refund_type`` (BUYER_APPLY_REFUND /
  SELLER_REFUND / EXCHANGE_GOODS / SYSTEM_REFUND), ``version`` (a long every seller action
  must echo), ``created`` / ``modified`` ("yyyy-MM-dd HH:mm:ss", Beijing), ``item_num``
  ("在仅退款状态下返回值为0"). Sources: github.com/TsangJx/YouZanYunSDK
  API/Node/Trade/Refund/GetV3Data.cs and API/Node/Trade/RefundNode.cs
  (youzan.trade.refund.get 3.0.0, https://doc.youzanyun.com/detail/API/0/135); version
  3.0.1, the errors 103011024 (退款记录不存在), 103010039 (退款版本号错误) and
  102010002 (操作过期，请刷新后确认最新退款状态) and the flow "get status + version, act, on
  those two errors get again" from a published note of Youzan's after-sales docs
  ("售后与退款", taken from doc.youzanyun.com 2026-09-11, not verified with real
  credentials).
* **Statuses** (售后单 ``status``): WAIT_SELLER_AGREE, WAIT_BUYER_RETURN_GOODS,
  WAIT_SELLER_CONFIRM_GOODS, SELLER_REFUSE_BUYER, SELLER_REFUSE_BUYER_RETURN_GOODS,
  SELLER_RETURN_GOODS (exchange sent), CLOSED (the buyer withdrew), SUCCESS: GetV3Data.cs;
  CUSTOMER_SERVICE_IN (客满介入) from the search parameters in RefundNode.cs.
* **youzan.trade.refund.agree** 3.0.1 ``{refund_id, version}`` -> ``{is_success}`` and
  **youzan.trade.returngoods.agree** 3.0.0 ``{refund_id, version, name, mobile, address,
  post?, tel?, remark?}`` -> ``{is_success}``: github.com/nest-mods/youzan
  model/seller_refund/trade-refund-agree.d.ts and trade-returngoods-agree.d.ts; the versions
  from the note above and from Youzan's Java SDK class YouzanTradeReturngoodsAgree
  (getVersion "3.0.0"). A goods return is refunded with refund.agree once the goods are back
  (WAIT_SELLER_CONFIRM_GOODS), as the note's "典型 ERP 流程" says.
* **youzan.trade.refund.search** 3.0.1: ``update_time_start`` / ``update_time_end`` in epoch
  seconds, ``page_no`` <= 100, ``page_no`` x ``page_size`` <= 3000 -> ``data: {total,
  refunds: [{refund_id, tid, status, modified, ...}]}``: RefundNode.cs parameters and the
  note.
* **Push** (trade_refund_* messages, client.py/push.py envelope): ``id`` is the tid, ``msg``
  URL-encoded JSON ``{tid, oids, refund_id, refunded_fee (yuan), refund_type, refund_reason,
  refund_reason_desc, update_time}``: TsangJx/YouZanYunSDK Msg/TradeRefundMsg.cs and
  Msg/TradeRefund*Data.cs (types and doc pages MSG/201-214, PUSH_TYPES);
  github.com/hesi726/youzan_CSharp youzan/com/youzan/push/PushMessage_TradeOrderRefund.cs
  (refund_type REFUND_ONLY / REFUND_AND_RETURN and the refund_reason words, PUSH_REASONS).
  The push is a notice only: the hub reads the refund with refund.get (the push lacks the
  lines' quantities and the version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.domain.channel_orders import (
    Account,
    MappingError,
    ids_text,
    local,
    money,
    text,
    unmappable,
)
from orderpilot.domain.channel_returns import ChannelReturn

ZONE = "Asia/Shanghai"
GET_API, GET_VERSION = "youzan.trade.refund.get", "3.0.1"
SEARCH_API, SEARCH_VERSION = "youzan.trade.refund.search", "3.0.1"
AGREE_API, AGREE_VERSION = "youzan.trade.refund.agree", "3.0.1"
GOODS_API, GOODS_VERSION = "youzan.trade.returngoods.agree", "3.0.0"
NO_SUCH_REFUND = 103011024
STALE_CODES = frozenset({103010039, 102010002})  # wrong version / state changed: read again
SEARCH_PAGE_SIZE = 100
SEARCH_MAX = 3000  # page_no x page_size

# Youzan refund status -> (what it means to the hub: domain/channel_returns.RETURN_STATES,
# zh, en). Only SUCCESS means the money moved (refund.agree pays at once), so nothing maps to
# "accepted": an agreed goods return still waits for refund.agree. A refusal is not final at
# Youzan (the buyer may ask again, 再次发起, or call in Youzan's service); CLOSED is, and an
# exchange sent (换货) closes without a refund.
STATUSES: dict[str, tuple[str, str, str]] = {
    "WAIT_SELLER_AGREE": ("requested", "买家已申请，等待卖家同意", "Waiting for the seller"),
    "CUSTOMER_SERVICE_IN": ("requested", "客满介入中", "Youzan customer service involved"),
    "WAIT_BUYER_RETURN_GOODS": ("requested", "卖家已同意，等待买家退货",
                                "Agreed, waiting for the buyer to send the goods back"),
    "WAIT_SELLER_CONFIRM_GOODS": ("requested", "买家已退货，等待卖家确认收货",
                                  "The buyer sent the goods back"),
    "SELLER_REFUSE_BUYER": ("requested", "卖家拒绝退款", "The seller refused"),
    "SELLER_REFUSE_BUYER_RETURN_GOODS": ("requested", "卖家未收到货，拒绝退款",
                                         "Refused: the goods did not arrive"),
    "SELLER_RETURN_GOODS": ("cancelled", "卖家确认收货并发出换货", "Exchange sent"),
    "CLOSED": ("cancelled", "退款关闭（买家撤销）", "Closed (the buyer withdrew)"),
    "SUCCESS": ("refunded", "退款成功", "Refunded"),
}
# Statuses in which refund.agree pays the buyer (refund only, or the goods are back).
AGREE_PAYS = frozenset({"WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS"})

# refund.get ``reason`` codes (GetV3Data.cs) -> (Youzan's words, our tags where they
# obviously correspond). Codes without tags are classified from their words with the hub's
# keyword table (e.g. 16 商品破损/少件 gives 破损 and 少件).
REASON_CODES: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("商家主动退款", ()), 1: ("买/卖双方协商一致", ()),
    2: ("买错/多买/不想要", ("changed_mind",)), 3: ("商品质量问题", ("quality_issue",)),
    4: ("未收到货品", ()), 5: ("做工粗糙/有瑕疵", ("quality_issue",)),
    11: ("质量问题", ("quality_issue",)), 12: ("拍错/多拍/不喜欢", ("changed_mind",)),
    13: ("商品描述不符", ("not_as_described",)), 14: ("假货", ()),
    15: ("商家发错货", ("wrong_item",)), 16: ("商品破损/少件", ()), 17: ("其他", ()),
    18: ("仅退款", ()), 19: ("协商一致退款", ()), 20: ("快递一直未送达", ()),
    21: ("未按约定时间发货", ("slow_delivery",)), 22: ("拍错/不想要", ("changed_mind",)),
    23: ("计划有变无法使用", ()), 24: ("商家降价", ()), 25: ("非正品", ()),
    51: ("买错/多买/不想要", ("changed_mind",)), 52: ("快递无记录", ()),
    53: ("少货/空包裹", ("missing_items",)), 54: ("未按约定时间发货", ("slow_delivery",)),
    55: ("快递一直未送达", ()), 56: ("其他", ()), 57: ("拍错/多拍/不喜欢", ("changed_mind",)),
    58: ("协商一致退款", ()), 101: ("商品破损/少件", ()), 102: ("商家发错货", ("wrong_item",)),
    103: ("商品描述不符", ("not_as_described",)), 104: ("拍错/多拍/不喜欢", ("changed_mind",)),
    105: ("质量问题", ("quality_issue",)), 106: ("假货", ()), 107: ("其他", ()),
    108: ("做工粗糙/有瑕疵", ("quality_issue",)), 109: ("非正品", ()),
    110: ("未按约定时间发货", ("slow_delivery",)), 111: ("退货退款", ()),
    112: ("7天无理由退货", ("no_reason_7_days",)),
}
# The push's ``refund_reason`` words (PushMessage_TradeOrderRefund.cs) -> a refund.get code.
PUSH_REASONS: dict[str, int] = {
    "REFUND_QUALITY": 11, "REFUND_BUYWRONG": 12, "REFUND_INCONFORMITY": 13, "REFUND_FAKE": 14,
    "REFUND_SENDWRONG": 15, "REFUND_GOODSLESS": 16, "REFUND_OTHER": 17,
    "RETURNSNOT_BUYWRONG": 51, "RETURNSNOT_NULLEXPRESS": 52, "RETURNSNOT_GOODSLESS": 53,
    "RETURNSNOT_NOTEXPRESS_ONTIME": 54, "RETURNSNOT_NOTRECEIVE": 55, "RETURNSNOT_OTHER": 56,
    "RETURNS_GOODSLESS": 101, "RETURNS_SENDWRONG": 102, "RETURNS_INCONFORMITY": 103,
    "RETURNS_BUYWRONG": 104, "RETURNS_QUALITY": 105, "RETURNS_FAKE": 106, "RETURNS_OTHER": 107,
}
# The trade_refund_* message types (Msg/TradeRefund*Data.cs, doc.youzanyun.com/detail/MSG/...)
PUSH_TYPES: dict[str, str] = {
    "trade_refund_BuyerCreated": "买家申请退款 (MSG/209)",
    "trade_refund_RefundAgain": "买家再次发起退款 (MSG/214)",
    "trade_refund_RefundSellerAgree": "卖家同意退款 (MSG/206)",
    "trade_refund_RefundSellerAgreeReturnGoods": "卖家同意退款退货 (MSG/205)",
    "trade_refund_RefundBuyerReturnGoods": "买家退货给卖家 (MSG/204)",
    "trade_refund_RefundSellerRefuse": "卖家拒绝退款 (MSG/213)",
    "trade_refund_RefundSellerRefuseBuyerReturnGoods": "卖家拒绝退货 (MSG/203)",
    "trade_refund_RefundSuccess": "退款成功 (MSG/201)",
    "trade_refund_RefundClosed": "买家取消退款 (MSG/202)",
    "trade_refund_RefundSellerCreated": "卖家主动退款 (MSG/208)",
    "trade_refund_SysRefund": "系统退款 (MSG/210)",
    "trade_refund_YouzanInterApplied": "买家申请客服介入 (MSG/207)",
}


ORDER_LINES = "hub_order_lines"  # added by the hub's client: {oid: {"sku", "num"}}


def refund_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The refund.get ``data`` object, whether given as is or inside the answer envelope."""
    if "refund_id" not in raw and isinstance(raw.get("data"), Mapping):
        return raw["data"]  # type: ignore[no-any-return]
    return raw


def with_order_lines(refund: Mapping[str, Any],
                     lines_by_oid: Mapping[str, tuple[str, int]]) -> dict[str, Any]:
    """REFUND with its order's lines (oid -> seller SKU and quantity, read from
    youzan.trade.get by the client): a refund names its lines by oid only, the hub's order
    by SKU. The raw return the hub keeps is this (Youzan's fields untouched, one key added)."""
    return {**refund, ORDER_LINES: {oid: {"sku": sku, "num": num}
                                    for oid, (sku, num) in lines_by_oid.items()}}


def map_return(raw: Mapping[str, Any], account: Account) -> ChannelReturn:
    """RAW (refund.get ``data`` with ORDER_LINES) as the shared return request."""
    refund = refund_of(raw)
    refund_id = ids_text(refund.get("refund_id"), "refund_id")
    tid = ids_text(refund.get("tid"), "tid")
    status = text(refund.get("status"))
    if status not in STATUSES:
        raise unmappable("status", f"unknown Youzan refund status {status!r}",
                         f"未知的有赞售后状态：{status!r}")
    code, tags, words = _reason(refund.get("reason"))
    desc = text(refund.get("desc"), 1000)
    created = _time(refund.get("created"), "created")
    updated = _time(refund.get("modified"), "modified") or created
    if updated is None:
        raise unmappable("modified", "the refund has no modified or created time",
                         "售后单没有修改时间或申请时间")
    return ChannelReturn(
        return_id=refund_id, order_external_id=tid, status=STATUSES[status][0],
        platform_status=status, lines=_lines(refund, _order_lines(refund)),
        updated_at=updated, reason_text="；".join(part for part in (words, desc) if part),
        reason_code=code, reason_tags=tags,
        refund_amount=money(refund.get("refund_fee"), "refund_fee"),
        currency=account.currency or "CNY", created_at=created)


def _order_lines(refund: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    given = refund.get(ORDER_LINES)
    if not isinstance(given, Mapping):
        raise unmappable(ORDER_LINES, "the refund came without its order's lines",
                         "售后单缺少订单商品明细")
    found: dict[str, tuple[str, int]] = {}
    for oid, line in given.items():
        if isinstance(line, Mapping) and text(line.get("sku")):
            found[str(oid)] = (text(line.get("sku")), _int(line.get("num")) or 0)
    return found


def _reason(value: object) -> tuple[str, tuple[str, ...], str]:
    code = _int(value)
    if code is None:
        return "", (), ""
    words, tags = REASON_CODES.get(code, ("", ()))
    return str(code), tags, words


def _lines(refund: Mapping[str, Any], by_oid: Mapping[str, tuple[str, int]]
           ) -> tuple[tuple[str, int], ...]:
    items = refund.get("refund_order_item")
    rows: list[Mapping[str, Any]] = []
    if isinstance(items, Sequence) and not isinstance(items, str):
        rows = [row for row in items if isinstance(row, Mapping)]
    if not rows and refund.get("oid") not in (None, ""):  # only the first line is named
        rows = [{"oid": refund.get("oid"), "item_num": refund.get("item_num")}]
    if not rows:
        raise unmappable("refund_order_item", "the refund names no order line (oid)",
                         "售后单没有指明商品明细（oid）")
    found: dict[str, int] = {}
    for i, row in enumerate(rows):
        path = f"refund_order_item[{i}]"
        oid = ids_text(row.get("oid"), f"{path}.oid")
        if oid not in by_oid:
            raise unmappable(f"{path}.oid", f"{path}.oid {oid} is not a line of order "
                             f"{text(refund.get('tid'))}",
                             f"{path}.oid {oid} 不是订单 {text(refund.get('tid'))} 的商品明细")
        sku, ordered = by_oid[oid]
        count = _int(row.get("item_num")) or 0
        if count < 0:
            raise unmappable(f"{path}.item_num", f"{path}.item_num is negative",
                             f"{path}.item_num 为负数")
        # 仅退款 answers item_num 0: the refund is for the line as ordered (the hub's return
        # names its units; docs/channels/youzan.md, "Returns").
        found[sku] = found.get(sku, 0) + (count if count > 0 else ordered)
    return tuple(found.items())


def _int(value: object) -> int | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _time(value: object, field: str) -> datetime | None:
    if value is None or str(value).strip() in ("", "null"):
        return None
    return local(value, ZONE, field)


@dataclass(frozen=True)
class RefundPush:
    """What a trade_refund_* push says (the hub reads the refund itself afterwards)."""

    refund_id: str
    tid: str
    kind: str
    refunded_fee: Decimal | None
    reason_code: str


def read_refund_msg(kind: str, msg: Mapping[str, Any], push_id: object) -> RefundPush:
    refund_id = text(msg.get("refund_id"))
    if not refund_id:
        raise unmappable("msg.refund_id", f"the {kind} push names no refund (msg.refund_id)",
                         f"{kind} 推送中没有售后单号（msg.refund_id）")
    tid = text(msg.get("tid") or push_id)
    word = text(msg.get("refund_reason"))
    code = PUSH_REASONS.get(word)
    fee = msg.get("refunded_fee")
    try:
        refunded = None if fee in (None, "") else money(fee, "msg.refunded_fee")
    except MappingError:
        refunded = None  # informative only: the amount that counts is refund.get's
    return RefundPush(refund_id=refund_id, tid=tid, kind=kind, refunded_fee=refunded,
                      reason_code=str(code) if code is not None else word)
