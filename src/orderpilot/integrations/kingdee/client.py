"""The K3Cloud WebAPI client: login, sale orders by BatchSave, bills and receivables by
ExecuteBillQuery.

Wire format, and where each fact comes from:

* Every service is ``POST {base}/{service}.common.kdsvc`` with a JSON body, answered with HTTP
  200 and the outcome in the body (Kingdee's SDKs: github.com/takewiki/k3cloud_webapi_sdk
  ``core/webapi_client.py`` ``PostJson``; github.com/leoluonet/k3cloud-webapi-sdk
  ``WebApiClient.java`` ``doExecuteJson``). Base URL of a private install: ``http://host/k3cloud``.
* Login by app secret: service ``Kingdee.BOS.WebApi.ServicesStub.AuthService.LoginByAppSecret``
  with ``{"parameters": [acct_id, username, app_id, app_secret, lcid]}`` (github.com/
  kingdee-nodejs/k3cloud ``loginByAppSecret``; the Java SDK's ``K3CloudClienter
  .loginByAppSecret``). The answer's ``LoginResultType`` is 1 on success, with ``Message``,
  ``KDSVCSessionId``, ``IsSuccessByAPI`` and ``Context`` (``LoginResult.java``); the session
  is the ``kdservice-sessionid`` cookie (with ``ASP.NET_SessionId``), sent back on every call.
* Signed-header mode (no login call): see :mod:`.signing`.
* The session lost: ``Result.ResponseStatus`` with ``MsgCode`` 1 and the message
  "会话信息已丢失，请重新登录" (quoted from real answers in public Kingdee MCP servers' code,
  e.g. found with the code search "会话信息已丢失"): log in again and send once more.
* Save answers ``{"Result": {"ResponseStatus": {"ErrorCode", "IsSuccess", "Errors":
  [{"FieldName", "Message", "DIndex"}], "SuccessEntitys": [{"Id", "Number", "DIndex"}],
  "SuccessMessages", "MsgCode"}, "Id", "Number", "NeedReturnData"}}`` (``RepoStatus.java``,
  ``RepoError.java``, ``SuccessEntity.java`` of the Java SDK). ``DIndex`` is the bill's
  position in the batch. ``IsSuccess`` is read as a bool or the strings "true"/"True" (C#
  clients compare it as text); a missing list is an empty list.
* ExecuteBillQuery: ``{"data": {"FormId", "FieldKeys" (comma-separated), "FilterString",
  "OrderString", "TopRowCount", "StartRow", "Limit"}}`` answered with a list of rows, each a
  list of the field values in FieldKeys' order; a failure is ``[[{"Result": {"ResponseStatus":
  {"IsSuccess": false, ...}}}]]`` (``K3CloudApi.executeBillQuery`` and ``loadErrorMsg`` of the
  Java SDK). Paging is by StartRow/Limit: a page shorter than Limit is the last.
* Dates come zone-less (``2026-11-26T10:00:00``, the Java SDK's ``convertToDest``) in the
  server's time: China time is assumed.
* AR_receivable fields ``FBillNo``, ``FALLAMOUNTFOR`` (价税合计), ``FWRITTENOFFSTATUS``
  (核销状态 A 空 / B 部分 / C 完全), ``FDocumentStatus`` (C = audited), ``FModifyDate``, and the
  entry's ``FORDERNUMBER`` (销售订单号): public code querying AR_receivable (code search
  "FWRITTENOFFSTATUS", and SQL over T_AR_RECEIVABLE with ``FWRITTENOFFSTATUS IN ('A','B')``).
  Not verified from Kingdee's own docs: ``FORDERNUMBER`` as the source order's number.
* Rate limiting and outages: HTTP 429 and 5xx are treated as transient (the public cloud's
  gateway answers 429; its body is not documented publicly).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from orderpilot.adapters.channels.base import dumps
from orderpilot.domain.erp import CLOSED, OPEN, BillResult, Receivable
from orderpilot.domain.errors import PermanentError, TransientError
from orderpilot.domain.times import SHANGHAI
from orderpilot.integrations.kingdee.answers import (
    bill_results,
    errors_text,
    is_success,
    kingdee_time,
    quoted,
    response_status,
    session_lost,
)
from orderpilot.integrations.kingdee.mapping import FORM_ID
from orderpilot.integrations.kingdee.signing import signed_headers

STUB = "Kingdee.BOS.WebApi.ServicesStub"
LOGIN = f"{STUB}.AuthService.LoginByAppSecret"
BATCH_SAVE = f"{STUB}.DynamicFormService.BatchSave"
SAVE = f"{STUB}.DynamicFormService.Save"
QUERY = f"{STUB}.DynamicFormService.ExecuteBillQuery"
SESSION_COOKIE = "kdservice-sessionid"
RECEIVABLE_FORM = "AR_receivable"
RECEIVABLE_FIELDS = ("FID", "FBillNo", "FORDERNUMBER", "FALLAMOUNTFOR", "FWRITTENOFFSTATUS",
                     "FModifyDate")


class KingdeeClient:
    """One Kingdee account set (账套) as one integration user. Thread-safe: the session is
    renewed under a lock."""

    def __init__(self, http: httpx.Client, base_url: str, *, acct_id: str, username: str,
                 app_id: str, app_secret: str, lcid: int = 2052, org_number: str = "",
                 auth_mode: str = "app_secret", timeout_s: float = 30.0,
                 now: Callable[[], float] = time.time) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.acct_id, self.username, self.app_id = acct_id, username, app_id
        self.app_secret, self.lcid, self.org_number = app_secret, lcid, org_number
        self.auth_mode, self.timeout_s, self.now = auth_mode, timeout_s, now
        self._cookies: dict[str, str] = {}
        self._lock = threading.Lock()
        self.logins = 0

    # --- the session ---

    def login(self) -> None:
        """LoginByAppSecret; keeps the session cookies. PermanentError when Kingdee says no."""
        with self._lock:
            self._cookies = {}
            response = self._send(LOGIN, {"parameters": [
                self.acct_id, self.username, self.app_id, self.app_secret, self.lcid]})
            answer = self._json(response, "login")
            if not isinstance(answer, dict) or answer.get("LoginResultType") != 1:
                message = answer.get("Message") if isinstance(answer, dict) else answer
                raise PermanentError(f"Kingdee refused the login of {self.username!r} to "
                                     f"account set {self.acct_id!r}: {message}",
                                     response=answer, status_code=response.status_code,
                                     zh=f"金蝶拒绝登录（账套 {self.acct_id}，用户 "
                                        f"{self.username}）：{message}")
            self._keep_cookies(response)
            session = answer.get("KDSVCSessionId")
            if session and SESSION_COOKIE not in self._cookies:
                self._cookies[SESSION_COOKIE] = str(session)
            self.logins += 1

    def call(self, service: str, body: dict[str, Any], what: str) -> Any:
        """SERVICE with BODY in the session (logging in first if there is none); when the
        session was lost, log in again and send once more."""
        if self.auth_mode == "app_secret" and not self._cookies:
            self.login()
        answer = self._answer(service, body, what)
        if session_lost(answer):
            if self.auth_mode == "app_secret":
                self.login()
            else:
                self._cookies = {}
            answer = self._answer(service, body, what)
            if session_lost(answer):
                raise TransientError(f"{what}: Kingdee lost the session again after a new "
                                     f"login", response=answer,
                                     zh=f"{what}：重新登录后金蝶会话仍然丢失")
        return answer

    def _answer(self, service: str, body: dict[str, Any], what: str) -> Any:
        response = self._send(service, body)
        self._keep_cookies(response)
        return self._json(response, what)

    def _send(self, service: str, body: dict[str, Any]) -> httpx.Response:
        url = f"{self.base_url}/{service}.common.kdsvc"
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Accept-Charset": "utf-8"}
        if self.auth_mode == "signed":
            headers.update(signed_headers(
                url, acct_id=self.acct_id, username=self.username, app_id=self.app_id,
                app_secret=self.app_secret, lcid=self.lcid, org_number=self.org_number,
                timestamp=int(self.now())))
        # Always our own Cookie header (as the SDK: "Theme=standard" first), so a shared
        # HTTP client's cookie jar never sends another session's cookies along.
        headers["Cookie"] = "; ".join(["Theme=standard", *(
            f"{k}={v}" for k, v in self._cookies.items())])
        try:
            return self.http.post(url, content=dumps(body).encode(), headers=headers,
                                  timeout=self.timeout_s)
        except httpx.HTTPError as error:
            raise TransientError(f"Kingdee {service.rsplit('.', 1)[-1]}: {error!r}; the "
                                 f"outcome is unknown", zh="调用金蝶失败，结果未知") from error

    def _keep_cookies(self, response: httpx.Response) -> None:
        for name, value in response.cookies.items():
            self._cookies[name] = value

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientError(f"Kingdee {what}: HTTP {status}", status_code=status,
                                 response=response.text[:500],
                                 zh=f"金蝶 {what}：HTTP {status}，稍后重试")
        if status >= 400:
            raise PermanentError(f"Kingdee {what}: HTTP {status}: {response.text[:200]!r}",
                                 status_code=status, response=response.text[:500],
                                 zh=f"金蝶 {what}：HTTP {status}，请求被拒绝")
        text = response.text
        if text.startswith("response_error:"):
            raise PermanentError(f"Kingdee {what}: {text[:300]}", response=text[:500],
                                 status_code=status, zh=f"金蝶 {what} 出错：{text[15:300]}")
        try:
            return json.loads(text, parse_float=Decimal)
        except ValueError:
            raise TransientError(f"Kingdee {what}: the answer is not JSON: {text[:200]!r}",
                                 status_code=status, zh=f"金蝶 {what}：返回的不是 JSON") \
                from None

    # --- sale orders ---

    def save_sale_orders(self, models: Sequence[dict[str, Any]], *,
                         auto_audit: bool) -> list[BillResult]:
        """BatchSave the models (each a SAL_SaleOrder Model with its FBillNo); one result per
        model, in order. Submitted and audited in the same call when AUTO_AUDIT."""
        bill_nos = [str(m.get("FBillNo", "")) for m in models]
        answer = self.call(BATCH_SAVE, {"formid": FORM_ID, "data": {
            "Model": list(models), "IsAutoSubmitAndAudit": auto_audit,
            "IsVerifyBaseDataField": True, "NumberSearch": True, "ValidateFlag": True,
            "IsDeleteEntry": True}}, "BatchSave SAL_SaleOrder")
        return bill_results(bill_nos, answer)

    def save_bill(self, form_id: str, model: dict[str, Any], *,
                  auto_audit: bool) -> tuple[BillResult, Any]:
        """Save one bill of FORM_ID (its Model carries its FBillNo); its result and Kingdee's
        answer as sent. Submitted and audited in the same call when AUTO_AUDIT."""
        bill_no = str(model.get("FBillNo", ""))
        answer = self.call(SAVE, {"formid": form_id, "data": {
            "Model": model, "IsAutoSubmitAndAudit": auto_audit, "IsVerifyBaseDataField": True,
            "NumberSearch": True, "ValidateFlag": True}}, f"Save {form_id}")
        [result] = bill_results([bill_no], answer)
        return result, answer

    def find_bills(self, bill_nos: Sequence[str], *,
                   form_id: str = FORM_ID) -> dict[str, str]:
        """The bills of FORM_ID (sale orders unless told) that exist among BILL_NOS: bill
        number -> Kingdee id."""
        found: dict[str, str] = {}
        for start in range(0, len(bill_nos), 200):
            chunk = list(bill_nos[start:start + 200])
            rows = self.query(form_id, ("FID", "FBillNo"),
                              f"FBillNo in ({','.join(quoted(n) for n in chunk)})")
            for row in rows:
                if len(row) >= 2 and str(row[1]) in chunk:
                    found[str(row[1])] = str(row[0])
        return found

    # --- queries ---

    def query(self, form_id: str, fields: Sequence[str], filter_string: str, *,
              order: str = "", page_size: int = 2000, limit: int = 100_000) -> list[list[Any]]:
        """Every row of ExecuteBillQuery, page by page."""
        rows: list[list[Any]] = []
        while len(rows) < limit:
            answer = self.call(QUERY, {"data": {
                "FormId": form_id, "FieldKeys": ",".join(fields), "FilterString": filter_string,
                "OrderString": order, "TopRowCount": 0, "StartRow": len(rows),
                "Limit": page_size}}, f"ExecuteBillQuery {form_id}")
            status = response_status(answer)
            if status and not is_success(status.get("IsSuccess")):
                raise PermanentError(f"Kingdee refused the query of {form_id}: "
                                     f"{errors_text(status)}", response=answer,
                                     zh=f"金蝶拒绝查询 {form_id}：{errors_text(status)}")
            if not isinstance(answer, list):
                raise TransientError(f"ExecuteBillQuery {form_id}: the answer is not a list",
                                     response=answer, zh=f"金蝶查询 {form_id} 的返回不是列表")
            page = [r for r in answer if isinstance(r, list)]
            rows += page
            if len(page) < page_size:
                break
        return rows

    def receivables(self, since: datetime) -> list[Receivable]:
        """The audited receivables changed since SINCE, oldest change first, one per bill."""
        local = since.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        rows = self.query(RECEIVABLE_FORM, RECEIVABLE_FIELDS,
                          f"FDocumentStatus = 'C' AND FModifyDate >= '{local}'",
                          order="FModifyDate ASC, FBillNo ASC")
        by_bill: dict[str, Receivable] = {}
        for row in rows:
            if len(row) < len(RECEIVABLE_FIELDS) or not row[1]:
                continue
            bill_no, order_no = str(row[1]), str(row[2] or "")
            seen = by_bill.get(bill_no)
            if seen is not None:
                if not seen.order_no and order_no:
                    by_bill[bill_no] = Receivable(bill_no, order_no, seen.amount, seen.state,
                                                  seen.written_off, seen.changed_at,
                                                  seen.erp_id)
                continue
            status = str(row[4] or "A")
            by_bill[bill_no] = Receivable(
                bill_no, order_no, Decimal(str(row[3] or 0)),
                CLOSED if status == "C" else OPEN, status,
                kingdee_time(row[5], "FModifyDate"), str(row[0] or ""))
        return sorted(by_bill.values(), key=lambda r: (r.changed_at, r.bill_no))


__all__ = ["BATCH_SAVE", "LOGIN", "QUERY", "SAVE", "KingdeeClient", "bill_results", "is_success",
           "response_status", "session_lost"]
