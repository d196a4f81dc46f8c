"""The live hub the platform return tests share: a hub served over HTTP beside the platform's
simulator, one channel account for the platform, an admin's API client, and the channel
worker drained on demand."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hub_server import HubServer

from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks.channels import account_body
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token
from orderpilot.services.channels import return_refunds
from orderpilot.services.channels.worker import ChannelWorker, WorkerSettings
from orderpilot.simulators.external.server import SimServer


@contextmanager
def live_hub(platform: str, code: str, database_url: str | None, tmp_path: Path,
             sim: SimServer, *, with_console: bool = False
             ) -> Iterator[tuple[Hub, HubServer, TestClient]]:
    """A fresh hub with the platform's account ``code`` on the simulator (its state reset)."""
    sim.admin().delete(f"/_sim/{platform}")
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                             sim_url=sim.url, _env_file=None))  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "admin", "admin", hub.clock,
                             sources=("wms", "sf"))[1]
    app = create_app(hub, with_console=with_console)
    try:
        with HubServer(app) as server, TestClient(app) as api:
            api.headers["Authorization"] = f"Bearer {token}"
            put = api.put(f"/api/v1/channels/{code}", json=account_body(platform, sim.url))
            assert put.status_code in (200, 201), put.text
            yield hub, server, api
    finally:
        hub.close()


def drain(hub: Hub) -> None:
    """Run the channel worker until it finds nothing to do."""
    worker = hub.channel_worker("t")
    while worker.run_once():
        pass


def refund_after_a_kill(hub: Hub, monkeypatch: Any, sent: Callable[[], int]) -> None:
    """The channel worker dies (as kill -9 would) after the platform answered the refund and
    before the hub records it; ``sent()`` counts the platform's refund calls: exactly one by
    then. Once the dead worker's lease ends, the worker is drained again."""
    real = return_refunds.move_return

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt("kill -9")

    monkeypatch.setattr(return_refunds, "move_return", killed)
    worker = ChannelWorker(hub.uow, hub.channels, hub.clock, "dies",
                           WorkerSettings(lease=timedelta(seconds=1)))
    with pytest.raises(KeyboardInterrupt):
        worker.run_once()
    assert sent() == 1
    monkeypatch.setattr(return_refunds, "move_return", real)
    time.sleep(1.2)  # the dead worker's lease ends
    drain(hub)
