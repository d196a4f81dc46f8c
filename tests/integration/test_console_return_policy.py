"""The return-centre and return-policy pages: ops add a centre and save the policy table (a
wrong row shown on its row, nothing saved); viewers read both and may change neither."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_console_automation import make_hub, sign_in

from conftest import FakeClock
from orderpilot.adapters.views import return_policy as views
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app

CENTRE = {"code": "YIWU", "name_zh": "义乌退货中心", "name_en": "Yiwu return centre",
          "country": "CN", "province": "浙江省", "city": "金华市", "district": "义乌市",
          "line1": "稠江街道退货路88号", "postal_code": "322000", "phone": "057985550000"}


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    made = make_hub(database_url, tmp_path / "data", clock)
    yield made
    made.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as c:
        yield c


def policy(hub: Hub) -> dict[str, object]:
    with hub.db.read() as conn:
        return views.policy(conn)


def test_ops_add_a_centre_and_save_the_policy_table(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    missing = client.post("/console/returns/centres",
                          data={**CENTRE, "city": "", "csrf_token": csrf})
    assert missing.status_code == 422 and "address.city" in missing.text
    saved = client.post("/console/returns/centres", data={**CENTRE, "csrf_token": csrf})
    assert saved.status_code == 303
    page = client.get("/console/returns/centres").text
    assert "义乌退货中心" in page and "稠江街道退货路88号" in page

    twice = client.post("/console/returns/policy", data={
        "csrf_token": csrf, "outlet_code": ["SF-0278", "SF-0278", ""],
        "return_centre": ["YIWU", "YIWU", ""]})
    assert twice.status_code == 422
    assert twice.text.count('data-testid="row-problem"') == 1 and "SF-0278" in twice.text
    assert policy(hub)["versions"] == []

    done = client.post("/console/returns/policy", data={
        "csrf_token": csrf, "outlet_code": ["SF-0278", "SF-0100", "SF-0001"],
        "return_centre": ["YIWU", "YIWU", "YIWU"], "remove": ["2"]})
    assert done.status_code == 303
    now = policy(hub)
    assert now["version"] == 1
    assert now["rows"] == [{"outlet_code": "SF-0100", "return_centre": "YIWU"},
                           {"outlet_code": "SF-0278", "return_centre": "YIWU"}]


def test_viewers_read_but_do_not_change(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "viewer")
    assert client.get("/console/returns/policy").status_code == 200
    assert client.get("/console/returns/centres").status_code == 200
    assert 'data-testid="policy-form"' not in client.get("/console/returns/policy").text
    refused = client.post("/console/returns/centres", data={**CENTRE, "csrf_token": csrf})
    assert refused.status_code == 403
    refused = client.post("/console/returns/policy", data={
        "csrf_token": csrf, "outlet_code": ["SF-1"], "return_centre": ["YIWU"]})
    assert refused.status_code == 403
    assert policy(hub)["versions"] == []
