"""The worked example of docs/extending.md, run: an out-of-tree package (tests/plugins/acme_wms)
installed during the test adds a system (settings, client, simulator) and a rule action, and
the hub picks it up through the entry-point group alone."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import orderpilot
from conftest import TEST_SOURCES, FakeClock
from integration.rules_support import place, publish, settle
from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.connectors import HostNotAllowed
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.errors import InvalidInput
from orderpilot.entrypoints.api.app import create_app
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.services.accounts import create_token
from orderpilot.simulators.external.server import SimServer

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "acme_wms"
TOKEN = "acme-token-never-shown"

def install(source: Path, target: Path) -> None:
    """What ``pip install --no-deps --target TARGET SOURCE`` leaves behind: the package and a
    .dist-info with its entry points. Written directly because building a wheel offline needs
    the ``wheel`` package, which the shared environment does not have."""
    pyproject = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    for package in pyproject["tool"]["setuptools"]["packages"]:
        shutil.copytree(source / package, target / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    info = target / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n", encoding="utf-8")
    lines = []
    for group, points in project["entry-points"].items():
        lines += [f"[{group}]", *(f"{name} = {value}" for name, value in points.items()), ""]
    (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The plugin installed into a directory of its own, on the path for this module only."""
    target = tmp_path_factory.mktemp("site")
    install(PLUGIN, target)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    for name in [m for m in sys.modules if m == "acme_wms" or m.startswith("acme_wms.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def integrations(site: Path) -> IntegrationRegistry:
    return IntegrationRegistry.discover()


@pytest.fixture(scope="module")
def acme_sim(integrations: IntegrationRegistry) -> Iterator[SimServer]:
    with SimServer(integrations=integrations) as server:
        yield server


@pytest.fixture
def acme_hub(database_url: str | None, tmp_path: Path, clock: FakeClock, acme_sim: SimServer,
             integrations: IntegrationRegistry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    # Only the plugin's own variables: no sim_url, no allow-list entry for the simulator.
    monkeypatch.setenv("ORDERPILOT_ACME_WMS_URL", f"{acme_sim.url}/acme_wms")
    monkeypatch.setenv("ORDERPILOT_ACME_WMS_TOKEN", "sim-acme-token")
    acme_sim.admin().delete("/_sim/acme_wms")
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                             _env_file=None), clock=clock,  # type: ignore[call-arg]
                    integrations=integrations)
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


@pytest.fixture
def api(acme_hub: Hub) -> Iterator[TestClient]:
    with acme_hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "ops", "ops", acme_hub.clock,
                             TEST_SOURCES)[1]
    with TestClient(create_app(acme_hub, with_console=False)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_the_registry_lists_the_installed_package_and_no_secret(site: Path) -> None:
    src = Path(orderpilot.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(src)]),
           "ORDERPILOT_ACME_WMS_URL": "https://wms.acme.example/api",
           "ORDERPILOT_ACME_WMS_TOKEN": TOKEN}
    shown = subprocess.run([sys.executable, "-m", "orderpilot", "integrations", "list"],
                           env=env, capture_output=True, text=True, timeout=60, check=True)
    [row] = [line for line in shown.stdout.splitlines() if "acme_wms " in line]
    assert "ACME 仓库系统" in row and "http_connector, rule_actions" in row
    assert "yes" in row and "acme_wms.reserve" in row
    assert TOKEN not in shown.stdout + shown.stderr


def test_a_rule_with_the_plugin_action_validates_and_runs_through_the_guard(
        acme_hub: Hub, api: TestClient, acme_sim: SimServer) -> None:
    step: dict[str, Any] = {"id": "reserve", "type": "acme_wms.reserve",
                            "params": {"sku": "DIAPER-L"}}
    rule = {"name": "reserve at ACME", "trigger": {"kind": "event", "event": "order.placed"},
            "actions": [step]}
    with pytest.raises(InvalidInput, match="quantity"):
        acme_hub.rules.create(rule, "ops", key="acme-reserve")
    step["params"]["quantity"] = 2
    publish(acme_hub, rule, "acme-reserve")

    place(api, "ACME-1")
    settle(acme_hub)

    [sent] = acme_sim.requests("acme_wms")
    assert sent["body"] == {"sku": "DIAPER-L", "quantity": 2}
    assert sent["headers"]["authorization"] == "***"
    [run] = api.get("/api/v1/rule-runs", params={"rule": "acme-reserve"}).json()["items"]
    detail = api.get(f"/api/v1/rule-runs/{run['id']}").json()
    assert detail["status"] == "succeeded", detail
    assert detail["outputs"]["reserve"]["reservation_id"] == "R-00001"

    # The plugin's client got the hub's guarded client, and the allow-list holds exactly the
    # plugin's declared base URL: the simulator's other systems stay out of reach.
    connectors = acme_hub.connectors
    assert connectors.client("acme_wms").http.client is connectors.http_client  # type: ignore[attr-defined]
    assert "acme_wms" in connectors.connector_names()
    connectors.check_url(f"{acme_sim.url}/acme_wms/api/reservations")
    with pytest.raises(HostNotAllowed):
        connectors.http_client.post(f"{acme_sim.url}/customs/api/qualification/check",
                                    json={"phone": "13800000000"})
    assert len(acme_sim.requests("customs")) == 0
