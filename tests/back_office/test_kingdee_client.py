"""Kingdee K3Cloud WebAPI: answer parsing, signing, the field mapping, and the client against
the simulator (login, session renewal, partial batches, duplicates, faults, receivables)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orderpilot.domain.address import Address, Customer
from orderpilot.domain.channel_orders import MappingError
from orderpilot.domain.errors import PermanentError, TransientError
from orderpilot.domain.order import Order, OrderLine
from orderpilot.integrations import kingdee
from orderpilot.integrations.kingdee import simulator
from orderpilot.integrations.kingdee.client import (
    KingdeeClient,
    bill_results,
    is_success,
    session_lost,
)
from orderpilot.integrations.kingdee.mapping import (
    MappingInvalid,
    default_document,
    default_mapping,
    parse_mapping,
)
from orderpilot.integrations.kingdee.sale_order import sale_order_model
from orderpilot.integrations.kingdee.signing import (
    client_secret,
    hidden_secret,
    signature,
    signed_headers,
)
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.simulators.external.app import create_app

BASE = "http://testserver/kingdee/k3cloud"


def order(external_id: str = "2411260001SG", **changes: Any) -> Order:
    values: dict[str, Any] = dict(
        id="0b1c2d3e-0000-4000-8000-000000000001", channel="shopee", shop_id="SG-01",
        external_id=external_id,
        placed_at=datetime(2026, 11, 26, 17, 30, tzinfo=UTC),  # 01:30 on the 27th in China
        currency="CNY", customer=Customer("张三", "13800000000"),
        shipping_address=Address("CN", "浙江省", "宁波市", "北仑区", "港城大道1号", "315800"),
        lines=[OrderLine("DIAPER-L", 2, Decimal("129.00"), "纸尿裤 L", Decimal("10.00")),
               OrderLine("WIPES-80", 3, Decimal("9.90"))],
        total=Decimal("277.70"), shipping_fee=Decimal("0.00"))
    values.update(changes)
    return Order(**values)


# --- parsing what Kingdee answers ---

@pytest.mark.parametrize(("value", "expected"), [
    (True, True), ("true", True), ("True", True), (" TRUE ", True), (1, True), ("1", True),
    (False, False), ("false", False), ("False", False), (None, False), (0, False),
    ("yes", False), ({}, False)])
def test_is_success_is_read_as_a_bool_or_its_text(value: object, expected: bool) -> None:
    assert is_success(value) is expected


def _answer(ok: object, errors: Any = None, successes: Any = None) -> dict[str, Any]:
    status: dict[str, Any] = {"ErrorCode": 500, "IsSuccess": ok}
    if errors is not None:
        status["Errors"] = errors
    if successes is not None:
        status["SuccessEntitys"] = successes
    return {"Result": {"ResponseStatus": status}}


def test_a_partial_batch_names_each_bill_by_dindex() -> None:
    answer = _answer(False, [{"FieldName": "FMaterialId", "Message": "物料不存在", "DIndex": 1}],
                     [{"Id": 7, "Number": "A1", "DIndex": 0}, {"Id": 9, "DIndex": 2}])
    results = bill_results(["A1", "A2", "A3"], answer)
    assert [(r.bill_no, r.outcome, r.erp_id) for r in results] == [
        ("A1", "booked", "7"), ("A2", "failed", None), ("A3", "booked", "9")]
    assert results[1].error == "FMaterialId: 物料不存在" and not results[1].transient


def test_missing_lists_and_text_flags_never_book_a_bill_by_guess() -> None:
    # IsSuccess "true" with no SuccessEntitys: the bills are unknown, looked up before resend
    assert [r.outcome for r in bill_results(["A1", "A2"], _answer("true"))] == \
        ["unknown", "unknown"]
    assert [r.outcome for r in bill_results(["A1"], {"unexpected": 1})] == ["unknown"]
    assert [r.outcome for r in bill_results(["A1"], "response_error:")] == ["unknown"]
    assert bill_results(["A1"], _answer("True", None, [{"Number": "A1"}]))[0].outcome == \
        "booked"
    # a whole-batch refusal without DIndex fails every bill, transient when it is a lock
    whole = bill_results(["A1", "A2"], _answer("false", [{"Message": "数据被锁定，请稍后再试"}]))
    assert [(r.outcome, r.transient) for r in whole] == [("failed", True), ("failed", True)]


def test_a_taken_bill_number_is_flagged_as_a_duplicate() -> None:
    answer = _answer(False, [{"Message": "单据编号“A2”已存在，不能重复", "DIndex": 0}])
    results = bill_results(["A1", "A2"], answer)
    assert results[1].outcome == "failed" and results[1].duplicate  # named in the message
    assert results[0].outcome == "unknown"


def test_the_session_lost_answer_is_recognised_in_both_shapes() -> None:
    lost = {"Result": {"ResponseStatus": {"IsSuccess": False, "MsgCode": 1, "Errors": [
        {"FieldName": None, "Message": "会话信息已丢失，请重新登录", "DIndex": 0}]}}}
    assert session_lost(lost) and session_lost([[lost]])
    assert not session_lost(_answer(False, [{"Message": "物料不存在"}]))
    assert not session_lost([["A1", 3]])


# --- signing ---

def test_signatures_are_base64_of_the_hex_hmac() -> None:
    hexed = hmac.new(b"key", b"message", hashlib.sha256).hexdigest()
    assert signature("message", "key") == base64.b64encode(hexed.encode()).decode()


def test_the_client_secret_hidden_in_the_app_id_comes_back() -> None:
    secret = base64.b64encode(b"0123456789abcdefghijklmn").decode()
    app_id = hidden_secret("204399", secret)
    assert app_id.startswith("204399_") and len(app_id.split("_")[1]) == 32
    assert client_secret(app_id) == secret
    assert client_secret("no-secret-part") == ""
    # the SDK's own sample app id decodes to a 32-character secret
    assert len(client_secret("204399_72epSbtEQMC92Vwt2d3LRa9LRqSc1tqJ")) == 32


def test_signed_headers_carry_the_account_and_both_signatures() -> None:
    headers = signed_headers(f"{BASE}/x.common.kdsvc", acct_id="A", username="u",
                             app_id=simulator.SIM_APP_ID, app_secret="s", lcid=2052,
                             org_number="100", timestamp=1764000000)
    assert base64.b64decode(headers["X-Kd-Appdata"]).decode() == "A,u,2052,100"
    assert headers["X-Kd-Signature"] == signature(simulator.SIM_APP_ID + "A,u,2052,100", "s")
    assert headers["X-Api-ClientID"] == "310001" and headers["x-api-nonce"] == "1764000000"


# --- the field mapping ---

def test_the_default_mapping_makes_an_exact_sale_order() -> None:
    model = sale_order_model(order(), default_mapping("200"))
    assert model["FBillNo"] == "2411260001SG"
    assert model["FDate"] == "2026-11-27"  # the China date of the order
    assert model["FSaleOrgId"] == {"FNumber": "200"}
    assert model["FBillTypeID"] == {"FNumber": "XSDD01_SYS"}
    assert model["FCustId"] == {"FNumber": "CUST-RETAIL"}
    assert model["FSaleOrderFinance"]["FSettleCurrId"] == {"FNumber": "PRE001"}
    assert model["FSaleOrderEntry"] == [
        {"FMaterialId": {"FNumber": "DIAPER-L"}, "FQty": 2, "FTaxPrice": Decimal("129.00"),
         "FDiscountRate": Decimal("3.875969"), "FDeliveryDate": "2026-11-27"},
        {"FMaterialId": {"FNumber": "WIPES-80"}, "FQty": 3, "FTaxPrice": Decimal("9.90"),
         "FDiscountRate": Decimal("0"), "FDeliveryDate": "2026-11-27"}]


def test_a_currency_no_lookup_knows_is_refused_in_both_languages() -> None:
    with pytest.raises(MappingError) as caught:
        sale_order_model(order(currency="SGD"), default_mapping())
    assert caught.value.field == "finance.FSettleCurrId"
    assert "SGD" in caught.value.message and "查找表" in caught.value.message_zh


def test_finance_edits_lookups_and_constants() -> None:
    document = default_document()
    document["lookups"]["customers"]["values"] = {"shopee": "C-SHOPEE"}
    document["head"]["F_PAEZ_Shop"] = "order.shop_id"
    document["entry"]["FEntryNote"] = "line.name"
    model = sale_order_model(order(), parse_mapping(document))
    assert model["FCustId"] == {"FNumber": "C-SHOPEE"} and model["F_PAEZ_Shop"] == "SG-01"
    assert model["FSaleOrderEntry"][0]["FEntryNote"] == "纸尿裤 L"


def test_a_bad_mapping_names_every_problem_in_both_languages() -> None:
    document = default_document()
    document["head"]["FBillNo"] = "order.id"
    document["head"]["FNote"] = "line.sku"
    document["head"]["bad key"] = "const:x"
    document["finance"]["FSettleCurrId"] = {"FNumber": "lookup:nowhere"}
    del document["entry"]["FQty"]
    document["entry"]["FPrice"] = "order.secret"
    with pytest.raises(MappingInvalid) as caught:
        parse_mapping(document)
    fields = {p.field for p in caught.value.problems}
    assert {"head.FBillNo", "head.FNote", "head.bad key", "finance.FSettleCurrId",
            "entry.FQty", "entry.FPrice"} <= fields
    assert all(p.message_zh and p.message for p in caught.value.problems)
    with pytest.raises(MappingInvalid):
        parse_mapping(["not", "an", "object"])


# --- the client against the simulator ---

@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(kingdee.INTEGRATION))
    with TestClient(app) as client:
        client.delete("/_sim/kingdee")
        yield client


def make_client(sim: TestClient, **changes: Any) -> KingdeeClient:
    values: dict[str, Any] = dict(acct_id=simulator.SIM_ACCT_ID, username=simulator.SIM_USERNAME,
                                  app_id=simulator.SIM_APP_ID,
                                  app_secret=simulator.SIM_APP_SECRET, org_number="100")
    values.update(changes)
    return KingdeeClient(sim, BASE, **values)


def models(*numbers: str) -> list[dict[str, Any]]:
    return [sale_order_model(order(n), default_mapping()) for n in numbers]


def test_login_save_and_find_in_one_session(sim: TestClient) -> None:
    client = make_client(sim)
    results = client.save_sale_orders(models("B1", "B2"), auto_audit=True)
    assert [(r.bill_no, r.outcome) for r in results] == [("B1", "booked"), ("B2", "booked")]
    assert set(client.find_bills(["B1", "B2", "B3"])) == {"B1", "B2"}
    assert client.logins == 1
    held = sim.get("/_sim/kingdee/bills").json()["bills"]
    assert {b["FDocumentStatus"] for b in held} == {"C"}  # submitted and audited
    assert held[0]["Model"]["FSaleOrderEntry"][0]["FTaxPrice"] == 129.00


def test_an_expired_session_is_renewed_once(sim: TestClient) -> None:
    client = make_client(sim)
    client.find_bills(["B1"])
    sim.post("/_sim/kingdee/expire_sessions")
    assert client.save_sale_orders(models("B1"), auto_audit=False)[0].outcome == "booked"
    assert client.logins == 2


def test_wrong_credentials_are_a_permanent_refusal(sim: TestClient) -> None:
    with pytest.raises(PermanentError) as caught:
        make_client(sim, app_secret="wrong").find_bills(["B1"])
    assert "login" in caught.value.message and "金蝶拒绝登录" in caught.value.message_zh


def test_signed_headers_need_no_login_and_are_checked(sim: TestClient) -> None:
    client = make_client(sim, auth_mode="signed")
    assert client.save_sale_orders(models("S1"), auto_audit=True)[0].outcome == "booked"
    assert client.logins == 0 and set(client.find_bills(["S1"])) == {"S1"}
    forged = make_client(sim, auth_mode="signed", app_secret="forged")
    with pytest.raises(TransientError):  # every call answered "session lost"
        forged.find_bills(["S1"])


def test_a_partial_batch_and_a_duplicate_are_told_apart(sim: TestClient) -> None:
    client = make_client(sim)
    client.save_sale_orders(models("P1"), auto_audit=True)
    sim.post("/_sim/kingdee/partial", json={"fail_bill_nos": ["P3"],
                                             "reason": "第1行分录，物料编码“DIAPER-L”不存在"})
    results = client.save_sale_orders(models("P1", "P2", "P3"), auto_audit=True)
    assert [(r.outcome, r.duplicate) for r in results] == [
        ("failed", True), ("booked", False), ("failed", False)]
    assert "物料编码" in (results[2].error or "")
    assert len(sim.get("/_sim/kingdee/bills").json()["bills"]) == 2  # P1 once, P2


def test_text_flags_and_missing_success_lists_are_read_safely(sim: TestClient) -> None:
    client = make_client(sim)
    sim.post("/_sim/kingdee/answer_style", json={"is_success_as_text": True})
    assert client.save_sale_orders(models("T1"), auto_audit=True)[0].outcome == "booked"
    sim.post("/_sim/kingdee/answer_style", json={"omit_success_entities": True})
    assert client.save_sale_orders(models("T2"), auto_audit=True)[0].outcome == "unknown"


@pytest.mark.parametrize("status", [429, 502, 503])
def test_rate_limits_and_outages_are_transient(sim: TestClient, status: int) -> None:
    client = make_client(sim)
    client.login()
    sim.post("/_sim/kingdee/faults", json={"status": status})
    with pytest.raises(TransientError):
        client.save_sale_orders(models("F1"), auto_audit=True)
    assert client.save_sale_orders(models("F1"), auto_audit=True)[0].outcome == "booked"


def test_receivables_are_read_page_by_page_with_their_state(sim: TestClient) -> None:
    client = make_client(sim)
    sim.post("/_sim/kingdee/receivables", json={"receivables": [
        {"bill_no": "AR001", "order_no": "B1", "amount": "277.70", "status": "A",
         "modified_at": "2026-11-27T10:00:00+08:00"},
        {"bill_no": "AR002", "order_no": "B2", "amount": "10.00", "status": "C",
         "modified_at": "2026-11-27T11:00:00+08:00"},
        {"bill_no": "AR000", "order_no": "B0", "amount": "1.00", "status": "A",
         "modified_at": "2026-11-20T11:00:00+08:00"}]})
    since = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 09:00 in China
    found = client.receivables(since)
    assert [(r.bill_no, r.order_no, r.amount, r.state) for r in found] == [
        ("AR001", "B1", Decimal("277.70"), "open"), ("AR002", "B2", Decimal("10.00"), "closed")]
    assert found[0].changed_at == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    paged = client.query("AR_receivable", ("FBillNo",), "FDocumentStatus = 'C'", page_size=1)
    assert paged == [["AR000"], ["AR001"], ["AR002"]]
    sim.post("/_sim/kingdee/close", json={"bill_no": "AR001",
                                          "at": "2026-11-28T09:00:00+08:00"})
    later = client.receivables(since + timedelta(days=1))
    assert [(r.bill_no, r.state, r.written_off) for r in later] == [("AR001", "closed", "C")]


def test_a_query_kingdee_refuses_is_permanent(sim: TestClient) -> None:
    with pytest.raises(PermanentError) as caught:
        make_client(sim).query("AR_receivable", ("FNoSuchField",), "")
    assert "字段不存在" in caught.value.message
