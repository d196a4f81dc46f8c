"""The returns metrics page without a browser: the seeded month's numbers on the page, in
Chinese and English, the Excel download (formula-safe), a bad day, and the route order
(/console/returns/metrics is not taken for a return id)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from returns.metrics_seed import seed as seed_metrics

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, make_hub, seed  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NOVEMBER = "?since=2026-11-01&until=2026-11-30"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    hub = make_hub(tmp_path_factory.mktemp("return-metrics"))
    seed(hub)
    seed_metrics(hub)
    yield hub
    hub.close()


def signed_in(hub: Hub, login: str) -> TestClient:
    client = TestClient(create_app(hub), follow_redirects=False)
    found = CSRF.search(client.get("/console/login").text)
    assert found
    client.post("/console/login", data={"username": login, "password": PASSWORD,
                                        "csrf_token": found.group(1)})
    return client


def _testid(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert found, testid
    return found.group(1).strip()


def test_the_month_on_the_page_in_both_languages(hub: Hub) -> None:
    client = signed_in(hub, "viewer")
    page = client.get("/console/returns/metrics" + NOVEMBER)
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert _testid(html, "metric-returns") == "8"
    assert _testid(html, "metric-accuracy") == "75.0%"
    assert _testid(html, "metric-typed") == "33.3%"
    assert _testid(html, "metric-decisions") == "2"
    assert "质量问题" in html and "无网点" in html and "A + B" in html
    for chart in ("accuracy", "processing", "reasons", "skus"):
        assert f'id="chart-{chart}"' in html
    assert 'data-testid="returns-tabs"' in html
    csrf = CSRF.search(html)
    assert csrf
    client.post("/console/locale", data={"locale": "en", "csrf_token": csrf.group(1),
                                         "next": "/console/returns/metrics"})
    english = client.get("/console/returns/metrics" + NOVEMBER).text
    assert "Returns metrics" in english and "Quality issue" in english
    assert "No outlet" in english and "质量问题" not in english
    client.close()


def test_the_board_links_to_the_metrics(hub: Hub) -> None:
    client = signed_in(hub, "viewer")
    board = client.get("/console/returns").text
    assert 'href="/console/returns/metrics"' in board
    client.close()


def test_the_excel_download_matches_the_page(hub: Hub) -> None:
    client = signed_in(hub, "viewer")
    r = client.get("/console/returns/metrics.xlsx" + NOVEMBER)
    assert r.status_code == 200
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    sheet = load_workbook(BytesIO(r.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "指标 / Metric"
    assert ["地址准确率 / Address accuracy", "按当时政策路由 / Routed as the policy said",
            3, 4, 0.75, None, None] in rows
    assert ["同单退货组合 / Co-returned pair", "A + B", 2, None, None, None, None] in rows
    steps = {row[1]: (row[2], row[5], row[6]) for row in rows
             if row[0] == "处理时长 / Processing time"}
    assert steps["申请→退货入库 / Request → received"] == (3, 10, 30)
    client.close()


def test_a_bad_day_is_said_and_the_default_period_shown(hub: Hub) -> None:
    client = signed_in(hub, "viewer")
    page = client.get("/console/returns/metrics?since=2026-13-01")
    assert page.status_code == 422
    assert 'role="alert"' in page.text and "since" in page.text
    assert client.get("/console/returns/metrics.xlsx?until=nope").status_code == 422
    client.close()


def test_anonymous_is_sent_to_sign_in(hub: Hub) -> None:
    client = TestClient(create_app(hub), follow_redirects=False)
    r = client.get("/console/returns/metrics")
    assert r.status_code in (302, 303, 307) and "/console/login" in r.headers["location"]
    assert client.get("/console/returns/metrics.xlsx").status_code in (302, 303, 307, 401)
    client.close()
