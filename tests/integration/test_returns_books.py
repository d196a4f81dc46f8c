"""S8, the side effects that close the books after a return, each a rule template run by the
rule runner against the simulators (Kingdee signs in and checks every call's session; the CRM
checks its bearer token and the hub's body signature): a refund credits the receivable once
(also across a kill -9 inside the call, and when the refund is reported twice), a second
return within 90 days lowers the CRM level once, a returned SKU still under its threshold gets
one purchase requisition a day. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from integration.rules_support import settle
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.domain.times import SHANGHAI
from orderpilot.simulators.external.server import SimServer

RETURN_1 = "7d0f3c1e-1111-4a8b-9c55-000000000001"
RETURN_2 = "7d0f3c1e-1111-4a8b-9c55-000000000002"
PHONE = "13912345678"


class Killed(BaseException):
    """Stands in for kill -9 at a point of the call: nothing after it runs."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def books(rules_hub: Hub, client: TestClient, sim: SimServer) -> TestClient:
    sim.admin().delete("/_sim/kingdee").raise_for_status()
    sim.admin().delete("/_sim/crm").raise_for_status()
    return client


def use_template(client: TestClient, template_id: str, **answers: Any) -> None:
    answer = client.post(f"/api/v1/rules/templates/{template_id}/draft",
                         json={"answers": answers, "publish": True, "enable": True})
    assert answer.status_code == 201, answer.text


def report(client: TestClient, order_id: str, kind: str, source: str, ref: str,
           data: dict[str, Any] | None = None) -> None:
    answer = client.post(f"/api/v1/orders/{order_id}/events", json={
        "type": kind, "source": source, "source_event_id": ref,
        "occurred_at": "2026-11-26T12:00:00+08:00", "data": data or {}})
    assert answer.status_code in (200, 201), answer.text


def shipped_order(client: TestClient, external_id: str, *, sku: str = "DIAPER-L",
                  phone: str = PHONE) -> str:
    body = order_body(external_id, customer={"name": "王五", "phone": phone},
                      lines=[{"sku": sku, "quantity": 2, "unit_price": "129.00"}])
    answer = client.post("/api/v1/orders", json=body)
    assert answer.status_code == 201, answer.text
    order_id = str(answer.json()["id"])
    report(client, order_id, "payment.succeeded", "shopee", f"pay-{external_id}")
    report(client, order_id, "wms.released", "wms", f"rel-{external_id}")
    report(client, order_id, "shipment.shipped", "sf", f"ship-{external_id}",
           {"carrier": "sf", "tracking_number": f"SF{external_id}", "outlet_code": "SF-0278"})
    return order_id


def events_of(hub: Hub, order_id: str, kind: str) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        return [dict(r.payload) | {"_source": r.source} for r in conn.execute(
            sa.select(t.events).where(t.events.c.order_id == order_id,
                                      t.events.c.type == kind).order_by(t.events.c.seq))]


def kingdee(sim: SimServer) -> dict[str, Any]:
    return sim.state.recorders["kingdee"].data


def saves(sim: SimServer) -> int:
    """Save calls that reached the Kingdee simulator (each test saves one form only; a
    second call would be a second bill, or a refusal of its number)."""
    return sum(1 for r in sim.requests("kingdee")
               if str(r.get("service", "")).endswith("DynamicFormService.Save"))


def run_statuses(hub: Hub) -> list[str]:
    with hub.db.read() as conn:
        return sorted(r.status for r in conn.execute(sa.select(t.rule_runs.c.status)))


def open_receivable(sim: SimServer, order_no: str, amount: str) -> None:
    sim.admin().post("/_sim/kingdee/receivables", json={"receivables": [
        {"bill_no": f"AR-{order_no}", "order_no": order_no, "amount": amount,
         "status": "A"}]}).raise_for_status()


# --- the receivable ---

def refunded(client: TestClient, order_id: str, return_id: str, amount: str,
             ref: str = "") -> None:
    report(client, order_id, "return.requested", "shopee", f"rr-{return_id}",
           {"return_id": return_id, "lines": [{"sku": "DIAPER-L", "quantity": 1}],
            "reason_tags": ["质量问题"], "reason_text": "", "customer_address": None})
    report(client, order_id, "refund.succeeded", "shopee", ref or f"rf-{return_id}",
           {"return_id": return_id, "amount": amount})


def test_a_refund_credits_the_receivable_once_and_records_it_closed(
        rules_hub: Hub, books: TestClient, sim: SimServer) -> None:
    use_template(books, "return-refund-credit-receivable")
    order_id = shipped_order(books, "RB-100")
    open_receivable(sim, "RB-100", "258.00")
    refunded(books, order_id, RETURN_1, "129.00")
    settle(rules_hub)

    held = kingdee(sim)["receivables"]
    credit = held[f"RC-{RETURN_1}"]
    assert credit["FALLAMOUNTFOR"] == Decimal("-129.00")
    assert credit["FORDERNUMBER"] == "RB-100" and credit["FDocumentStatus"] == "C"
    assert held["AR-RB-100"]["FWRITTENOFFSTATUS"] == "B"  # 129 of 258 written off
    [closed] = events_of(rules_hub, order_id, "erp.receivable_closed")
    assert closed["data"]["amount"] == "129.00"
    assert closed["data"]["bill_no"] == f"RC-{RETURN_1}"
    assert closed["data"]["return_id"] == RETURN_1
    assert closed["_source"] == "kingdee" and closed["outcome"] == "view"
    assert run_statuses(rules_hub) == ["succeeded"]

    # The channel reports the same refund again under another reference: a second run, whose
    # Save Kingdee refuses as a number it holds; still one credit, one event.
    report(books, order_id, "refund.succeeded", "shopee", "rf-again",
           {"return_id": RETURN_1, "amount": "129.00"})
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["succeeded", "succeeded"]
    assert [n for n in kingdee(sim)["receivables"] if n.startswith("RC-")] == [f"RC-{RETURN_1}"]
    assert len(events_of(rules_hub, order_id, "erp.receivable_closed")) == 1

    # A second return of the rest closes the receivable completely.
    refunded(books, order_id, RETURN_2, "129.00")
    settle(rules_hub)
    assert kingdee(sim)["receivables"]["AR-RB-100"]["FWRITTENOFFSTATUS"] == "C"
    amounts = [e["data"]["amount"] for e in events_of(rules_hub, order_id,
                                                       "erp.receivable_closed")]
    assert amounts == ["129.00", "129.00"]


def stop_inside_the_call(hub: Hub, point: str) -> None:
    hub.dispatcher("t").run_once()
    doomed = hub.runner("doomed")

    def stop(at: str) -> None:
        if at == point:
            raise Killed(at)

    doomed.settings.stop_at = stop
    with pytest.raises(Killed):
        doomed.run_once()


def test_killed_after_kingdee_saved_the_credit_it_is_looked_up_not_sent_again(
        rules_hub: Hub, books: TestClient, sim: SimServer, clock: FakeClock) -> None:
    use_template(books, "return-refund-credit-receivable")
    order_id = shipped_order(books, "RB-200")
    open_receivable(sim, "RB-200", "258.00")
    refunded(books, order_id, RETURN_1, "258.00")
    stop_inside_the_call(rules_hub, "outside_call.answered")
    assert f"RC-{RETURN_1}" in kingdee(sim)["receivables"]
    assert events_of(rules_hub, order_id, "erp.receivable_closed") == []

    clock.advance(seconds=61)  # the stopped runner's lease runs out
    settle(rules_hub)

    assert run_statuses(rules_hub) == ["succeeded"]
    assert saves(sim) == 1
    assert kingdee(sim)["receivables"]["AR-RB-200"]["FWRITTENOFFSTATUS"] == "C"
    [closed] = events_of(rules_hub, order_id, "erp.receivable_closed")
    assert (closed["data"]["amount"], closed["data"]["bill_no"]) == ("258.00", f"RC-{RETURN_1}")
    with rules_hub.db.read() as conn:
        [attempt] = conn.execute(sa.select(t.outside_attempts)).all()
    assert (attempt.status, attempt.calls, attempt.look_ups) == ("sent", 1, 1)


def test_killed_before_the_credit_left_it_is_sent_once_after_the_look_up(
        rules_hub: Hub, books: TestClient, sim: SimServer, clock: FakeClock) -> None:
    use_template(books, "return-refund-credit-receivable")
    order_id = shipped_order(books, "RB-300")
    refunded(books, order_id, RETURN_1, "99.50")
    stop_inside_the_call(rules_hub, "outside_call.sending")
    assert saves(sim) == 0

    clock.advance(seconds=61)
    settle(rules_hub)  # not found; Kingdee is asked again after the grace, nothing is sent
    assert saves(sim) == 0 and run_statuses(rules_hub) == ["pending"]
    clock.advance(seconds=120)
    settle(rules_hub)

    assert run_statuses(rules_hub) == ["succeeded"] and saves(sim) == 1
    [closed] = events_of(rules_hub, order_id, "erp.receivable_closed")
    assert closed["data"]["amount"] == "99.50"


def test_a_refund_without_a_usable_amount_fails_the_step_and_credits_nothing(
        rules_hub: Hub, books: TestClient, sim: SimServer) -> None:
    use_template(books, "return-refund-credit-receivable")
    order_id = shipped_order(books, "RB-400")
    refunded(books, order_id, RETURN_1, "1,2x")
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["failed"]
    assert saves(sim) == 0
    assert events_of(rules_hub, order_id, "erp.receivable_closed") == []


# --- the CRM level ---

def return_requested(client: TestClient, order_id: str, return_id: str) -> None:
    report(client, order_id, "return.requested", "shopee", f"rr-{return_id}",
           {"return_id": return_id, "lines": [{"sku": "DIAPER-L", "quantity": 1}],
            "reason_tags": ["尺码不符"], "reason_text": "", "customer_address": None})


def test_the_second_return_in_90_days_lowers_the_crm_level_once(
        rules_hub: Hub, books: TestClient, sim: SimServer, clock: FakeClock) -> None:
    use_template(books, "two-returns-lower-level")
    first, second, third = (shipped_order(books, f"CL-{n}") for n in (1, 2, 3))
    stranger = shipped_order(books, "CL-9", phone="13700000009")

    return_requested(books, first, RETURN_1)
    return_requested(books, stranger, "7d0f3c1e-1111-4a8b-9c55-000000000009")
    settle(rules_hub)
    assert run_statuses(rules_hub) == []  # one return each: the condition does not hold
    assert sim.requests("crm") == []

    clock.advance(days=89)
    return_requested(books, second, RETURN_2)
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["succeeded"]
    assert kingdee_free_crm_levels(sim) == {PHONE: 2}
    [changed] = events_of(rules_hub, second, "crm.level_changed")
    assert (changed["data"]["from"], changed["data"]["to"]) == (3, 2)
    assert changed["data"]["reason"] == "90天内退货2次"
    assert events_of(rules_hub, first, "crm.level_changed") == []

    # 91 days after the second, the third return is the only one in its window.
    clock.advance(days=91)
    return_requested(books, third, "7d0f3c1e-1111-4a8b-9c55-000000000003")
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["succeeded"]
    assert kingdee_free_crm_levels(sim) == {PHONE: 2}
    pushes = [r for r in sim.requests("crm") if r.get("method") == "POST"]
    assert len(pushes) == 1


def kingdee_free_crm_levels(sim: SimServer) -> dict[str, int]:
    return dict(sim.state.recorders["crm"].data.get("levels", {}))


def test_a_crm_change_whose_answer_was_lost_is_found_by_its_key(
        rules_hub: Hub, books: TestClient, sim: SimServer, clock: FakeClock) -> None:
    sim.admin().post("/_sim/crm/dedupe", json={"enabled": False}).raise_for_status()
    use_template(books, "two-returns-lower-level", levels=2)
    first, second = shipped_order(books, "CK-1"), shipped_order(books, "CK-2")
    return_requested(books, first, RETURN_1)
    settle(rules_hub)
    return_requested(books, second, RETURN_2)
    stop_inside_the_call(rules_hub, "outside_call.answered")
    clock.advance(seconds=61)
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["succeeded"]
    assert kingdee_free_crm_levels(sim) == {PHONE: 1}  # lowered by two, once
    [changed] = events_of(rules_hub, second, "crm.level_changed")
    assert (changed["data"]["from"], changed["data"]["to"]) == (3, 1)
    sim.admin().post("/_sim/crm/dedupe", json={"enabled": True}).raise_for_status()


# --- replenishment ---

STOCK_SOURCES = {
    "NB": {"kind": "bonded_spot", "name_zh": "宁波仓", "name_en": "Ningbo", "region": "浙江省",
           "lead_time_days": 1, "low_threshold": 5},
    "LA": {"kind": "in_transit", "name_zh": "洛杉矶仓", "name_en": "Los Angeles",
           "region": "US", "lead_time_days": 20, "low_threshold": 50},
}


def stock(client: TestClient, levels: dict[str, int]) -> None:
    for code, body in STOCK_SOURCES.items():
        answer = client.put(f"/api/v1/inventory/sources/{code}", json=body)
        assert answer.status_code == 200, answer.text
    answer = client.put("/api/v1/inventory/levels", json={"source_event_id": "stock-1", "levels": [
        {"source": "NB", "sku": sku, "on_hand": n, "as_of": "2026-11-26T09:00:00+08:00"}
        for sku, n in levels.items()] + [
        {"source": "LA", "sku": "MILK-900", "on_hand": 500, "expected_at": "2026-12-20"}]})
    assert answer.status_code == 200, answer.text


def received(client: TestClient, order_id: str, return_id: str, sku: str) -> None:
    """Requested, received and inspected (the template waits for the inspection: the
    restockable units are back on hand then)."""
    report(client, order_id, "return.requested", "shopee", f"rr-{return_id}",
           {"return_id": return_id, "lines": [{"sku": sku, "quantity": 1}],
            "reason_tags": ["包装破损"], "reason_text": "", "customer_address": None})
    report(client, order_id, "return.received", "wms", f"rcv-{return_id}",
           {"return_id": return_id, "lines": [{"sku": sku, "quantity": 1}]})
    report(client, order_id, "return.inspected", "wms", f"insp-{return_id}",
           {"return_id": return_id,
            "lines": [{"sku": sku, "quantity": 1, "condition": "damaged"}]})


def available(client: TestClient, sku: str) -> int:
    [level] = [lv for lv in client.get("/api/v1/inventory/levels",
                                       params={"sku": sku}).json()["items"]
               if lv["source"] == "NB"]
    return int(level["available"])


def test_a_returned_sku_still_under_its_threshold_gets_one_requisition_a_day(
        rules_hub: Hub, books: TestClient, sim: SimServer, clock: FakeClock) -> None:
    stock(books, {"MILK-900": 4, "DIAPER-L": 40})
    use_template(books, "return-low-stock-replenish", top_up=7)
    milk_1 = shipped_order(books, "RP-1", sku="MILK-900")
    milk_2 = shipped_order(books, "RP-2", sku="MILK-900")
    diapers = shipped_order(books, "RP-3", sku="DIAPER-L")
    settle(rules_hub)
    # Orders shipped before any rule ran are not allocated here: 4 sellable, the threshold
    # is NB's 5 (LA's 500 units in transit and its threshold are not sellable).
    assert available(books, "MILK-900") == 4

    received(books, milk_1, RETURN_1, "MILK-900")
    received(books, diapers, "7d0f3c1e-1111-4a8b-9c55-000000000003", "DIAPER-L")
    settle(rules_hub)
    requisitions = kingdee(sim)["requisitions"]
    day = clock().astimezone(SHANGHAI).strftime("%Y%m%d")
    assert list(requisitions) == [f"PR-{day}-MILK-900"]  # 40 diapers are over 5
    [milk] = requisitions.values()
    assert (milk["FMaterialId"], milk["FReqQty"]) == ("MILK-900", 5 - 4 + 7)
    assert run_statuses(rules_hub) == ["succeeded", "succeeded"]

    received(books, milk_2, RETURN_2, "MILK-900")  # the same SKU, the same day
    settle(rules_hub)
    assert len(kingdee(sim)["requisitions"]) == 1
    assert saves(sim) == 1

    clock.advance(days=1)
    third = shipped_order(books, "RP-4", sku="MILK-900")
    received(books, third, "7d0f3c1e-1111-4a8b-9c55-000000000004", "MILK-900")
    settle(rules_hub)
    assert len(kingdee(sim)["requisitions"]) == 2


def test_replenishment_waits_for_the_inspection_not_the_receipt(
        rules_hub: Hub, books: TestClient, sim: SimServer) -> None:
    stock(books, {"MILK-900": 4})
    use_template(books, "return-low-stock-replenish", top_up=7)
    order_id = shipped_order(books, "RP-9", sku="MILK-900")
    report(books, order_id, "return.requested", "shopee", "rr-9",
           {"return_id": RETURN_1, "lines": [{"sku": "MILK-900", "quantity": 1}],
            "reason_tags": ["包装破损"], "reason_text": "", "customer_address": None})
    report(books, order_id, "return.received", "wms", "rcv-9",
           {"return_id": RETURN_1, "lines": [{"sku": "MILK-900", "quantity": 1}]})
    settle(rules_hub)
    assert kingdee(sim)["requisitions"] == {}  # received: not counted back yet
    report(books, order_id, "return.inspected", "wms", "insp-9",
           {"return_id": RETURN_1,
            "lines": [{"sku": "MILK-900", "quantity": 1, "condition": "damaged"}]})
    settle(rules_hub)
    assert len(kingdee(sim)["requisitions"]) == 1


def test_the_simulators_refuse_calls_without_a_session_or_a_signature(
        books: TestClient, sim: SimServer) -> None:
    with sim.admin() as http:
        lost = http.post("/kingdee/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService"
                         ".Save.common.kdsvc",
                         json={"formid": "AR_receivable", "data": {"Model": {"FBillNo": "X"}}})
        assert lost.json()["Result"]["ResponseStatus"]["MsgCode"] == 1
        assert kingdee(sim)["receivables"] == {}
        unsigned = http.post("/crm/api/customers/level", json={"phone": PHONE, "change": -1},
                             headers={"Idempotency-Key": "k-1"})
        assert unsigned.status_code == 401
        assert "levels" not in sim.state.recorders["crm"].data


def test_backtests_of_the_templates_predict_without_writing(
        rules_hub: Hub, books: TestClient, sim: SimServer, clock: FakeClock) -> None:
    first, second = shipped_order(books, "BT-1"), shipped_order(books, "BT-2")
    refunded(books, first, RETURN_1, "129.00")
    clock.advance(minutes=5)  # the count at each request is of the returns up to it
    refunded(books, second, RETURN_2, "258.00")
    template = books.get("/api/v1/rules/templates").json()["items"]
    by_id = {t["id"]: t["definition"] for t in template}

    credit = books.post("/api/v1/rules/backtest", json={
        "definition": by_id["return-refund-credit-receivable"], "days": 7}).json()
    assert (credit["matched"], credit["actions"], credit["unknown"]) == (
        2, {"erp.credit_receivable": 2}, 0)
    levels = books.post("/api/v1/rules/backtest", json={
        "definition": by_id["two-returns-lower-level"], "days": 7}).json()
    assert (levels["matched"], levels["actions"]) == (1, {"crm.lower_level": 1})
    assert saves(sim) == 0 and kingdee(sim)["receivables"] == {}
    assert [r for r in sim.requests("crm") if r.get("method") == "POST"] == []
