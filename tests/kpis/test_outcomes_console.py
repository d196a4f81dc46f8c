"""The 成效 (Outcomes) page without a browser: the hand-made history's figures on the cards,
the orders behind a figure, the per-channel table, the manual interventions by reason, the
Excel download (formula-safe), zh and en, a bad day, and every role reading it."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from kpis import kpi_seed as s
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, make_hub  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PERIOD = "since=2026-11-01&until=2026-11-07"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    hub = make_hub(tmp_path_factory.mktemp("outcomes"))
    s.seed(hub)
    hub.clock.at = s.EARLY_NOW  # type: ignore[attr-defined]
    yield hub
    hub.close()


def signed_in(hub: Hub, login: str) -> TestClient:
    client = TestClient(create_app(hub), follow_redirects=False)
    found = CSRF.search(client.get("/console/login").text)
    assert found
    client.post("/console/login", data={"username": login, "password": PASSWORD,
                                        "csrf_token": found.group(1)})
    return client


def shown(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    assert found, name
    return found.group(1).strip()


def test_the_cards_show_the_period_figures(hub: Hub) -> None:
    page = signed_in(hub, "ops").get(f"/console/outcomes?{PERIOD}")
    assert page.status_code == 200, page.text
    html = page.text
    assert shown(html, "kpi-orders") == "8"
    assert shown(html, "kpi-fulfilment") == "1.5 天"  # P50 36 h
    assert shown(html, "kpi-on-time") == "50.0%"
    assert shown(html, "kpi-manual") == "25.0%"
    assert shown(html, "kpi-cancelled") == "25.0%"
    assert shown(html, "kpi-discrepancy") == "125.00‰"
    assert shown(html, "kpi-returns") == "12.0 h"
    assert "上线前 34% → 上线后 ≤ 5%" in html and "目标 ≤ 5.0%" in html
    assert "/console/returns/metrics" in html
    assert "超时未支付" in html and "挂起订单" in html
    assert 'data-chart="chart-trend"' in html
    lazada = signed_in(hub, "ops").get(f"/console/outcomes?{PERIOD}&channel=lazada").text
    assert shown(lazada, "kpi-orders") == "2"
    assert shown(lazada, "kpi-manual") == "50.0%"


def test_each_figure_lists_the_orders_behind_it(hub: Hub) -> None:
    client = signed_in(hub, "viewer")
    late = client.get(f"/console/outcomes/orders?{PERIOD}&figure=late").text
    assert re.findall(r'class="mono strong"[^>]*>(A\d+)<', late) == ["A4", "A2"]
    manual = client.get(f"/console/outcomes/orders?{PERIOD}&figure=manual"
                        "&reason=hold.place:address_incomplete").text
    assert re.findall(r'class="mono strong"[^>]*>(A\d+)<', manual) == ["A5"]
    cancelled = client.get(f"/console/outcomes/orders?{PERIOD}&figure=cancelled").text
    assert re.findall(r'class="mono strong"[^>]*>(A\d+)<', cancelled) == ["A6", "A5"]
    unknown = client.get(f"/console/outcomes/orders?{PERIOD}&figure=<script>")
    assert unknown.status_code == 200 and "<script>" not in unknown.text


def test_in_english_and_a_bad_day(hub: Hub) -> None:
    client = signed_in(hub, "finance")
    csrf = CSRF.search(client.get(f"/console/outcomes?{PERIOD}").text)
    assert csrf
    client.post("/console/locale", data={"locale": "en", "csrf_token": csrf.group(1),
                                         "next": "/console/outcomes"})
    english = client.get(f"/console/outcomes?{PERIOD}").text
    assert "Manual-intervention rate" in english and "Hold placed" in english
    assert shown(english, "kpi-fulfilment") == "1.5 days"
    assert "人工干预率" not in english
    bad = client.get("/console/outcomes?since=yesterday")
    assert bad.status_code == 422
    assert "since" in bad.text


def test_the_excel_download_holds_the_figures_per_channel_and_day(hub: Hub) -> None:
    r = signed_in(hub, "viewer").get(f"/console/outcomes.xlsx?{PERIOD}")
    assert r.status_code == 200, r.text
    assert "outcomes-2026-11-07.xlsx" in r.headers["content-disposition"]
    sheet = load_workbook(BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == ("期间 / Period", 8)
    assert rows[1][10] == 0.25
    assert [r[0] for r in rows[2:4]] == ["渠道 / Channel lazada", "渠道 / Channel shopee"]
    assert [r[0] for r in rows[4:]] == [f"2026-11-0{d}" for d in range(1, 8)]
