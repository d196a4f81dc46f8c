"""/api/v1/decision-tables on SQLite and PostgreSQL: versions, evaluation, files, permissions."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

from openpyxl import Workbook, load_workbook

from orderpilot.bootstrap import Hub
from orderpilot.domain.decision_formats import to_jdm
from orderpilot.domain.decision_tables import example_return_centres, to_definition

URL = "/api/v1/decision-tables"


def grid(**changes: Any) -> dict[str, Any]:
    body = to_definition(example_return_centres())
    body.pop("name")
    body.update(changes)
    return body


def test_publish_read_and_evaluate(api: Any) -> None:
    put = api.put(f"{URL}/return_centres", json=grid(reason="first cut"))
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 1 and put.json()["created"] is True
    assert put.json()["published_by"] == "ops-token"

    got = api.get(f"{URL}/return_centres").json()
    assert got["rows"][0] == ["SZ01, SZ02", "RC-SZ", "深圳退货中心"]
    assert got["inputs"] == [{"field": "event.data.outlet_code",
                              "label": "承运商网点 Carrier outlet"}]

    tried = api.post(f"{URL}/return_centres/evaluate",
                     json={"event": {"data": {"outlet_code": "GZ01"}}})
    assert tried.json() == {"name": "return_centres", "version": 1, "matched": [2],
                            "output": {"centre": "RC-GZ", "centre_name": "广州退货中心"}}
    listed = api.get(URL).json()["items"]
    assert [(t["name"], t["current_version"], t["title_zh"]) for t in listed] \
        == [("return_centres", 1, "退货中心")]


def test_each_change_is_a_new_version_and_old_ones_stay(api: Any) -> None:
    api.put(f"{URL}/return_centres", json=grid())
    same = api.put(f"{URL}/return_centres", json=grid(reason="no change"))
    assert same.json()["version"] == 1 and same.json()["created"] is False

    rows = example_return_centres().rows
    changed = api.put(f"{URL}/return_centres",
                      json=grid(rows=[["GZ01", "RC-SZ", "深圳"], *rows], reason="GZ to SZ"))
    assert changed.json()["version"] == 2 and changed.json()["created"] is True

    context = {"event": {"data": {"outlet_code": "GZ01"}}}
    now = api.post(f"{URL}/return_centres/evaluate", json=context).json()
    before = api.post(f"{URL}/return_centres/evaluate?version=1", json=context).json()
    assert (now["version"], now["output"]["centre"]) == (2, "RC-SZ")
    assert (before["version"], before["output"]["centre"]) == (1, "RC-GZ")
    assert api.get(f"{URL}/return_centres?version=1").json()["rows"] == rows
    versions = api.get(f"{URL}/return_centres/versions").json()["items"]
    assert [(v["version"], v["reason"]) for v in versions] == [(2, "GZ to SZ"), (1, "")]


def test_a_bad_cell_is_a_422_naming_row_and_column(api: Any) -> None:
    bad = api.put(f"{URL}/return_centres",
                  json=grid(rows=[["SZ01", "RC-SZ", "x"], ["> 5 and", "RC", "y"]]))
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["field"] == "rows[1].event.data.outlet_code"
    assert "row 2" in error["message"] and "'> 5 and'" in error["message"]
    assert api.get(f"{URL}/return_centres").status_code == 404


def test_unknown_tables_are_404(api: Any) -> None:
    assert api.get(f"{URL}/nothing_here").json()["error"]["code"] == "decision_table_not_found"
    assert api.post(f"{URL}/nothing_here/evaluate", json={}).status_code == 404
    api.put(f"{URL}/return_centres", json=grid())
    assert api.get(f"{URL}/return_centres?version=9").status_code == 404


def test_viewers_read_but_may_not_publish(api: Any, tokens: dict[str, str]) -> None:
    api.put(f"{URL}/return_centres", json=grid())
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.get(f"{URL}/return_centres", headers=viewer).status_code == 200
    refused = api.put(f"{URL}/return_centres", json=grid(), headers=viewer)
    assert refused.status_code == 403
    upload = api.post(f"{URL}/return_centres/import", headers=viewer,
                      files={"file": ("t.json", b"{}", "application/json")})
    assert upload.status_code == 403


def test_excel_export_imports_back_as_the_same_table(api: Any) -> None:
    rows = [*example_return_centres().rows[:3], ["=startsWith($, \"NB\")", "=1 + 1", "宁波"],
            ["-", "RC-NB", "宁波保税仓退货中心"]]
    api.put(f"{URL}/return_centres", json=grid(rows=rows))
    exported = api.get(f"{URL}/return_centres/export?format=xlsx")
    assert exported.status_code == 200
    assert "return_centres-v1.xlsx" in exported.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    assert sheet["A1"].value == "承运商网点 Carrier outlet [in:event.data.outlet_code]"
    # text behind a quote (OWASP CSV injection), never an Excel formula; it imports back as is
    assert sheet["A5"].value == "'=startsWith($, \"NB\")" and sheet["A5"].data_type == "s"

    back = api.post(f"{URL}/return_centres/import",
                    files={"file": ("return_centres.xlsx", exported.content)})
    assert back.status_code == 200, back.text
    assert back.json()["created"] is False and back.json()["version"] == 1


def test_csv_from_excel_with_a_new_row_publishes_a_version(api: Any) -> None:
    api.put(f"{URL}/return_centres", json=grid())
    csv_text = api.get(f"{URL}/return_centres/export?format=csv").content.decode("utf-8-sig")
    csv_text = csv_text.replace("GZ01,", "\"GZ01, GZ02\",")
    sent = api.post(f"{URL}/return_centres/import", data={"reason": "GZ02 opened"},
                    files={"file": ("rc.csv", csv_text.encode("gb18030"))})
    assert sent.json()["version"] == 2 and sent.json()["reason"] == "GZ02 opened"
    assert sent.json()["title_zh"] == "退货中心"  # kept from the current version
    tried = api.post(f"{URL}/return_centres/evaluate",
                     json={"event": {"data": {"outlet_code": "GZ02"}}})
    assert tried.json()["output"]["centre"] == "RC-GZ"


def test_a_bad_sheet_row_is_reported_by_its_sheet_row(api: Any) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["[in:order.total]", "[out:tag]"])
    sheet.append(["> 500", "big"])
    sheet.append([None, None])  # a blank row staff left in
    sheet.append(["[1..", "broken"])
    data = io.BytesIO()
    book.save(data)
    sent = api.post(f"{URL}/order_tags/import",
                    files={"file": ("tags.xlsx", data.getvalue())})
    assert sent.status_code == 422
    assert "row 4 of the sheet" in sent.json()["error"]["message"]
    assert sent.json()["error"]["field"] == "rows[1].order.total"
    wrong = api.post(f"{URL}/order_tags/import", files={"file": ("tags.xls", b"old")})
    assert wrong.status_code == 422 and ".xlsx" in wrong.json()["error"]["message"]


def test_jdm_import_takes_a_table_and_refuses_functions(api: Any) -> None:
    document = to_jdm(example_return_centres())
    sent = api.post(f"{URL}/return_centres/import",
                    files={"file": ("rc.json", json.dumps(document).encode())})
    assert sent.status_code == 200, sent.text
    assert sent.json()["rows"][0] == ["SZ01, SZ02", "RC-SZ", "深圳退货中心"]

    document["nodes"].append({"id": "f", "type": "functionNode", "name": "calc",
                              "content": {"source": "export const handler = async () => 1"}})
    refused = api.post(f"{URL}/return_centres/import",
                       files={"file": ("rc.json", json.dumps(document).encode())})
    assert refused.status_code == 422
    assert "functionNode" in refused.json()["error"]["message"]
    garbage = api.post(f"{URL}/return_centres/import", files={"file": ("x.json", b"{nope")})
    assert garbage.status_code == 422


def test_lookup_sees_a_new_version_from_another_process_within_two_seconds(hub: Hub) -> None:
    from orderpilot.adapters.decision_tables import TableEngine, ZenExpressionChecker, reading
    from orderpilot.services.rules.decision_tables import DecisionTables

    ticks = [0.0]
    ours = DecisionTables(hub.uow, lambda: reading(hub.db), hub.clock, TableEngine(),
                          ZenExpressionChecker(), monotonic=lambda: ticks[0])
    other = hub.decision_tables  # stands for another process: its own cache
    table = example_return_centres()
    other.save(table, "ops", "")
    context = {"event": {"data": {"outlet_code": "GZ01"}}}
    assert ours.lookup("return_centres", context).output["centre"] == "RC-GZ"

    other.save(replace(table, rows=[["GZ01", "RC-SZ", "深圳"], *table.rows]), "ops", "")
    ticks[0] = 1.0
    assert ours.lookup("return_centres", context).output["centre"] == "RC-GZ"  # cached
    ticks[0] = 2.5
    refreshed = ours.lookup("return_centres", context)
    assert (refreshed.version, refreshed.output["centre"]) == (2, "RC-SZ")
    with hub.uow() as uow:  # inside a rule's transaction too
        assert ours.lookup("return_centres", context, uow=uow).version == 2
