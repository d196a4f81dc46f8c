"""/api/v1/reconciliations on the known history: the run from events and from files (exact
classes, counts, per mille, file problems by file, row and field), who may do what, and the
fix action (audited, idempotent, automatic when enabled); on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from reconcile_files_support import erp_xlsx, storefront_csv, wms_csv
from reconcile_history import DAY, EVENT_COUNTS, build

from orderpilot.bootstrap import Hub

PERIOD = {"since": DAY, "until": DAY}


def as_role(api: Any, tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_a_run_from_events_is_kept_and_listed(api: Any, tokens: dict[str, str]) -> None:
    build(api)
    answer = api.post("/api/v1/reconciliations", json=PERIOD)
    assert answer.status_code == 201, answer.text
    run = answer.json()
    assert (run["orders"], run["discrepant_orders"], run["per_mille"]) == (20, 7, "350.000")
    assert (run["target_per_mille"], run["industry_per_mille"]) == ("0.3", "1.2")
    assert run["counts"] == EVENT_COUNTS
    assert run["sources"] == {"storefront": "events", "erp": "events", "wms": "events"}
    assert [i["n"] for i in run["items"]] == list(range(1, 8))
    viewer = as_role(api, tokens, "viewer")
    listed = api.get("/api/v1/reconciliations", headers=viewer).json()["items"]
    assert [r["id"] for r in listed] == [run["id"]]
    one = api.get(f"/api/v1/reconciliations/{run['id']}?class=duplicate_receivable",
                  headers=viewer).json()
    assert [(i["order_ref"], i["sku"], i["name_zh"], i["fix_en"]) for i in one["items"]] == [
        ("E8", "AR-E8, AR-E8-2", "重复应收", "Void the extra receivable and keep one")]
    assert api.post("/api/v1/reconciliations", json=PERIOD,
                    headers=viewer).status_code == 403
    bad = api.get(f"/api/v1/reconciliations/{run['id']}?class=nonsense")
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "class")
    assert api.get("/api/v1/reconciliations/no-such-run").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"since": "2026-11-27", "until": "2026-11-26"}, "until"),
    ({"since": "26/11/2026", "until": "2026-11-26"}, "since"),
    ({"since": "2026-01-01", "until": "2027-06-01"}, "until"),
])
def test_a_bad_period_is_refused_by_field(api: Any, body: dict[str, str], field: str) -> None:
    answer = api.post("/api/v1/reconciliations", json=body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == field and error["message_zh"]
    assert api.get("/api/v1/reconciliations").json()["items"] == []


def test_a_run_from_the_three_files(api: Any, tmp_path: Path) -> None:
    build(api)
    files = {"erp": erp_xlsx(tmp_path / "应收单.xlsx"), "wms": wms_csv(tmp_path / "out.csv"),
             "storefront": storefront_csv(tmp_path / "settlement.csv")}
    answer = api.post("/api/v1/reconciliations", data=PERIOD, files={
        side: (path.name, path.read_bytes()) for side, path in files.items()})
    assert answer.status_code == 201, answer.text
    run = answer.json()
    assert run["sources"] == {"storefront": "settlement.csv", "erp": "应收单.xlsx",
                              "wms": "out.csv"}
    assert run["counts"] == {
        "missing_in_erp": 1, "missing_in_wms": 1, "amount_mismatch": 2,
        "quantity_mismatch": 1, "shipped_without_receivable": 1,
        "receivable_without_shipment": 1, "returned_but_receivable_open": 1,
        "duplicate_receivable": 1, "missing_in_storefront": 1, "unknown_to_hub": 2}
    assert (run["orders"], run["discrepant_orders"], run["per_mille"]) == (20, 11, "550.000")
    found = {(i["class"], i["order_ref"], i["sku"], i["expected"], i["actual"], i["source"])
             for i in run["items"]}
    assert found == {
        ("missing_in_erp", "E1", "", "258.00", "", "应收单.xlsx"),
        ("missing_in_wms", "E2", "", "2", "0", "out.csv"),
        ("amount_mismatch", "E3", "AR-E3", "258.00", "250.00", "应收单.xlsx"),
        ("amount_mismatch", "C02", "", "258.00", "1258.00", "settlement.csv"),
        ("quantity_mismatch", "E4", "DIAPER-L", "2", "1", "out.csv"),
        ("shipped_without_receivable", "E5", "", "258.00", "", "应收单.xlsx"),
        ("receivable_without_shipment", "E6", "AR-E6", "", "258.00", "应收单.xlsx"),
        ("returned_but_receivable_open", "E7", "AR-E7", "0.00", "258.00", "应收单.xlsx"),
        ("duplicate_receivable", "E8", "AR-E8, AR-E8-2", "1", "2", "应收单.xlsx"),
        ("missing_in_storefront", "E1", "", "258.00", "", "settlement.csv"),
        ("unknown_to_hub", "GHOST-1", "", "", "", "应收单.xlsx"),
        ("unknown_to_hub", "GHOST-2", "", "", "", "out.csv"),
    }
    assert [(f["file"], f["row"], f["field"], f["code"]) for f in run["findings"]] == [
        ("settlement.csv", 20, "amount", "bad_amount"),
        ("应收单.xlsx", 23, "amount", "bad_amount"),
        ("应收单.xlsx", 24, "day", "bad_time"),
        ("应收单.xlsx", 25, "bill_no", "duplicate_row"),
        ("out.csv", 20, "quantity", "bad_quantity"),
        ("out.csv", 21, "shipped_at", "bad_time"),
    ]
    assert all(f["message_zh"] and f["message"] for f in run["findings"])
    by_file = {f["file"]: f for f in run["files"]}
    assert (by_file["应收单.xlsx"]["rows"], by_file["应收单.xlsx"]["used"],
            by_file["应收单.xlsx"]["outside_period"]) == (24, 21, 1)
    assert (by_file["out.csv"]["rows"], by_file["out.csv"]["used"]) == (20, 18)


def test_files_that_cannot_be_used_are_refused_whole(api: Any, tmp_path: Path) -> None:
    no_amount = tmp_path / "erp.csv"
    no_amount.write_text("单据编号,源单编号,业务日期\nAR-1,C01,2026-11-26\n", encoding="utf-8")
    broken = tmp_path / "wms.xlsx"
    broken.write_bytes(b"this is no workbook")
    old = tmp_path / "settle.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    for side, path, code in (("erp", no_amount, "missing_columns"),
                             ("wms", broken, "unreadable_file"),
                             ("storefront", old, "unreadable_file")):
        answer = api.post("/api/v1/reconciliations", data=PERIOD,
                          files={side: (path.name, path.read_bytes())})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert (error["field"], error["code"]) == (side, code)
        assert path.name in error["message"] and path.name in error["message_zh"]
    assert "价税合计" in api.post("/api/v1/reconciliations", data=PERIOD, files={
        "erp": (no_amount.name, no_amount.read_bytes())}).json()["error"]["message"]
    assert api.get("/api/v1/reconciliations").json()["items"] == []


def _item(run: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(i for i in run["items"] if i["class"] == kind)


def test_fixing_is_audited_idempotent_and_for_finance(
        api: Any, tokens: dict[str, str], hub: Hub) -> None:
    ids = build(api)
    run = api.post("/api/v1/reconciliations", json=PERIOD).json()
    missing = _item(run, "missing_in_erp")
    url = f"/api/v1/reconciliations/{run['id']}/discrepancies/{missing['n']}/fix"
    assert api.post(url, json={}).status_code == 403  # ops
    finance = as_role(api, tokens, "finance")
    first = api.post(url, json={"action": "fix"}, headers=finance)
    assert first.status_code == 200, first.text
    fixed = first.json()
    assert (fixed["status"], fixed["action"], fixed["changed_by"]) == (
        "fixed", "erp_booking_queued", "finance-token")
    again = api.post(url, json={"action": "fix"}, headers=finance).json()
    assert again == fixed
    queued = api.get("/api/v1/erp/bookings?status=queued").json()
    assert [(b["order_id"], b["bill_no"]) for b in queued["bookings"]] == [(ids["E1"], "E1")]
    events = api.get(f"/api/v1/orders/{ids['E1']}/events").json()["items"]
    audit = [e for e in events if e["type"] == "reconciliation.fixed"]
    assert len(audit) == 1
    assert audit[0]["source"] == "hub"
    assert audit[0]["payload"]["data"] == {
        "run_id": run["id"], "n": missing["n"], "class": "missing_in_erp",
        "action": "erp_booking_queued", "by": "finance-token"}
    other = _item(run, "duplicate_receivable")
    accepted = api.post(f"/api/v1/reconciliations/{run['id']}/discrepancies/{other['n']}/fix",
                        json={"action": "accept"}, headers=finance).json()
    assert (accepted["status"], accepted["action"]) == ("accepted", "accepted")
    bad = api.post(f"/api/v1/reconciliations/{run['id']}/discrepancies/{other['n']}/fix",
                   json={"action": "delete"}, headers=finance)
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "action")
    assert api.post(f"/api/v1/reconciliations/{run['id']}/discrepancies/99/fix",
                    json={}, headers=finance).status_code == 404


def test_an_admin_enables_the_automatic_fix_per_class(
        api: Any, tokens: dict[str, str]) -> None:
    ids = build(api)
    admin = as_role(api, tokens, "admin")
    assert api.put("/api/v1/reconciliations/auto-fix", json={"classes": ["missing_in_erp"]},
                   headers=as_role(api, tokens, "finance")).status_code == 403
    refused = api.put("/api/v1/reconciliations/auto-fix",
                      json={"classes": ["amount_mismatch"]}, headers=admin)
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "classes")
    assert api.put("/api/v1/reconciliations/auto-fix", json={"classes": ["missing_in_erp"]},
                   headers=admin).json() == {"classes": ["missing_in_erp"]}
    run = api.post("/api/v1/reconciliations", json=PERIOD).json()
    run = api.get(f"/api/v1/reconciliations/{run['id']}").json()
    missing = _item(run, "missing_in_erp")
    assert (missing["status"], missing["action"], missing["changed_by"]) == (
        "fixed", "erp_booking_queued", "auto:ops-token")
    assert [i["status"] for i in run["items"]].count("open") == 6
    events = api.get(f"/api/v1/orders/{ids['E1']}/events").json()["items"]
    assert [e["type"] for e in events].count("reconciliation.fixed") == 1
