"""Return centres and the return policy through the API: versions, validation that names the
rows and changes nothing, the Excel import by row and column, and who may change them."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from returns.routing_support import NINGBO, YIWU


def centres(api: Any) -> None:
    for code, body in (("YIWU", YIWU), ("NINGBO", NINGBO)):
        assert api.put(f"/api/v1/return-centres/{code}", json=body).status_code == 200


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_policy_versions_replace_the_table_and_keep_history(api: Any) -> None:
    centres(api)
    first = api.put("/api/v1/return-policy", json={"rows": [
        {"outlet_code": "SF-0278", "return_centre": "YIWU"},
        {"outlet_code": "SF-0100", "return_centre": "NINGBO"}]})
    assert first.status_code == 200, first.text
    second = api.put("/api/v1/return-policy", json={"rows": [
        {"outlet_code": "SF-0278", "return_centre": "NINGBO"}]})
    assert second.json()["version"] == 2
    now = api.get("/api/v1/return-policy").json()
    assert now["current_version"] == 2
    assert now["rows"] == [{"outlet_code": "SF-0278", "return_centre": "NINGBO"}]
    assert [(v["version"], v["rows"]) for v in now["versions"]] == [(2, 1), (1, 2)]
    listed = api.get("/api/v1/return-centres").json()["items"]
    assert [(c["code"], c["name_zh"]) for c in listed] == [("NINGBO", "宁波退货中心"),
                                                           ("YIWU", "义乌退货中心")]
    changed = api.put("/api/v1/return-centres/YIWU", json={**YIWU, "phone": "057900000001"})
    assert changed.json()["created"] is False and changed.json()["phone"] == "057900000001"


def test_an_outlet_mapped_twice_or_to_an_unknown_centre_names_the_rows_and_writes_nothing(
        api: Any) -> None:
    centres(api)
    r = api.put("/api/v1/return-policy", json={"rows": [
        {"outlet_code": "SF-0278", "return_centre": "YIWU"},
        {"outlet_code": "SF-0100", "return_centre": "HANGZHOU"},
        {"outlet_code": "SF-0278", "return_centre": "NINGBO"}]})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "return_policy_invalid"
    assert {d["field"] for d in error["details"]} == {"rows[1].return_centre",
                                                      "rows[2].outlet_code"}
    assert "rows[0]" in next(d["message"] for d in error["details"]
                             if d["field"] == "rows[2].outlet_code")
    assert error["message_zh"].startswith("退货政策")
    assert api.get("/api/v1/return-policy").json() == {
        "version": None, "current_version": None, "rows": [], "versions": []}


def test_a_centre_without_its_address_is_refused_in_both_languages(api: Any) -> None:
    r = api.put("/api/v1/return-centres/YIWU", json={**YIWU, "address": {"country": "CN"}})
    assert r.status_code == 422
    body = r.json()["error"]
    assert "address" in body["field"] and body["message_zh"]
    assert api.get("/api/v1/return-centres").json()["items"] == []


def test_the_policy_sheet_is_imported_or_refused_by_row_and_column(api: Any) -> None:
    centres(api)
    bad = xlsx([["网点代码", "退货中心"], ["SF-0278", "YIWU"], ["SF-0100", "NOWHERE"],
                ["SF-0278", "NINGBO"]])
    r = api.post("/api/v1/return-policy/sheet", files={"file": ("policy.xlsx", bad)})
    assert r.status_code == 422, r.text
    assert {d["field"] for d in r.json()["error"]["details"]} == {
        "policy.xlsx row 3 return_centre", "policy.xlsx row 4 outlet_code"}
    assert api.get("/api/v1/return-policy").json()["versions"] == []

    good = xlsx([["outlet_code", "return_centre"], ["SF-0278", "YIWU"], ["SF-0100", "NINGBO"]])
    r = api.post("/api/v1/return-policy/sheet", files={"file": ("policy.xlsx", good)})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and len(r.json()["rows"]) == 2

    no_column = xlsx([["outlet_code", "centre"], ["SF-0278", "YIWU"]])
    r = api.post("/api/v1/return-policy/sheet", files={"file": ("p.xlsx", no_column)})
    assert r.status_code == 422 and "return_centre" in r.json()["error"]["message"]


def test_viewers_read_the_policy_but_only_ops_and_admins_change_it(
        api: Any, tokens: dict[str, str]) -> None:
    centres(api)
    for role, status in (("viewer", 403), ("finance", 403), ("warehouse", 403),
                         ("admin", 200)):
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        r = api.put("/api/v1/return-policy", headers=headers,
                    json={"rows": [{"outlet_code": "SF-1", "return_centre": "YIWU"}]})
        assert r.status_code == status, role
        assert api.put("/api/v1/return-centres/X", headers=headers,
                       json=YIWU).status_code == status, role
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.get("/api/v1/return-policy", headers=viewer).status_code == 200
    assert api.get("/api/v1/return-centres", headers=viewer).status_code == 200
