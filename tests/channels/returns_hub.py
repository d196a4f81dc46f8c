"""The live hub the platform return tests share: a hub served over HTTP beside the platform's
simulator, one channel account for the platform, an admin's API client, and the channel
worker drained on demand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from hub_server import HubServer

from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks.channels import account_body
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token
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
