"""The reconciliation page (/console/diagnosis/reconciliation): a run from the form, the rate
and the lists in Chinese, a fix from its button, the Excel download (formulas neutralised),
and what a viewer may not do; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from reconcile_history import DAY, build

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_user

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE = "/console/diagnosis/reconciliation"
PASSWORD = "a-long-enough-password-1"


@pytest.fixture
def console(hub: Hub) -> Iterator[TestClient]:
    with hub.db.write() as conn:
        for login, role in (("caiwu", "finance"), ("kan", "viewer"), ("guan", "admin")):
            create_user(AccountRepository(conn), login, PASSWORD, role, hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, login: str) -> str:
    found = CSRF.search(client.get("/console/login").text)
    assert found
    answer = client.post("/console/login", data={"username": login, "password": PASSWORD,
                                                  "csrf_token": found.group(1)})
    assert answer.status_code == 303, answer.text
    again = CSRF.search(client.get("/console").text)
    assert again
    return again.group(1)


def test_run_read_fix_and_download_in_the_console(api: Any, console: TestClient) -> None:
    ids = build(api)
    csrf = sign_in(console, "caiwu")
    assert "还没有进行过对账" in console.get(PAGE).text
    wms = "outbound_no,order_no,SKU,quantity,shipped_at\nOB-1,=HYPERLINK(\"x\"),A,1,2026-11-26\n"
    ran = console.post(f"{PAGE}/runs", data={"since": DAY, "until": DAY},
                       headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert ran.status_code == 204, ran.text
    page = console.get(ran.headers["HX-Redirect"]).text
    assert "三方对账" in page and "350.000‰" in page and 'data-chart="reconciliation-rate"' in page
    for name in ("ERP 缺单", "金额不一致", "重复应收", "已退货应收未核销", "重新推送到 ERP"):
        assert name in page
    run_id = ran.headers["HX-Redirect"].split("run=")[1]
    n = int(re.search(r'id="item-(\d+)"', page.split('data-testid="class-missing_in_erp"')[1]
                      ).group(1))  # type: ignore[union-attr]
    fixed = console.post(f"{PAGE}/resolve", data={"run": run_id, "n": n, "action": "fix",
                                                  "csrf_token": csrf})
    assert fixed.status_code == 303, fixed.text
    page = console.get(f"{PAGE}?run={run_id}").text
    assert "已重新排队推送 ERP" in page
    events = api.get(f"/api/v1/orders/{ids['E1']}/events").json()["items"]
    assert [e["type"] for e in events].count("reconciliation.fixed") == 1

    with_file = console.post(f"{PAGE}/runs", data={"since": DAY, "until": DAY},
                             files={"wms": ("出库.csv", wms.encode())},
                             headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert with_file.status_code == 204, with_file.text
    second = with_file.headers["HX-Redirect"].split("run=")[1]
    download = console.get(f"{PAGE}/export.xlsx?run={second}")
    assert download.status_code == 200
    sheet = load_workbook(BytesIO(download.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "序号 / No."
    unknown = [r for r in rows[1:] if r[2] == "unknown_to_hub"]
    assert [r[3] for r in unknown] == ["'=HYPERLINK(\"x\")"]
    assert len(rows) - 1 == len(api.get(f"/api/v1/reconciliations/{second}").json()["items"])
    english = console.post("/console/locale", data={"locale": "en", "csrf_token": csrf})
    assert english.status_code in (303, 204, 200)
    page = console.get(f"{PAGE}?run={run_id}").text
    assert "Missing in ERP" in page and "ERP booking queued" in page


def test_a_viewer_reads_but_does_not_run_or_fix(api: Any, console: TestClient) -> None:
    build(api)
    run = api.post("/api/v1/reconciliations", json={"since": DAY, "until": DAY}).json()
    csrf = sign_in(console, "kan")
    page = console.get(f"{PAGE}?run={run['id']}").text
    assert "350.000‰" in page
    assert 'data-testid="reconciliation-form"' not in page and 'data-testid="fix-' not in page
    assert 'data-testid="auto-fix-form"' not in page
    refused = console.post(f"{PAGE}/runs", data={"since": DAY, "until": DAY},
                           headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    assert console.post(f"{PAGE}/resolve", data={"run": run["id"], "n": 1, "action": "fix",
                                                 "csrf_token": csrf}).status_code == 403
    assert len(api.get("/api/v1/reconciliations").json()["items"]) == 1


def test_a_bad_period_in_the_form_is_said_in_chinese(api: Any, console: TestClient) -> None:
    csrf = sign_in(console, "caiwu")
    answer = console.post(f"{PAGE}/runs", data={"since": "2026-11-27", "until": DAY},
                          headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert answer.status_code == 422
    assert "until 不能早于 since" in answer.text


def test_an_admin_ticks_the_automatic_fix(api: Any, console: TestClient) -> None:
    ids = build(api)
    csrf = sign_in(console, "guan")
    assert 'data-testid="auto-fix-form"' in console.get(PAGE).text
    saved = console.post(f"{PAGE}/auto-fix", data={"classes": "missing_in_erp",
                                                   "csrf_token": csrf})
    assert saved.status_code == 303, saved.text
    assert api.get("/api/v1/reconciliations/auto-fix").json() == {"classes": ["missing_in_erp"]}
    assert 'value="missing_in_erp" checked' in console.get(PAGE).text
    run = api.post("/api/v1/reconciliations", json={"since": DAY, "until": DAY}).json()
    page = console.get(f"{PAGE}?run={run['id']}").text
    assert "自动修复，对账发起人 ops-token" in page
    events = api.get(f"/api/v1/orders/{ids['E1']}/events").json()["items"]
    assert [e["type"] for e in events].count("reconciliation.fixed") == 1
    refused = console.post(f"{PAGE}/auto-fix", data={"classes": "amount_mismatch",
                                                     "csrf_token": csrf})
    assert refused.status_code == 422
    assert api.get("/api/v1/reconciliations/auto-fix").json() == {"classes": ["missing_in_erp"]}
