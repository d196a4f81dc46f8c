"""Outbound calls from rules: URLs off the allow-list are a 4xx naming the field when a rule is
checked or published; a redirect fails the step naming its Location; answers are stored cut
and masked. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
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
from orderpilot.adapters.views.rules import run_detail
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token

BAD_URLS = ["file:///etc/passwd", "gopher://127.0.0.1:{port}/_SET", "ftp://127.0.0.1/x",
            "http://user:pass@127.0.0.1:{port}/hook", "http://[::1]:5432/", "http://[::1",
            "http://127.0.0.1:5432/", "https://127.0.0.1:{port}/hook",
            "http://127.0.0.1:{port}\\@evil.example.net/", "//evil.example.net/x",
            "http://0x7f.1:{port}/", "http://[::ffff:127.0.0.1]:{port}/hook"]


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    with Listener() as server:
        yield server


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock,
        listener: Listener) -> Iterator[Hub]:
    made = bootstrap(Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", database_url=database_url, _env_file=None,
        # "127.0.0.1" alone is https on 443; before entries had ports it allowed every port.
        outbound_allowlist=f"http://127.0.0.1:{listener.port}/hooks/, 127.0.0.1"), clock=clock)
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


def calling(url: str, retries: int = 0) -> dict[str, Any]:
    return {"name": "call erp", "trigger": {"kind": "event", "event": "order.placed"},
            "actions": [{"id": "erp", "type": "http.call",
                         "params": {"url": url, "body": {"phone": "{{ order.customer.phone }}",
                                                         "order": "{{ order.external_id }}"}},
                         "on_error": {"retries": retries, "then": "fail"}}]}


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_url_off_the_allow_list_is_a_4xx_naming_the_field(
        client: TestClient, listener: Listener, url: str) -> None:
    definition = calling(url.format(port=listener.port))
    checked = client.post("/api/v1/rules/validate", json=definition)
    assert checked.status_code == 422, checked.text
    assert checked.json()["error"]["field"] == "actions[0].params.url"
    published = client.post("/api/v1/rules", json={"definition": definition, "publish": True})
    assert published.status_code == 422, published.text
    assert published.json()["error"]["field"] == "actions[0].params.url"
    assert client.get("/api/v1/rules").json()["items"] == []


def test_a_url_under_the_allowed_prefix_passes(client: TestClient, listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/hooks/{{{{ order.external_id }}}}"
    checked = client.post("/api/v1/rules/validate", json=calling(url))
    assert checked.status_code == 200, checked.text


def redirecting_listener() -> Listener:
    return Listener(302, b"", {"Location": "http://127.0.0.1:1/x?phone=13812345678"})


def test_a_redirect_fails_the_step_naming_the_location(
        database_url: str | None, tmp_path: Path, clock: FakeClock) -> None:
    with redirecting_listener() as moved:
        hub = bootstrap(Settings(  # type: ignore[call-arg]
            data_dir=tmp_path / "data", database_url=database_url, _env_file=None,
            outbound_allowlist=f"http://127.0.0.1:{moved.port}"), clock=clock)
        try:
            migrations.upgrade(hub.db)
            publish(hub, calling(f"http://127.0.0.1:{moved.port}/hook"), "erp-redirect")
            with hub.db.write() as conn:
                token = create_token(AccountRepository(conn), "ops", "ops", hub.clock)[1]
            with TestClient(create_app(hub, with_console=False)) as c:
                c.headers["Authorization"] = f"Bearer {token}"
                place(c, "R-1")
                settle(hub)
                [run] = c.get("/api/v1/rule-runs", params={"rule": "erp-redirect"}).json()[
                    "items"]
        finally:
            hub.close()
    assert moved.connections == 1
    assert run["status"] == "failed"
    assert "302" in run["last_error"]
    assert "http://127.0.0.1:1/x?phone=138****5678" in run["last_error"]


def test_an_answer_is_stored_cut_and_masked(
        database_url: str | None, tmp_path: Path, clock: FakeClock) -> None:
    rows = [{"name": "张三丰", "phone": "13812345678", "address": "广东省深圳市南山区科技园1号",
             "reference": f"ERP-{i}"} for i in range(1000)]
    answer = json.dumps({"reference": "ERP-7", "rows": rows}, ensure_ascii=False).encode()
    with Listener(200, answer, {"Content-Type": "application/json"}) as erp:
        hub = bootstrap(Settings(  # type: ignore[call-arg]
            data_dir=tmp_path / "data", database_url=database_url, _env_file=None,
            outbound_allowlist=f"http://127.0.0.1:{erp.port}",
            outbound_response_store_bytes=4096), clock=clock)
        try:
            migrations.upgrade(hub.db)
            definition = calling(f"http://127.0.0.1:{erp.port}/hook")
            definition["actions"][0]["params"]["output"] = {"reference": "reference"}
            publish(hub, definition, "erp-big")
            with hub.db.write() as conn:
                token = create_token(AccountRepository(conn), "ops", "ops", hub.clock)[1]
            with TestClient(create_app(hub, with_console=False)) as c:
                c.headers["Authorization"] = f"Bearer {token}"
                place(c, "B-1")
                settle(hub)
                [run] = c.get("/api/v1/rule-runs", params={"rule": "erp-big"}).json()["items"]
            with hub.db.read() as conn:
                stored = run_detail(conn, run["id"], masked=False)
        finally:
            hub.close()
    assert run["status"] == "succeeded"
    assert stored is not None
    assert stored["outputs"]["erp"]["reference"] == "ERP-7"  # mapped from the whole answer
    [attempt] = stored["attempts_detail"]
    kept = attempt["response"]
    assert isinstance(kept, str) and len(kept.encode()) < 4096 + 100
    assert kept.endswith("[cut: the answer is longer than 4096 bytes]")
    for secret in ("13812345678", "张三丰", "科技园1号"):
        assert secret not in kept
