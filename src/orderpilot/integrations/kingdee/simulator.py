"""A Kingdee K3Cloud WebAPI: LoginByAppSecret (session cookie) or signed headers, BatchSave
and Save of SAL_SaleOrder, Save of a red AR_receivable and of a PUR_Requisition (sim_books.py),
ExecuteBillQuery on SAL_SaleOrder, AR_receivable and PUR_Requisition.

Like the real service it answers HTTP 200 with the outcome in the body (shapes: see
client.py's docstring for the sources), refuses a bill number it already holds, and answers a
call without a live session with "会话信息已丢失，请重新登录" (MsgCode 1). Not verified from a
public source: the exact wording of the duplicate-number and failed-login messages.

Admin routes under /_sim/kingdee (JSON in and out): ``POST /receivables`` {"receivables":
[{"bill_no", "order_no", "amount", "status": "A"|"B"|"C", "modified_at"?}]} stores or
replaces receivables; ``POST /receivables_from_bills`` {"close"?} makes an open receivable
for every held sale order without one (the demo); ``POST /close`` {"bill_no", "at"?} writes
one off completely;
``POST /partial`` {"fail_bill_nos": [...], "reason"} makes those bills fail in every save until
cleared; ``POST /expire_sessions`` (alias ``/expire_tokens``) ends every session;
``POST /answer_style`` {"is_success_as_text", "omit_success_entities"} varies the answers;
``GET /bills`` what it holds. The generic faults (``POST /_sim/kingdee/faults``) are honoured
on every call: 429, 5xx, delays.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
import secrets
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from orderpilot.integrations.kingdee.books import RECEIVABLE_FORM, REQUISITION_FORM
from orderpilot.integrations.kingdee.signing import (
    app_data,
    client_secret,
    gateway_message,
    signature,
)
from orderpilot.integrations.kingdee.sim_admin import admin_router
from orderpilot.integrations.kingdee.sim_books import REQUISITION_FIELDS, save_book
from orderpilot.integrations.kingdee.sim_state import (
    NAME,
    SESSION_LOST,
    SIM_ACCT_ID,
    SIM_APP_ID,
    SIM_APP_SECRET,
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
    SIM_USERNAME,
    json_answer,
    now_text,
    reset,
    state_of,
)
from orderpilot.simulators.external.recorder import Recorder, entry_for, recorder_for

router = APIRouter()


def _status(errors: list[dict[str, Any]], successes: list[dict[str, Any]], *,
            as_text: bool = False, msg_code: int = 0) -> dict[str, Any]:
    ok = not errors
    return {"ErrorCode": 0 if ok else 500, "IsSuccess": ("true" if ok else "false")
            if as_text else ok, "Errors": errors, "SuccessEntitys": successes,
            "SuccessMessages": [], "MsgCode": msg_code}


def _error(message: str, index: int = 0, field: str | None = None) -> dict[str, Any]:
    return {"FieldName": field, "Message": message, "DIndex": index}


def _lost() -> dict[str, Any]:
    return {"Result": {"ResponseStatus": _status([_error(SESSION_LOST)], [], msg_code=1)}}


async def _fault(recorder: Recorder) -> Response | None:
    fault = recorder.take_fault()
    if fault is None:
        return None
    await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status is None:
        return None
    return JSONResponse(fault.body if fault.body is not None else {
        "error": f"simulated fault in {NAME}", "status": fault.status}, fault.status)


def _signed_ok(request: Request) -> bool:
    """The SDK's signed headers, checked for real (signing.py gives the recipe)."""
    h = request.headers
    stamp, nonce = h.get("x-api-timestamp", ""), h.get("x-api-nonce", "")
    data = app_data(SIM_ACCT_ID, SIM_USERNAME, 2052, "100")
    try:
        sent_data = base64.b64decode(h.get("x-kd-appdata", "")).decode()
    except ValueError:
        return False
    if h.get("x-kd-appkey") != SIM_APP_ID or sent_data.split(",")[:2] != data.split(",")[:2]:
        return False
    kd = signature(SIM_APP_ID + sent_data, SIM_APP_SECRET)
    api = signature(gateway_message(str(request.url), stamp, nonce), client_secret(SIM_APP_ID))
    return hmac.compare_digest(kd, h.get("x-kd-signature", "")) and \
        hmac.compare_digest(api, h.get("x-api-signature", ""))


def _session(request: Request, state: dict[str, Any]) -> tuple[str | None, bool]:
    """The caller's live session id, and whether it is new (signed headers open one)."""
    sid = request.cookies.get("kdservice-sessionid")
    if sid and state["sessions"].get(sid) == "live":
        return sid, False
    if request.headers.get("x-kd-appkey") and _signed_ok(request):
        sid = secrets.token_hex(16)
        state["sessions"][sid] = "live"
        return sid, True
    return None, False


def _parameters(body: Any, names: tuple[str, ...]) -> list[Any]:
    """A service's arguments, from {"parameters": [...]} or by name ({"formid", "data"})."""
    if isinstance(body, dict) and isinstance(body.get("parameters"), list):
        return list(body["parameters"])
    if isinstance(body, dict):
        lowered = {str(k).lower(): v for k, v in body.items()}
        return [lowered.get(n.lower()) for n in names]
    return []


def _data(value: Any) -> Any:
    return json.loads(value, parse_float=Decimal) if isinstance(value, str) else value


@router.post("/k3cloud/{service}.common.kdsvc")
async def service(service: str, request: Request) -> Response:
    recorder = recorder_for(request, NAME)
    failed = await _fault(recorder)
    if failed is not None:
        return failed
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}", parse_float=Decimal)
    except ValueError:
        not_json = _status([_error("请求内容不是有效的 JSON")], [])
        return json_answer({"Result": {"ResponseStatus": not_json}})
    with recorder.lock:
        recorder.records.append({**entry_for(request, None), "service": service,
                                 "idempotency_key": None, "deliveries": 1, "status_code": 200})
        state = state_of(recorder)
        method = service.rsplit(".", 1)[-1]
        if method in ("LoginByAppSecret", "LoginByAppSecret2"):
            return _login(_parameters(body, ("acctid", "username", "appid", "appsecret",
                                             "lcid")), state)
        sid, new = _session(request, state)
        if sid is None:
            lost = _lost()
            return json_answer([[lost]] if method == "ExecuteBillQuery" else lost)
        if method in ("BatchSave", "Save"):
            formid, data = _parameters(body, ("formid", "data"))[:2]
            answer: Any = _save(str(formid), _data(data), state, batch=method == "BatchSave")
        elif method == "ExecuteBillQuery":
            answer = _query(_data(_parameters(body, ("data",))[0]), state)
        else:
            answer = {"Result": {"ResponseStatus": _status(
                [_error(f"the simulator has no {method}")], [])}}
    response = json_answer(answer)
    if new:
        response.set_cookie("kdservice-sessionid", sid, path="/")
    return response


def _login(params: list[Any], state: dict[str, Any]) -> Response:
    acct, user, app_id, secret = (params + [None] * 4)[:4]
    if (acct, user, app_id, secret) != (SIM_ACCT_ID, SIM_USERNAME, SIM_APP_ID, SIM_APP_SECRET):
        return json_answer({"Message": "第三方系统登录授权验证失败：应用ID、密钥或用户不正确",
                      "MessageCode": "CheckPasswordPolicy", "LoginResultType": 0,
                      "Context": None, "KDSVCSessionId": None, "IsSuccessByAPI": False})
    sid = secrets.token_hex(16)
    state["sessions"][sid] = "live"
    response = json_answer({"Message": None, "MessageCode": "CheckPasswordPolicy",
                      "LoginResultType": 1, "KDSVCSessionId": sid, "IsSuccessByAPI": True,
                      "Context": {"UserLocale": "zh-CN", "DBid": SIM_ACCT_ID,
                                  "SessionId": sid, "UserId": 100008, "UserName": user}})
    response.set_cookie("kdservice-sessionid", sid, path="/")
    response.set_cookie("ASP.NET_SessionId", secrets.token_hex(12), path="/")
    return response


def _save(formid: str, data: Any, state: dict[str, Any], *, batch: bool) -> dict[str, Any]:
    style = state["style"]
    if formid in (RECEIVABLE_FORM, REQUISITION_FORM) and isinstance(data, dict) and not batch:
        return save_book(formid, data, state)
    if formid != "SAL_SaleOrder" or not isinstance(data, dict):
        return {"Result": {"ResponseStatus": _status([_error("业务对象不存在")], [])}}
    models = data.get("Model")
    models = models if isinstance(models, list) and batch else [models]
    audit = str(data.get("IsAutoSubmitAndAudit", "false")).lower() == "true"
    errors, successes = [], []
    for index, model in enumerate(models):
        problem = _refusal(model, state)
        if problem:
            errors.append(_error(problem[1], index, problem[0]))
            continue
        fid = next(state["fid"])
        number = str(model["FBillNo"])
        state["bills"][number] = {"FID": fid, "FBillNo": number,
                                  "FDocumentStatus": "C" if audit else "A",
                                  "FCreateDate": now_text(), "Model": model}
        successes.append({"Id": fid, "Number": number, "DIndex": index})
    status = _status(errors, [] if style.get("omit_success_entities") else successes,
                     as_text=bool(style.get("is_success_as_text")))
    return {"Result": {"ResponseStatus": status,
                       "Id": successes[0]["Id"] if successes and not batch else "",
                       "Number": successes[0]["Number"] if successes and not batch else "",
                       "NeedReturnData": [{"FID": s["Id"], "FBillNo": s["Number"]}
                                          for s in successes]}}


def _refusal(model: Any, state: dict[str, Any]) -> tuple[str | None, str] | None:
    if not isinstance(model, dict):
        return None, "Model 不是对象"
    number = model.get("FBillNo")
    if not number:
        return "FBillNo", "字段“单据编号”是必填项"
    for name in ("FDate", "FCustId", "FSaleOrgId"):
        if not model.get(name):
            return name, f"字段“{name}”是必填项"
    if str(number) in state["bills"]:
        return "FBillNo", f"单据编号“{number}”已存在，不能重复"
    if str(number) in state["fail"]:
        return None, str(state["fail"][str(number)])
    entries = model.get("FSaleOrderEntry")
    if not isinstance(entries, list) or not entries:
        return "FSaleOrderEntry", "销售订单明细不能为空"
    for row, entry in enumerate(entries, start=1):
        material = entry.get("FMaterialId") if isinstance(entry, dict) else None
        if not isinstance(material, dict) or not material.get("FNumber"):
            return "FMaterialId", f"第{row}行分录，字段“物料编码”是必填项"
        if not isinstance(entry.get("FQty"), int | Decimal) or entry["FQty"] <= 0:
            return "FQty", f"第{row}行分录，销售数量必须大于0"
    return None


SALE_ORDER_FIELDS = ("FID", "FBillNo", "FDocumentStatus", "FCreateDate")
RECEIVABLE_FIELDS = ("FID", "FBillNo", "FORDERNUMBER", "FALLAMOUNTFOR", "FWRITTENOFFSTATUS",
                     "FDocumentStatus", "FModifyDate")
FILTER_PART = re.compile(
    r"^\s*(?P<field>\w+)\s*(?:(?P<op>>=|<=|=|>|<)\s*'(?P<value>[^']*)'|"
    r"in\s*\((?P<values>[^)]*)\))\s*$", re.IGNORECASE)


def _query(data: Any, state: dict[str, Any]) -> Any:
    def refused(message: str) -> Any:
        return [[{"Result": {"ResponseStatus": _status([_error(message)], [])}}]]

    if not isinstance(data, dict):
        return refused("查询参数不是对象")
    form = data.get("FormId")
    rows: list[dict[str, Any]]
    known: tuple[str, ...]
    if form == "SAL_SaleOrder":
        rows, known = list(state["bills"].values()), SALE_ORDER_FIELDS
    elif form == "AR_receivable":
        rows, known = list(state["receivables"].values()), RECEIVABLE_FIELDS
    elif form == REQUISITION_FORM:
        rows, known = list(state["requisitions"].values()), REQUISITION_FIELDS
    else:
        return refused("业务对象不存在")
    filter_text = str(data.get("FilterString") or "")
    for part in re.split(r"\s+AND\s+", filter_text, flags=re.IGNORECASE) if filter_text else []:
        match = FILTER_PART.match(part)
        if not match:
            return refused(f"过滤条件无法解析：{part}")
        rows = _filtered(rows, match)
    keys = [k.strip() for k in str(data.get("FieldKeys") or "").split(",") if k.strip()]
    if not keys or any(k not in known for k in keys):
        return refused(f"字段不存在：{','.join(keys)}")
    rows.sort(key=lambda r: (str(r.get("FModifyDate", "")), str(r["FBillNo"])))
    start, limit = int(data.get("StartRow") or 0), int(data.get("Limit") or 2000)
    return [[r[k] for k in keys] for r in rows[start:start + min(limit, 10000)]]


def _filtered(rows: list[dict[str, Any]], match: re.Match[str]) -> list[dict[str, Any]]:
    name = match["field"]
    if match["values"] is not None:
        wanted = {v.strip().strip("'") for v in match["values"].split(",")}
        return [r for r in rows if str(r.get(name)) in wanted]
    value, op = match["value"].replace(" ", "T"), match["op"]
    checks = {">=": lambda a: a >= value, "<=": lambda a: a <= value, "=": lambda a: a == value,
              ">": lambda a: a > value, "<": lambda a: a < value}
    return [r for r in rows if checks[op](str(r.get(name, "")).replace(" ", "T"))]


# --- admin ---


__all__ = ["NAME", "SIM_ACCT_ID", "SIM_APP_ID", "SIM_APP_SECRET", "SIM_CREDENTIALS", "SIM_REGION",
           "SIM_SHOP_ID", "SIM_USERNAME", "admin_router", "reset", "router"]
