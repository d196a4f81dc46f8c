"""The simulator's after-sales (维权): 售后单 on its trades, the seller's APIs, the pushes.

API (simulator.py routes them, same token checks as every call; formats in refunds.py):
youzan.trade.refund.get 3.0.0/3.0.1, youzan.trade.refund.search 3.0.1,
youzan.trade.refund.agree 3.0.1 (version must be the current one: else 103010039; a state
that does not wait for the seller: 102010002), youzan.trade.returngoods.agree 3.0.0.
Admin (/_sim/youzan): POST /refunds (the buyer asks), /refund_status (the buyer ships the
goods back, withdraws; the seller refuses), /refund_push (the signed trade_refund_* push for
the refund's current state; ``times`` > 1 is Youzan's retry with the same msg_id).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from urllib.parse import quote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from orderpilot.integrations.youzan import signing
from orderpilot.integrations.youzan.refunds import PUSH_REASONS, REASON_CODES, STATUSES
from orderpilot.integrations.youzan.sim_orders import BEIJING, FMT
from orderpilot.simulators.external.channel_contract import deliver
from orderpilot.simulators.external.recorder import recorder_for

REFUND_APIS = {("youzan.trade.refund.get", "3.0.0"), ("youzan.trade.refund.get", "3.0.1"),
               ("youzan.trade.refund.search", "3.0.1"), ("youzan.trade.refund.agree", "3.0.1"),
               ("youzan.trade.returngoods.agree", "3.0.0")}
PUSH_TYPE = {"WAIT_SELLER_AGREE": "trade_refund_BuyerCreated",
             "WAIT_BUYER_RETURN_GOODS": "trade_refund_RefundSellerAgreeReturnGoods",
             "WAIT_SELLER_CONFIRM_GOODS": "trade_refund_RefundBuyerReturnGoods",
             "SELLER_REFUSE_BUYER": "trade_refund_RefundSellerRefuse",
             "SELLER_REFUSE_BUYER_RETURN_GOODS": "trade_refund_RefundSellerRefuseBuyerReturnGoods",
             "CLOSED": "trade_refund_RefundClosed", "SUCCESS": "trade_refund_RefundSuccess"}
REASON_WORD = {code: word for word, code in PUSH_REASONS.items()}
BUYER_MOVES = {"WAIT_SELLER_CONFIRM_GOODS": {"WAIT_BUYER_RETURN_GOODS"},
               "CLOSED": {"WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS"},
               "SELLER_REFUSE_BUYER": {"WAIT_SELLER_AGREE"},
               "SELLER_REFUSE_BUYER_RETURN_GOODS": {"WAIT_SELLER_CONFIRM_GOODS"},
               "WAIT_SELLER_AGREE": {"SELLER_REFUSE_BUYER", "CLOSED"}}  # RefundAgain
admin = APIRouter()


class RefundLineSpec(BaseModel):
    sku: str | None = None
    oid: str | None = None
    quantity: int = Field(1, ge=0)


class RefundSpec(BaseModel):
    external_id: str  # the tid
    lines: list[RefundLineSpec] = Field(min_length=1)
    reason: int = 105
    desc: str = ""
    demand: int = Field(2, ge=1, le=2)  # 1 仅退款, 2 退货退款
    refund_id: str | None = None


class RefundMove(BaseModel):
    refund_id: str
    status: str


class RefundPushSpec(BaseModel):
    hook_url: str
    refund_id: str
    times: int = Field(1, ge=1, le=100)


def _now() -> datetime:
    return datetime.now(BEIJING)


def _ok(data: Any) -> dict[str, Any]:
    return {"success": True, "code": 200, "message": "successful", "data": data,
            "trace_id": f"yz7-{uuid.uuid4().hex[:20]}"}


def _fail(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "code": code, "data": None, "message": message}


def refunds_of(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = state.setdefault("refunds", {})
    return found


def answer(state: dict[str, Any], api: str, params: dict[str, Any]) -> tuple[int, Any]:
    refunds = refunds_of(state)
    if api == "youzan.trade.refund.search":
        return 200, _search(refunds, params)
    refund = refunds.get(str(params.get("refund_id") or ""))
    if refund is None:
        return 200, _fail(103011024, "退款记录不存在")
    if api == "youzan.trade.refund.get":
        return 200, _ok(public(refund))
    if str(params.get("version")) != str(refund["version"]):
        return 200, _fail(103010039, "退款版本号错误")
    if api == "youzan.trade.returngoods.agree":
        if refund["status"] != "WAIT_SELLER_AGREE" or refund["demand"] != 2:
            return 200, _fail(102010002, "操作过期，请刷新后确认最新退款状态")
        if not all(str(params.get(k) or "").strip() for k in ("name", "mobile", "address")):
            return 200, _fail(4000, "收货人、手机号、地址不能为空")
        refund["return_address"] = {k: params.get(k) for k in ("name", "mobile", "address",
                                                                "post")}
        _move(state, refund, "WAIT_BUYER_RETURN_GOODS")
        return 200, _ok({"is_success": True})
    if refund["status"] not in ("WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS"):
        return 200, _fail(102010002, "操作过期，请刷新后确认最新退款状态")
    _move(state, refund, "SUCCESS")
    return 200, _ok({"is_success": True})


def _search(refunds: dict[str, dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    try:
        page, size = int(params.get("page_no") or 1), int(params.get("page_size") or 20)
        start = int(params.get("update_time_start") or 0)
        end = int(params.get("update_time_end") or 2**40)
    except (TypeError, ValueError):
        return _fail(53002, "page_size type error")
    if page > 100:
        return _fail(4000, "查询页数超过100")
    if page * size > 3000:
        return _fail(4000, "超过ES搜索最大深度")
    rows = sorted((r for r in refunds.values() if start <= r["_updated_s"] <= end),
                  key=lambda r: (-r["_updated_s"], r["refund_id"]))
    chosen = rows[(page - 1) * size:page * size]
    return _ok({"total": len(rows), "refunds": [
        {k: r[k] for k in ("refund_id", "tid", "status", "kdt_id", "return_goods", "reason",
                           "refund_fee", "created", "modified")} for r in chosen]})


def _move(state: dict[str, Any], refund: dict[str, Any], status: str) -> None:
    now = _now()
    refund["status"] = status
    refund["modified"] = now.strftime(FMT)
    refund["_updated_s"] = int(now.timestamp())
    refund["version"] = max(int(refund["version"]) + 1, int(now.timestamp() * 1000))
    if status == "SUCCESS":
        refund["refund_account_time"] = refund["modified"]
    _mark_order(state, refund)


def _mark_order(state: dict[str, Any], refund: dict[str, Any]) -> None:
    """The trade's refund_state and refund_order, as youzan.trade.get shows them."""
    order = state["orders"].get(refund["tid"])
    if order is None:
        return
    info = order["full_order_info"]["order_info"]
    lines = order["full_order_info"]["orders"]
    whole = {item["oid"] for item in refund["refund_order_item"]} >= {
        str(line["oid"]) for line in lines}
    open_ = refund["status"] not in ("SUCCESS", "CLOSED", "SELLER_REFUSE_BUYER",
                                     "SELLER_REFUSE_BUYER_RETURN_GOODS")
    if refund["status"] == "SUCCESS":
        info["refund_state"] = 12 if whole else 2
    elif open_:
        info["refund_state"] = 11 if whole else 1
    info["update_time"] = refund["modified"]
    listed = [r for r in order.get("refund_order") or [] if r.get("refund_id")
              != refund["refund_id"]]
    order["refund_order"] = listed + [{
        "refund_id": refund["refund_id"], "refund_fee": refund["refund_fee"],
        "oids": [{"oid": item["oid"]} for item in refund["refund_order_item"]],
        "refund_state": refund["status"]}]
    state["index"] = None


def create(state: dict[str, Any], spec: RefundSpec, serial: int,
           kdt_id: int) -> dict[str, Any] | str:
    order = state["orders"].get(spec.external_id)
    if order is None:
        return f"no order {spec.external_id!r}"
    lines = order["full_order_info"]["orders"]
    items = []
    total = Decimal(0)
    for want in spec.lines:
        line = next((ln for ln in lines if (want.oid and str(ln["oid"]) == want.oid) or
                     (want.sku and want.sku in (ln.get("outer_sku_id"),
                                                ln.get("outer_item_id")))), None)
        if line is None or want.quantity > int(line["num"]):
            return f"no line {want.sku or want.oid!r} with {want.quantity} units"
        paid = Decimal(str(line.get("payment") or line["total_fee"])) * 100
        count = want.quantity if spec.demand == 2 else int(line["num"])
        fee = int((paid * count / int(line["num"])).to_integral_value(ROUND_FLOOR))
        total += fee
        items.append({"kdt_id": kdt_id, "oid": str(line["oid"]), "refund_fee": fee,
                      "item_num": want.quantity if spec.demand == 2 else 0})
    now = _now()
    refund_id = spec.refund_id or f"{now.strftime('%Y%m%d%H%M%S')}{serial:010d}"
    refund: dict[str, Any] = {
        "refund_id": refund_id, "tid": spec.external_id, "oid": items[0]["oid"],
        "kdt_id": kdt_id,
        "refund_order_item": items, "refund_fee": f"{total / 100:.2f}",
        "refund_postage": "0.00", "status": "WAIT_SELLER_AGREE", "demand": spec.demand,
        "demand_desc": "退货退款" if spec.demand == 2 else "仅退款",
        "return_goods": spec.demand == 2, "reason": spec.reason, "desc": spec.desc,
        "refund_type": "BUYER_APPLY_REFUND", "cs_status": 1,
        "item_num": items[0]["item_num"], "version": int(now.timestamp() * 1000),
        "created": now.strftime(FMT), "modified": now.strftime(FMT),
        "refund_account_time": now.strftime(FMT), "_updated_s": int(now.timestamp())}
    refunds_of(state)[refund_id] = refund
    _mark_order(state, refund)
    return refund


def push_of(refund: dict[str, Any], *, client_id: str, client_secret: str, kdt_id: int,
            kdt_name: str, send_count: int = 1) -> tuple[bytes, dict[str, str]]:
    """The trade_refund_* push for REFUND's current status: envelope and signatures as
    sim_push.message_for (push.py), ``msg`` the refund message (refunds.py)."""
    kind = PUSH_TYPE[refund["status"]]
    reason = int(refund.get("reason") or 0)
    content = {"tid": refund["tid"], "refund_id": refund["refund_id"],
               "oids": ",".join(item["oid"] for item in refund["refund_order_item"]),
               "refunded_fee": refund["refund_fee"],
               "refund_type": "REFUND_AND_RETURN" if refund["demand"] == 2 else "REFUND_ONLY",
               "refund_reason": REASON_WORD.get(reason, ""),
               "refund_reason_desc": REASON_CODES.get(reason, ("", ()))[0],
               "update_time": refund["modified"]}
    msg = quote_plus(json.dumps(content, ensure_ascii=False, separators=(",", ":")))
    version = int(refund["version"])
    body = {"client_id": client_id, "id": refund["tid"], "kdt_id": kdt_id, "kdt_name": kdt_name,
            "mode": 1, "msg": msg,
            "msg_id": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                     f"{refund['refund_id']}/{kind}/{version}")),
            "root_kdt_id": kdt_id, "sendCount": send_count,
            "sign": signing.legacy_sign(client_id, msg, client_secret),
            "status": refund["status"], "test": False, "type": kind, "version": version}
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return raw, {"Content-Type": "application/json", "Client-Id": client_id, "Event-Type": kind,
                 "Event-Sign": signing.event_sign(client_id, raw, client_secret)}


def public(refund: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in refund.items() if not k.startswith("_")}


def register(state_of: Any, sign_push: Any, kdt_id: int) -> None:
    """Admin routes on ``admin`` with the simulator's state (STATE_OF(request)), its push
    signer (SIGN_PUSH(refund, send_count) -> body, headers) and its shop (KDT_ID)."""

    @admin.post("/refunds", response_model=None)
    def ask(request: Request, spec: RefundSpec) -> dict[str, Any] | JSONResponse:
        state = state_of(request)
        recorder = recorder_for(request, "youzan")
        with recorder.lock:
            state["refund_serial"] = state.get("refund_serial", 0) + 1
            made = create(state, spec, state["refund_serial"], kdt_id)
        if isinstance(made, str):
            return JSONResponse({"error": made}, 404)
        return {"refund_id": made["refund_id"], "refund": public(made)}

    @admin.post("/refund_status", response_model=None)
    def buyer_moves(request: Request, spec: RefundMove) -> dict[str, Any] | JSONResponse:
        state = state_of(request)
        refund = refunds_of(state).get(spec.refund_id)
        if refund is None or spec.status not in STATUSES or \
                refund["status"] not in BUYER_MOVES.get(spec.status, set()):
            return JSONResponse({"error": "unknown refund, or a move Youzan does not make",
                                 "moves": {k: sorted(v) for k, v in BUYER_MOVES.items()}}, 409)
        _move(state, refund, spec.status)
        return {"refund": public(refund)}

    @admin.post("/refund_push", response_model=None)
    def push(request: Request, spec: RefundPushSpec) -> dict[str, Any] | JSONResponse:
        refund = refunds_of(state_of(request)).get(spec.refund_id)
        if refund is None or refund["status"] not in PUSH_TYPE:
            return JSONResponse({"error": f"no pushable refund {spec.refund_id!r}"}, 404)
        result: dict[str, Any] = {}
        for n in range(spec.times):
            raw, headers = sign_push(refund, n + 1)
            result = deliver(spec.hook_url, raw, headers, keep=100_000)
        return result
