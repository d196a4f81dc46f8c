"""Named HTTP connectors: a name configured in ORDERPILOT_HTTP_CONNECTORS (the README's
``{"erp": "https://erp.example.com"}``) may be used by an http.call step, is checked when the
rule is saved, is called when the rule runs, and is offered by the console's rule builder. An
unknown name is refused, naming the configured ones. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import FakeClock
from integration.loopback import Listener
from integration.rules_support import place, publish, settle
from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token, create_user

PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def erp() -> Iterator[Listener]:
    with Listener() as server:
        yield server


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock,
        erp: Listener) -> Iterator[Hub]:
    made = bootstrap(Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", database_url=database_url, _env_file=None,
        http_connectors={"erp": f"http://127.0.0.1:{erp.port}/erp"}), clock=clock)
    migrations.upgrade(made.db)
    yield made
    made.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "ops", "ops", hub.clock)[1]
    with TestClient(create_app(hub, with_console=False), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def calling(connector: str) -> dict[str, Any]:
    return {"name": "push to the erp", "trigger": {"kind": "event", "event": "order.placed"},
            "actions": [{"id": "push", "type": "http.call",
                         "params": {"connector": connector, "path": "/orders",
                                    "body": {"order": "{{ order.external_id }}"}},
                         "on_error": {"retries": 0, "then": "fail"}}]}


def test_a_configured_http_connector_is_accepted_and_called(
        hub: Hub, client: TestClient, erp: Listener) -> None:
    checked = client.post("/api/v1/rules/validate", json=calling("erp"))
    assert checked.status_code == 200, checked.text
    publish(hub, calling("erp"), "erp-push")
    place(client, "ERP-1")
    settle(hub)
    [run] = client.get("/api/v1/rule-runs", params={"rule": "erp-push"}).json()["items"]
    assert run["status"] == "succeeded", run
    assert erp.connections == 1


def test_an_unknown_connector_is_refused_naming_the_configured_ones(
        client: TestClient) -> None:
    checked = client.post("/api/v1/rules/validate", json=calling("wms"))
    assert checked.status_code == 422, checked.text
    error = checked.json()["error"]
    assert error["field"] == "actions[0].params.connector"
    assert "wms" in error["message"]
    for name in ("crm", "customs", "erp", "helpdesk"):
        assert name in error["message"]


def test_the_builder_offers_the_configured_connectors(hub: Hub) -> None:
    with hub.db.write() as conn:
        create_user(AccountRepository(conn), "ops", PASSWORD, "ops", hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as console:
        token = CSRF.search(console.get("/console/login").text)
        assert token
        console.post("/console/login", data={"username": "ops", "password": PASSWORD,
                                             "csrf_token": token.group(1)})
        found = CSRF.search(console.get("/console").text)
        assert found
        page = console.post("/console/rules/form", data={
            "do": "add-action", "new_action_type": "http.call", "name": "r",
            "csrf_token": found.group(1)}).text
    offered = re.search(r'<select name="a0-p-connector">(.*?)</select>', page, re.S)
    assert offered, page
    assert re.findall(r'<option value="([a-z]+)"', offered.group(1)) == [
        "crm", "customs", "erp", "helpdesk"]
