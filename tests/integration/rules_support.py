"""Fixtures for the rules tests: a hub pointed at in-process simulators, an API client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SOURCES, FakeClock, order_body
from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token
from orderpilot.simulators.external.server import SimServer

SIMULATED = ("customs", "aliyun-sms", "tencent-sms", "helpdesk", "crm", "dingtalk", "wecom",
             "smtp")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def rules_hub(database_url: str | None, tmp_path: Path, clock: FakeClock,
              sim: SimServer) -> Iterator[Hub]:
    for name in SIMULATED:
        sim.admin().delete(f"/_sim/{name}")
    # The simulator runs in this process, on a thread: on a loaded CI machine a garbage
    # collection or a busy neighbour can keep its answer past the 5 s default, and a timed-out
    # call waits for a backoff the fake clock never reaches. Tests of time-outs set their own.
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                             sim_url=sim.url, outbound_timeout_seconds=60,
                             _env_file=None), clock=clock)  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


@pytest.fixture
def client(rules_hub: Hub) -> Iterator[TestClient]:
    with rules_hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "ops", "ops", rules_hub.clock,
                             TEST_SOURCES)[1]
    with TestClient(create_app(rules_hub, with_console=False)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def publish(hub: Hub, definition: dict[str, Any], key: str) -> str:
    """Create and publish a rule (enabled)."""
    rule_id = hub.rules.create(definition, "ops", key=key)
    hub.rules.publish(rule_id, "ops", "test")
    return rule_id


def place(client: TestClient, external_id: str, **changes: Any) -> str:
    answer = client.post("/api/v1/orders", json=order_body(external_id, **changes))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def settle(hub: Hub, rounds: int = 5) -> None:
    """Deliver events and carry out runs until nothing is left (what the threads do)."""
    dispatcher, runner = hub.dispatcher("test"), hub.runner("test")
    for _ in range(rounds):
        if dispatcher.run_once() + runner.run_once() == 0:
            return
