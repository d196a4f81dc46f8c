"""The Kingdee rule actions that close the books after a return (S8):

* 冲销应收 / Credit the receivable (``erp.credit_receivable``): a red receivable (红字应收单) of
  the refunded amount against the order's sale order, numbered ``RC-<return id>``; once Kingdee
  holds it, ``erp.receivable_closed`` {amount, bill_no, return_id} is recorded on the order in
  the transaction that records the answer (exactly once: the step records it once, and the
  event's source reference ``kingdee`` / ``<bill_no>:closed`` is the one the receivables poller
  would give the same bill, so neither records it twice). A call whose answer was lost is
  looked up by that number before any resend.
* 申请补货 / Request replenishment (``erp.request_replenishment``): after a return, each of the
  return's SKUs whose sellable stock is still at or under its low threshold gets one purchase
  requisition (采购申请单) numbered ``PR-<day>-<sku>``: at most one per SKU and day, however
  many returns trigger it (Kingdee refuses the number twice; the call asks first).

The bill formats and their sources: books.py.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from orderpilot.adapters.connectors.base import CallResult
from orderpilot.adapters.connectors.lookups import SentRecord
from orderpilot.domain.after_sales_books import StockLevel, credit_amount, replenishment
from orderpilot.domain.erp import BOOKED, FAILED, BillResult
from orderpilot.domain.errors import InvalidInput, PermanentError, TransientError
from orderpilot.domain.rules.actions import ActionType, Output, param
from orderpilot.domain.times import SHANGHAI
from orderpilot.integrations.kingdee.books import (
    CREDIT_BILL_TYPE,
    RECEIVABLE_FORM,
    REQUISITION_FORM,
    credit_bill_no,
    credit_model,
    requisition_bill_no,
    requisition_model,
)
from orderpilot.integrations.kingdee.erp import KingdeeErp
from orderpilot.services.rules.actions.base import (
    Answer,
    Found,
    Outside,
    RuleAction,
    StepCall,
    StepRefused,
    order_for_update,
    save,
)
from orderpilot.services.unit_of_work import UnitOfWork

SOURCE = "kingdee"

CREDIT = ActionType(
    "erp.credit_receivable", "冲销应收(金蝶红字应收单)", "Credit the receivable (Kingdee)", (
        param("return_id", "template", "退货单号", "Return id", prefilled=True,
              default="{{ event.data.return_id }}"),
        param("amount", "template", "冲销金额(元)", "Amount to credit (yuan)", prefilled=True,
              default="{{ event.data.amount }}"),
        param("order_no", "template", "销售订单号", "Sale order number", prefilled=True,
              default="{{ order.external_id }}"),
        param("customer", "text", "金蝶客户编码", "Kingdee customer number",
              default="CUST-RETAIL"),
        param("material", "text", "冲销物料编码", "Material number of the credit line",
              default="RETURN-CREDIT"),
        param("bill_type", "text", "应收单据类型", "Receivable bill type",
              default=CREDIT_BILL_TYPE)),
    external=True, internal=False,
    outputs={"bill_no": "text", "amount": "text", "return_id": "text"},
    default_step_id="credit", integration="kingdee",
    output_fields=(Output("bill_no", "text", "红字应收单号", "Credit bill number"),
                   Output("amount", "text", "冲销金额", "Amount credited"),
                   Output("return_id", "text", "退货单号", "Return id")))

REPLENISH = ActionType(
    "erp.request_replenishment", "申请补货(金蝶采购申请单)",
    "Request replenishment (Kingdee)", (
        param("top_up", "int", "补到阈值后再多申请(件)", "Units to ask for beyond the threshold",
              default=10),
        param("note", "template", "备注", "Note",
              default="退货后库存低于阈值 {{ order.external_id }}")),
    external=True, internal=True,
    outputs={"requested": "tags", "already": "tags"},
    default_step_id="replenish", integration="kingdee",
    output_fields=(Output("requested", "text", "已申请补货单", "Requisitions raised"),
                   Output("already", "text", "当天已申请过的SKU", "SKUs already requested today")))


def _erp(outside: Outside) -> KingdeeErp:
    erp = outside.client(SOURCE)
    if not isinstance(erp, KingdeeErp):
        raise PermanentError("the kingdee integration's client is not a KingdeeErp",
                             zh="金蝶集成的客户端类型不对")
    return erp


def _day(call: StepCall) -> date:
    """The day the trigger happened (China time): the same on every resend of the step."""
    event = call.context.get("event") or {}
    stamp = event.get("recorded_at") if isinstance(event, dict) else None
    at = datetime.fromisoformat(str(stamp)) if stamp else datetime.now(SHANGHAI)
    return at.astimezone(SHANGHAI).date()


def _return_id(call: StepCall) -> str:
    value = str(call.params.get("return_id") or "").strip()
    if not value or len(value) > 64:
        raise StepRefused("the step has no return id (the trigger event's data.return_id)",
                          field="return_id", zh="此步骤没有退货单号（触发事件的 data.return_id）")
    return value


def _saved(result: BillResult, answer: Any, erp: KingdeeErp, form_id: str) -> bool:
    """True when Kingdee holds the bill now (saved, or refused as a number it already holds
    and found by a look-up); PermanentError / TransientError otherwise."""
    if result.outcome == BOOKED:
        return True
    if result.outcome == FAILED and result.duplicate \
            and erp.client.find_bills([result.bill_no], form_id=form_id):
        return True
    if result.outcome == FAILED and not result.transient:
        raise PermanentError(f"Kingdee refused {form_id} {result.bill_no}: {result.error}",
                             response=answer, status_code=200,
                             zh=f"金蝶拒绝了 {form_id} {result.bill_no}：{result.error}")
    raise TransientError(f"Kingdee did not say whether it saved {result.bill_no}: "
                         f"{result.error}", response=answer,
                         zh=f"金蝶未说明是否保存了 {result.bill_no}")


# --- erp.credit_receivable ---

def credit(outside: Outside, call: StepCall, hub_output: dict[str, Any],
           hmac_secret: str | None) -> Answer:
    """Save the red receivable (one Save with its fixed number)."""
    erp = _erp(outside)
    p = call.params
    try:
        amount = credit_amount(p.get("amount"))
    except InvalidInput as error:
        raise StepRefused(error.message, field="amount", zh=error.message_zh) from error
    return_id = _return_id(call)
    order_no = str(p.get("order_no") or "").strip()
    if not order_no:
        raise StepRefused("the step has no sale order number to credit",
                          field="order_no", zh="此步骤没有要冲销的销售订单号")
    model = credit_model(return_id=return_id, order_no=order_no, amount=amount,
                         day=_day(call), customer=str(p.get("customer") or "CUST-RETAIL"),
                         org_number=erp.org_number,
                         material=str(p.get("material") or "RETURN-CREDIT"),
                         bill_type=str(p.get("bill_type") or CREDIT_BILL_TYPE))
    started = time.monotonic()
    result, answer = erp.client.save_bill(RECEIVABLE_FORM, model, auto_audit=True)
    _saved(result, answer, erp, RECEIVABLE_FORM)
    return CallResult({"formid": RECEIVABLE_FORM, "Model": model}, answer, 200,
                      (time.monotonic() - started) * 1000,
                      {"bill_no": result.bill_no, "amount": str(amount),
                       "return_id": return_id, "order_no": order_no})


def find_credit(outside: Outside, call: StepCall, since: datetime) -> Found:
    """Whether Kingdee holds the red receivable of this return (by its number)."""
    erp = _erp(outside)
    return_id = _return_id(call)
    bill_no = credit_bill_no(return_id)
    started = time.monotonic()
    rows = erp.client.query(RECEIVABLE_FORM, ("FID", "FBillNo", "FALLAMOUNTFOR"),
                            f"FBillNo in ('{bill_no}')")
    row = next((r for r in rows if len(r) >= 3 and str(r[1]) == bill_no), None)
    output: dict[str, Any] = {} if row is None else {
        "bill_no": bill_no, "amount": str(abs(credit_amount_or_zero(row[2]))),
        "return_id": return_id, "order_no": str(call.params.get("order_no") or "")}
    return SentRecord(row is not None, {"FormId": RECEIVABLE_FORM, "FBillNo": bill_no}, rows,
                      (time.monotonic() - started) * 1000, output)


def credit_amount_or_zero(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def predict_credit(outside: Outside, call: StepCall, hub_output: dict[str, Any],
                   hmac_secret: str | None) -> Answer:
    """A backtest's guess, without writing: the credit that exists already, if any."""
    found = find_credit(outside, call, datetime.now(SHANGHAI))
    return CallResult(found.request, found.response, 200, found.latency_ms,
                      found.output or {"bill_no": credit_bill_no(_return_id(call))})


def record_closed(uow: UnitOfWork, call: StepCall, output: dict[str, Any],
                  now: datetime) -> None:
    """``erp.receivable_closed`` on the order, once per credit bill."""
    bill_no = str(output.get("bill_no") or "")
    if not bill_no or call.order_id is None:
        return
    reference = f"{bill_no}:closed"
    if uow.events.find_by_source(SOURCE, reference) is not None:
        return
    order = order_for_update(uow, call)
    order.report("erp.receivable_closed", SOURCE, now, now, {
        "amount": str(output.get("amount") or ""), "bill_no": bill_no,
        "return_id": str(output.get("return_id") or ""),
        "order_no": str(output.get("order_no") or ""), "status": "closed",
        "credit": True}, source_event_id=reference, causation_id=call.run_id)
    save(uow, order, now)


CREDIT_ACTION = RuleAction(CREDIT, call=credit, look_up=find_credit, after_call=record_closed,
                           outputs=lambda answer: {}, predict=predict_credit)


# --- erp.request_replenishment ---

def _return_skus(call: StepCall) -> list[str]:
    """The SKUs of the trigger event's return lines (data.lines), else the order's."""
    event = call.context.get("event") or {}
    data = event.get("data") if isinstance(event, dict) else None
    lines = data.get("lines") if isinstance(data, dict) else None
    skus = [str(line["sku"]) for line in lines if isinstance(line, dict) and line.get("sku")] \
        if isinstance(lines, list) else []
    if not skus:
        order = call.context.get("order") or {}
        skus = [str(s) for s in (order.get("skus") or [])] if isinstance(order, dict) else []
    return list(dict.fromkeys(skus))


def measure(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
    """In the hub, once: which of the return's SKUs are at or under their threshold now."""
    top_up = int(call.params.get("top_up") or 0)
    needs = []
    for sku in _return_skus(call):
        levels = [StockLevel(lv.kind, lv.on_hand, lv.reserved, lv.safety, lv.threshold)
                  for lv in uow.inventory.levels(sku=sku)]
        need = replenishment(sku, levels, top_up)
        if need is not None:
            needs.append({"sku": sku, "available": need.available,
                          "threshold": need.threshold, "quantity": need.quantity})
    return {"needs": needs}


def request(outside: Outside, call: StepCall, hub_output: dict[str, Any],
            hmac_secret: str | None) -> Answer:
    """One requisition per SKU that needs one and has none today; nothing when none does."""
    needs = [n for n in hub_output.get("needs") or [] if isinstance(n, dict)]
    day = _day(call)
    numbers = {requisition_bill_no(str(n["sku"]), day): n for n in needs}
    if not numbers:
        return CallResult({}, None, None, 0.0, {"requested": [], "already": []})
    erp = _erp(outside)
    started = time.monotonic()
    held = erp.client.find_bills(list(numbers), form_id=REQUISITION_FORM)
    requested, answers = [], []
    for bill_no, need in numbers.items():
        if bill_no in held:
            continue
        model = requisition_model(sku=str(need["sku"]), quantity=int(need["quantity"]), day=day,
                                  org_number=erp.org_number,
                                  note=str(call.params.get("note") or "")[:200])
        result, answer = erp.client.save_bill(REQUISITION_FORM, model, auto_audit=True)
        answers.append(answer)
        _saved(result, answer, erp, REQUISITION_FORM)
        requested.append(bill_no)
    return CallResult({"formid": REQUISITION_FORM, "bills": list(numbers)}, answers, 200,
                      (time.monotonic() - started) * 1000,
                      {"requested": requested, "already": sorted(held)})


def predict_request(outside: Outside, call: StepCall, hub_output: dict[str, Any],
                    hmac_secret: str | None) -> Answer:
    """A backtest's guess, without writing: the requisitions already raised today for the
    return's SKUs."""
    day = _day(call)
    numbers = [requisition_bill_no(sku, day) for sku in _return_skus(call)]
    held = _erp(outside).client.find_bills(numbers, form_id=REQUISITION_FORM) if numbers else {}
    return CallResult({"bills": numbers}, held, 200, 0.0,
                      {"requested": [], "already": sorted(held)})


REPLENISH_ACTION = RuleAction(
    REPLENISH, effect=measure, call=request, outputs=lambda answer: {},
    predict=predict_request,
    unchecked_resend="the call asks Kingdee for the day's requisition numbers before saving, "
                     "and Kingdee refuses a number it holds: a resend raises nothing twice")

ACTIONS = (CREDIT_ACTION, REPLENISH_ACTION)

__all__ = ["ACTIONS", "CREDIT", "CREDIT_ACTION", "REPLENISH", "REPLENISH_ACTION"]
