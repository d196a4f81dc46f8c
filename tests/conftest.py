"""Shared fixtures: a hub on SQLite or PostgreSQL (same tests, both databases), API clients.

Two rules every test follows here:

* A test that needs an outside service (PostgreSQL, Chromium) calls :func:`missing_service`
  when the service is not there: a skip on a developer's machine, a failure under ``CI=true``,
  where a skipped half of the suite would otherwise pass as green.
* Randomised tests (crash kill times, fuzzing) take the ``test_seed`` fixture: a new seed each
  run unless ``ORDERPILOT_TEST_SEED`` is set, shown in the header and on every failure so the
  run can be replayed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pg import (  # noqa: E402
    PG_UNREACHABLE,
    create_pg_database,
    drop_pg_database,
    pg_available,
)
from orderpilot.adapters import migrations  # noqa: E402
from orderpilot.adapters.accounts import AccountRepository  # noqa: E402
from orderpilot.bootstrap import Hub, bootstrap  # noqa: E402
from orderpilot.config import Settings  # noqa: E402
from orderpilot.services.accounts import create_token  # noqa: E402

SEED_VARIABLE = "ORDERPILOT_TEST_SEED"
RUN_SEED = int(os.environ.get(SEED_VARIABLE) or int.from_bytes(os.urandom(4), "big"))
# pytest-xdist workers start after the controller imported this file and inherit its
# environment: every worker then uses the seed the header shows, so one value replays the run.
os.environ[SEED_VARIABLE] = str(RUN_SEED)


def on_ci() -> bool:
    """CI says so with ``CI=true`` (any value but empty, 0 or false counts)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_service(reason: str) -> NoReturn:
    """The service a test needs is absent: skip here, fail on CI (a skip must not look green).

    Works in a fixture, a test or at module level (a module-level failure is a collection
    error, which fails the run too).
    """
    if on_ci():
        pytest.fail(f"CI=true and a required service is missing: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_pg() -> None:
    if not pg_available():
        missing_service(PG_UNREACHABLE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests (processes started and killed, browsers) first, the rest in file order:
    `make test` runs the suite on pytest-xdist workers, and a one-minute test handed out last
    would keep the whole run waiting for it alone."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow")
               or item.get_closest_marker("browser") else 1)


def pytest_report_header() -> str:
    return f"test seed: {SEED_VARIABLE}={RUN_SEED} (set it to replay this run)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and "test_seed" in getattr(item, "fixturenames", ()):
        report.sections.append(("replay", f"{SEED_VARIABLE}={RUN_SEED} replays this run"))
    return report


@pytest.fixture
def test_seed() -> int:
    """This run's seed for random choices; printed so a failure can be replayed."""
    print(f"{SEED_VARIABLE}={RUN_SEED}")
    return RUN_SEED


# The rules engine's fixtures (simulators, a hub pointed at them, an API client).
pytest_plugins = ["integration.rules_support", "e2e.browser_fixtures"]


class FakeClock:
    """A clock tests move by hand, so timers and backoff are checked without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    require_pg()
    url = create_pg_database("it")
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                             _env_file=None), clock=clock)  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


# The sources the tests report as (channels, ERP, WMS, couriers, CRM, stock sources): the
# role tokens below are issued for all of them; tests of the scopes make their own tokens.
TEST_SOURCES = ("shopee", "youzan", "lazada", "own_store", "kingdee", "wms", "sf", "yto", "crm",
                "NB", "HZ", "LA", "XX")


@pytest.fixture
def tokens(hub: Hub) -> dict[str, str]:
    made = {}
    with hub.db.write() as conn:
        for role in ("admin", "ops", "finance", "warehouse", "viewer"):
            made[role] = create_token(AccountRepository(conn), f"{role}-token", role, hub.clock,
                                      TEST_SOURCES)[1]
    return made


@pytest.fixture
def api(hub: Hub, tokens: dict[str, str]) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from orderpilot.entrypoints.api.app import create_app

    with TestClient(create_app(hub, with_console=False)) as client:
        client.headers["Authorization"] = f"Bearer {tokens['ops']}"
        yield client


def order_body(external_id: str = "230101ABC", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "shopee", "shop_id": "SG-01", "external_id": external_id,
        "placed_at": "2026-11-26T10:00:00+08:00", "currency": "CNY",
        "customer": {"name": "张三", "phone": "13800000000"},
        "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                             "district": "北仑区", "line1": "保税区港城大道1号",
                             "postal_code": "315800"},
        "lines": [{"sku": "DIAPER-L", "quantity": 2, "unit_price": "129.00"}],
        "total": "258.00"}
    body.update(changes)
    return body
