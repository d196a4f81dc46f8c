"""The Kingdee simulator's Save of the bills a return writes (formats: books.py): a red
receivable (AR_receivable with a negative total), which writes off the open receivables of
its sale order up to its amount as AR write-off (应收核销) would, and a purchase requisition
(PUR_Requisition). Like the sale-order Save it refuses a number it already holds."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from orderpilot.integrations.kingdee.books import RECEIVABLE_FORM
from orderpilot.integrations.kingdee.sim_state import now_text

REQUISITION_FIELDS = ("FID", "FBillNo", "FMaterialId", "FReqQty", "FDocumentStatus",
                      "FCreateDate")


def _answer(errors: list[dict[str, Any]], saved: dict[str, Any] | None) -> dict[str, Any]:
    ok = not errors
    successes = [{"Id": saved["FID"], "Number": saved["FBillNo"], "DIndex": 0}] if saved else []
    return {"Result": {"ResponseStatus": {
        "ErrorCode": 0 if ok else 500, "IsSuccess": ok, "Errors": errors,
        "SuccessEntitys": successes, "SuccessMessages": [], "MsgCode": 0},
        "Id": saved["FID"] if saved else "", "Number": saved["FBillNo"] if saved else "",
        "NeedReturnData": [{"FID": s["Id"], "FBillNo": s["Number"]} for s in successes]}}


def _refused(field: str | None, message: str) -> dict[str, Any]:
    return _answer([{"FieldName": field, "Message": message, "DIndex": 0}], None)


def _number(value: Any) -> Decimal | None:
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def save_book(formid: str, data: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    model = data.get("Model")
    if not isinstance(model, dict):
        return _refused(None, "Model 不是对象")
    number = str(model.get("FBillNo") or "")
    if not number:
        return _refused("FBillNo", "字段“单据编号”是必填项")
    audit = str(data.get("IsAutoSubmitAndAudit", "false")).lower() == "true"
    if formid == RECEIVABLE_FORM:
        return _receivable(model, number, state, audit)
    return _requisition(model, number, state, audit)


def _receivable(model: dict[str, Any], number: str, state: dict[str, Any],
                audit: bool) -> dict[str, Any]:
    # the head fields the public Save DTO requires (books.py cites it)
    for name in ("FDATE", "FENDDATE_H", "FCUSTOMERID", "FCURRENCYID", "FSETTLEORGID",
                 "FPAYORGID", "FSALEORGID"):
        if not model.get(name):
            return _refused(name, f"字段“{name}”是必填项")
    if number in state["receivables"]:
        return _refused("FBillNo", f"单据编号“{number}”已存在，不能重复")
    entries = model.get("FEntityDetail")
    if not isinstance(entries, list) or not entries:
        return _refused("FEntityDetail", "应收单明细不能为空")
    total, order_no = Decimal(0), ""
    for row, entry in enumerate(entries, start=1):
        material = entry.get("FMATERIALID") if isinstance(entry, dict) else None
        if not isinstance(material, dict) or not material.get("FNumber"):
            return _refused("FMATERIALID", f"第{row}行分录，字段“物料编码”是必填项")
        amount = _number(entry.get("FALLAMOUNTFOR_D"))
        if amount is None or amount == 0:
            return _refused("FALLAMOUNTFOR_D", f"第{row}行分录，价税合计不能为0")
        total += amount
        order_no = order_no or str(entry.get("FORDERNUMBER") or entry.get("FSourceBillNo") or "")
    red = total < 0
    saved = {"FID": next(state["fid"]), "FBillNo": number, "FORDERNUMBER": order_no,
             "FALLAMOUNTFOR": total, "FWRITTENOFFSTATUS": "C" if red else "A",
             "FDocumentStatus": "C" if audit else "A", "FModifyDate": now_text(),
             "Model": model}
    if red and audit:
        _write_off(state, order_no, -total)
    state["receivables"][number] = saved
    return _answer([], saved)


def _write_off(state: dict[str, Any], order_no: str, amount: Decimal) -> None:
    """The open (blue) receivables of ORDER_NO written off by AMOUNT, oldest first."""
    for row in sorted(state["receivables"].values(), key=lambda r: str(r["FBillNo"])):
        if amount <= 0:
            return
        if row["FORDERNUMBER"] != order_no or row["FWRITTENOFFSTATUS"] == "C" \
                or Decimal(str(row["FALLAMOUNTFOR"])) <= 0:
            continue
        open_amount = Decimal(str(row["FALLAMOUNTFOR"])) - Decimal(str(row.get("_written", 0)))
        used = min(open_amount, amount)
        row["_written"] = Decimal(str(row.get("_written", 0))) + used
        row["FWRITTENOFFSTATUS"] = "C" if used >= open_amount else "B"
        row["FModifyDate"] = now_text()
        amount -= used


def _requisition(model: dict[str, Any], number: str, state: dict[str, Any],
                 audit: bool) -> dict[str, Any]:
    for name in ("FApplicationDate", "FApplicationOrgId"):
        if not model.get(name):
            return _refused(name, f"字段“{name}”是必填项")
    if number in state["requisitions"]:
        return _refused("FBillNo", f"单据编号“{number}”已存在，不能重复")
    entries = model.get("FEntity")
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        return _refused("FEntity", "采购申请单明细不能为空")
    entry = entries[0]
    material = entry.get("FMaterialId")
    quantity = _number(entry.get("FReqQty"))
    if not isinstance(material, dict) or not material.get("FNumber"):
        return _refused("FMaterialId", "第1行分录，字段“物料编码”是必填项")
    if quantity is None or quantity <= 0:
        return _refused("FReqQty", "第1行分录，申请数量必须大于0")
    saved = {"FID": next(state["fid"]), "FBillNo": number,
             "FMaterialId": str(material["FNumber"]), "FReqQty": quantity,
             "FDocumentStatus": "C" if audit else "A", "FCreateDate": now_text(),
             "FModifyDate": now_text()}
    state["requisitions"][number] = saved
    return _answer([], saved)


__all__ = ["REQUISITION_FIELDS", "save_book"]
