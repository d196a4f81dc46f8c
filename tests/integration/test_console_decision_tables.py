"""The decision table grid editor in the console (issue 3), on both databases: create a table,
edit its grid row by row, save versions, see errors on the cell at fault, try it, and move it
through Excel/CSV."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from test_console_automation import HTMX, make_hub, sign_in

from conftest import FakeClock
from orderpilot.bootstrap import Hub
from orderpilot.domain.decision_tables import example_return_centres
from orderpilot.entrypoints.api.app import create_app

URL = "/console/decision-tables"
CELL = re.compile(r'name="cell" id="c-(\d+)-(\d+)" value="([^"]*)"')
OUTLET = "event.data.outlet_code"


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    made = make_hub(database_url, tmp_path / "data", clock)
    yield made
    made.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as c:
        yield c


def cells(page: str) -> list[list[str]]:
    """The grid's cell inputs as rows, in the order the page shows them."""
    rows: dict[int, list[str]] = {}
    for row, _, value in CELL.findall(page):
        rows.setdefault(int(row), []).append(html.unescape(value))
    return [rows[i] for i in sorted(rows)]


def grid_form(csrf: str, rows: list[list[str]], op: str = "", **extra: Any) -> dict[str, Any]:
    """What the editor posts for a return-centre grid with these rows."""
    return {"csrf_token": csrf, "op": op, "hit_policy": "first", "title_zh": "退货中心",
            "title_en": "Return centres", "in_field": [OUTLET], "in_label": ["承运商网点"],
            "out_field": ["centre", "centre_name"], "out_label": ["退货中心", "中心名称"],
            "cell": [c for row in rows for c in row], **extra}


ROWS = [["SZ01", "RC-SZ", "深圳退货中心"], ["HZ02", "RC-HZ", "杭州退货中心"]]


def test_ops_create_a_table_from_the_list_and_fill_its_grid(client: TestClient,
                                                             hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    listing = client.get(URL).text
    assert "决策表" in listing and 'data-testid="new-table-submit"' in listing
    opened = client.post(URL, data={
        "csrf_token": csrf, "name": "return_centres", "title_zh": "退货中心",
        "hit_policy": "first", "in_field": [OUTLET, ""], "in_label": ["承运商网点", ""],
        "out_field": ["centre", "centre_name", ""], "out_label": ["退货中心", "中心名称", ""]})
    assert opened.status_code == 200
    assert cells(opened.text) == [["", "", ""]]  # one blank row, nothing stored yet
    assert "return_centres" not in hub.decision_tables.names()

    added = client.post(f"{URL}/return_centres", headers=HTMX,
                        data=grid_form(csrf, [ROWS[0]], op="row.add"))
    assert "<html" not in added.text and 'id="editor"' in added.text
    assert cells(added.text) == [ROWS[0], ["", "", ""]]

    saved = client.post(f"{URL}/return_centres", headers=HTMX,
                        data=grid_form(csrf, ROWS, op="save", reason="两个网点"))
    assert saved.status_code == 204
    assert saved.headers["HX-Redirect"] == f"{URL}/return_centres?saved=1"
    page = client.get(saved.headers["HX-Redirect"]).text
    assert "已保存为版本 1" in page and "两个网点" in page
    assert cells(page) == ROWS
    assert hub.decision_tables.get("return_centres").table.rows == ROWS
    assert "return_centres" in client.get(URL).text


def test_rows_move_and_columns_come_and_go_without_saving(client: TestClient,
                                                          hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    three = [*ROWS, ["-", "RC-NB", "宁波"]]

    def op(name: str, rows: list[list[str]] = three) -> str:
        return str(client.post(f"{URL}/new_table", headers=HTMX,
                               data=grid_form(csrf, rows, op=name)).text)

    assert cells(op("row.down:0")) == [ROWS[1], ROWS[0], three[2]]
    assert cells(op("row.up:2")) == [ROWS[0], three[2], ROWS[1]]
    assert cells(op("row.delete:1")) == [ROWS[0], three[2]]
    assert cells(op("row.add:0"))[1] == ["", "", ""]
    assert cells(op("in.add")) == [[r[0], "", r[1], r[2]] for r in three]
    assert cells(op("out.delete:0")) == [[r[0], r[2]] for r in three]
    assert cells(op("row.up:0")) == three  # nothing above the first row
    assert "new_table" not in hub.decision_tables.names()


def test_a_bad_cell_is_shown_on_the_cell_and_in_the_summary(client: TestClient,
                                                            hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    rows = [ROWS[0], ["> 5 and", "RC-X", "x"], ["[1..", "RC-Y", "y"]]
    refused = client.post(f"{URL}/return_centres", headers=HTMX,
                          data=grid_form(csrf, rows, op="save"))
    assert refused.status_code == 422
    page = refused.text
    assert 'data-testid="problems"' in page and "未保存:2 个问题" in page.replace("：", ":")
    assert "第 2 行，承运商网点" in page and "第 3 行，承运商网点" in page
    assert re.search(r'id="c-1-0" value="&gt; 5 and"[^>]*aria-invalid="true"', page)
    assert not re.search(r'id="c-0-0" [^>]*aria-invalid', page)
    assert cells(page) == rows  # what was typed stays
    assert "return_centres" not in hub.decision_tables.names()

    bad_column = client.post(f"{URL}/return_centres", headers=HTMX, data={
        **grid_form(csrf, ROWS, op="save"), "out_field": ["centre", "centre"]})
    assert bad_column.status_code == 422 and "appears twice" in bad_column.text


def test_saving_the_same_grid_makes_no_new_version(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    client.post(f"{URL}/return_centres", headers=HTMX, data=grid_form(csrf, ROWS, op="save"))
    again = client.post(f"{URL}/return_centres", headers=HTMX,
                        data=grid_form(csrf, ROWS, op="save", reason="again"))
    assert again.status_code == 200 and "未生成新版本" in again.text
    assert [v["version"] for v in hub.decision_tables.versions("return_centres")] == [1]


def test_the_example_history_and_an_old_version(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    assert 'data-testid="create-example"' in client.get(URL).text
    made = client.post(f"{URL}/example", data={"csrf_token": csrf})
    assert made.headers["location"] == f"{URL}/return_centres"
    assert 'data-testid="create-example"' not in client.get(URL).text
    client.post(f"{URL}/return_centres", headers=HTMX,
                data=grid_form(csrf, ROWS, op="save", reason="只留两个"))
    page = client.get(f"{URL}/return_centres").text
    assert page.count('data-testid="version"') == 2 and "只留两个" in page
    old = client.get(f"{URL}/return_centres", params={"version": 1}).text
    assert 'data-testid="old-version"' in old and 'name="cell"' not in old
    assert "宁波保税仓退货中心" in old
    restart = client.get(f"{URL}/return_centres", params={"start_from": 1}).text
    assert cells(restart) == example_return_centres().rows
    assert client.get(f"{URL}/nothing_here").status_code == 404


def test_try_shows_the_output_and_lights_up_the_matched_row(client: TestClient,
                                                            hub: Hub) -> None:
    hub.decision_tables.save(example_return_centres(), "ops", "")
    csrf = sign_in(client, "viewer")  # readers may try
    tried = client.post(f"{URL}/return_centres/try", headers=HTMX, data={
        "csrf_token": csrf, "version": "1", "path": [OUTLET], "value": ["SH02"]})
    assert tried.status_code == 200
    assert "RC-SH" in tried.text and "上海退货中心" in tried.text
    assert 'tr[data-row="3"]' in tried.text and "命中第 3 行" in tried.text
    fallback = client.post(f"{URL}/return_centres/try", headers=HTMX, data={
        "csrf_token": csrf, "path": [OUTLET], "value": ["XX99"]})
    assert "RC-NB" in fallback.text and 'tr[data-row="4"]' in fallback.text


def test_readers_see_the_grid_read_only_and_may_not_change_it(client: TestClient,
                                                              hub: Hub) -> None:
    hub.decision_tables.save(example_return_centres(), "ops", "")
    csrf = sign_in(client, "viewer")
    assert 'data-testid="new-table-submit"' not in client.get(URL).text
    page = client.get(f"{URL}/return_centres").text
    assert 'name="cell"' not in page and "SH01, SH02, SH03" in page and "只读" in page
    assert 'data-testid="upload"' not in page
    refused = client.post(f"{URL}/return_centres", headers=HTMX,
                          data=grid_form(csrf, ROWS, op="save"))
    assert refused.status_code == 403
    upload = client.post(f"{URL}/return_centres/upload", headers={**HTMX, "X-CSRF-Token": csrf},
                         files={"file": ("t.csv", b"[in:a],[out:b]\nx,y\n")})
    assert upload.status_code == 403
    assert hub.decision_tables.get("return_centres").version == 1


def test_download_then_upload_a_changed_sheet(client: TestClient, hub: Hub) -> None:
    hub.decision_tables.save(example_return_centres(), "ops", "")
    csrf = sign_in(client, "ops")
    xlsx = client.get(f"{URL}/return_centres/download.xlsx")
    assert xlsx.status_code == 200 and "return_centres-v1.xlsx" in \
        xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet["B2"].value == "RC-SZ"
    text = client.get(f"{URL}/return_centres/download.csv").content.decode("utf-8-sig")
    headers = {**HTMX, "X-CSRF-Token": csrf}

    bad = text.replace("GZ01,", '"> 5 and",')
    refused = client.post(f"{URL}/return_centres/upload", headers=headers,
                          files={"file": ("rc.csv", bad.encode())})
    assert refused.status_code == 422
    assert 'data-testid="upload-error"' in refused.text and "row 3 of the sheet" in refused.text

    good = text.replace("GZ01,", '"GZ01, GZ02",')
    sent = client.post(f"{URL}/return_centres/upload", headers=headers,
                       data={"reason": "GZ02 开业"}, files={"file": ("rc.csv", good.encode())})
    assert sent.status_code == 204 and sent.headers["HX-Redirect"].endswith("?saved=2")
    assert hub.decision_tables.get("return_centres").table.rows[1][0] == "GZ01, GZ02"
    same = client.post(f"{URL}/return_centres/upload", headers=headers,
                       files={"file": ("rc.csv", good.encode())})
    assert same.status_code == 200 and "文件内容与版本 2 相同" in same.text
    wrong = client.post(f"{URL}/return_centres/upload", headers=headers,
                        files={"file": ("rc.txt", b"hello")})
    assert wrong.status_code == 422 and ".xlsx" in wrong.text


def test_new_table_names_are_checked(client: TestClient, hub: Hub) -> None:
    hub.decision_tables.save(example_return_centres(), "ops", "")
    csrf = sign_in(client, "ops")
    form = {"csrf_token": csrf, "in_field": [OUTLET], "out_field": ["centre"]}
    bad = client.post(URL, data={**form, "name": "Return Centres"})
    assert bad.status_code == 422 and 'data-testid="new-table-error"' in bad.text
    assert 'value="Return Centres"' in bad.text
    taken = client.post(URL, data={**form, "name": "return_centres"})
    assert taken.status_code == 409 and "已有同名决策表" in taken.text
