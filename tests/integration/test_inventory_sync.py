"""Stock sync: scheduled pulls from the WMS simulator, sheet imports, consumption on shipment,
the sweeper and the demo's stock; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import FakeClock, order_body
from orderpilot.adapters import migrations, spreadsheets
from orderpilot.adapters import tables as t
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.sync_schedule import next_pull
from orderpilot.integrations.wms.simulator import DEMO_STOCK
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.inventory import pull as inventory_pull
from orderpilot.services.inventory import sheet_import as inventory_import
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.pull import InventoryPuller
from orderpilot.simulators.demo_inventory import PROMOTION, setup_demo_inventory
from orderpilot.simulators.external.server import SimServer

NB, HZ, LA = "NB-BONDED", "HZ-DOMESTIC", "LA-TRANSIT"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def wms(sim: SimServer) -> Iterator[httpx.Client]:
    with sim.admin() as client:
        client.delete("/_sim/wms").raise_for_status()
        yield client


@pytest.fixture
def sim_hub(database_url: str | None, tmp_path: Path, clock: FakeClock, sim: SimServer,
            wms: httpx.Client) -> Iterator[Hub]:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,  # type: ignore[call-arg]
                             sim_url=sim.url, outbound_timeout_seconds=2, _env_file=None),
                    clock=clock)
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


def put_sources(hub: Hub, nb: str = "every_60s", hz: str = "every_5_minutes",
                la: str = "daily_0200") -> None:
    for code, kind, days, schedule in ((NB, "bonded_spot", 1, nb),
                                       (HZ, "domestic_transfer", 2, hz),
                                       (LA, "in_transit", 20, la)):
        inventory_sync.put_source(inventory_sync.build_source(
            code=code, kind=kind, name_zh=code, name_en=code, region="浙江省",
            lead_time_days=days, sync_schedule=schedule), hub.uow, hub.clock)


def drain(hub: Hub) -> None:
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass


def puller(hub: Hub) -> InventoryPuller:
    return InventoryPuller(hub.uow, hub.connectors, hub.clock, "test-puller")


def level(hub: Hub, source: str, sku: str) -> Any:
    with hub.db.read() as conn:
        return InventoryRepository(conn).level(source, sku)


def pending_timers(hub: Hub, prefix: str) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.timers).where(
            t.timers.c.key.like(prefix + "%"), t.timers.c.status == "pending")))


def runs(hub: Hub, source: str | None = None) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        return inventory_sync.list_sync_runs(InventoryRepository(conn), source=source)


def test_a_scheduled_pull_applies_the_wms_levels_and_schedules_the_next(
        sim_hub: Hub, clock: FakeClock, wms: httpx.Client, sim: SimServer) -> None:
    put_sources(sim_hub)
    [timer] = pending_timers(sim_hub, f"inventory:pull:{NB}:")
    assert timer.fire_at == clock.now + timedelta(seconds=60)
    [daily] = pending_timers(sim_hub, f"inventory:pull:{LA}:")
    assert daily.fire_at == datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # 02:00 in Shanghai

    clock.advance(seconds=61)
    drain(sim_hub)
    assert puller(sim_hub).run_once()[0].status == "applied"
    assert level(sim_hub, NB, "DIAPER-L").on_hand == 6000
    [run] = runs(sim_hub, NB)
    assert (run["method"], run["status"], run["errors"]) == ("pull", "applied", [])
    assert run["changes"] == sum(NB in places for places in DEMO_STOCK.values())
    [following] = pending_timers(sim_hub, f"inventory:pull:{NB}:")
    assert following.fire_at == timer.fire_at + timedelta(seconds=60)
    request = sim.requests("wms")[-1]
    assert request["query"] == {"warehouse": NB}

    wms.put("/_sim/wms/stock", json={"warehouse": NB, "items": [
        {"sku": "DIAPER-L", "on_hand": 7}]}).raise_for_status()
    clock.advance(seconds=60)
    drain(sim_hub)
    assert puller(sim_hub).run_once()[0].changes == 1
    assert level(sim_hub, NB, "DIAPER-L").on_hand == 7
    assert puller(sim_hub).run_once() == []  # nothing due until the next timer


def test_in_transit_stock_arrives_with_its_date(sim_hub: Hub, clock: FakeClock) -> None:
    put_sources(sim_hub, la="manual")
    [outcome] = puller(sim_hub).pull_now([LA])
    assert outcome.status == "applied"
    stock = level(sim_hub, LA, "FORMULA-2")
    assert stock.on_hand == 3000 and stock.expected_at is not None
    assert not pending_timers(sim_hub, f"inventory:pull:{LA}:")


def test_a_failed_pull_is_recorded_and_tried_again(sim_hub: Hub, clock: FakeClock,
                                                   wms: httpx.Client) -> None:
    put_sources(sim_hub)
    wms.post("/_sim/wms/faults", json={"status": 503, "times": 1}).raise_for_status()
    clock.advance(seconds=61)
    drain(sim_hub)
    [first] = puller(sim_hub).run_once()
    assert first.status == "retry" and "503" in (first.error or "")
    assert level(sim_hub, NB, "DIAPER-L") is None
    [failed] = runs(sim_hub, NB)
    assert failed["status"] == "failed" and "503" in failed["errors"][0]

    clock.advance(seconds=31)  # the first backoff; the next scheduled pull is later
    [second] = puller(sim_hub).run_once()
    assert second.status == "applied"
    assert [r["status"] for r in runs(sim_hub, NB)] == ["applied", "failed"]


def test_unusable_answers_and_unknown_warehouses_fail_without_retry(
        sim_hub: Hub, wms: httpx.Client) -> None:
    put_sources(sim_hub)
    inventory_sync.put_source(inventory_sync.build_source(
        code="SZ-01", kind="bonded_spot", name_zh="深圳仓", name_en="Shenzhen", region="",
        lead_time_days=1), sim_hub.uow, sim_hub.clock)
    wms.put("/_sim/wms/stock", json={"warehouse": HZ, "items": [
        {"sku": "DIAPER-L", "on_hand": -3}]}).raise_for_status()
    outcomes = {o.source: o for o in puller(sim_hub).pull_now(["SZ-01", HZ])}
    assert outcomes["SZ-01"].status == "failed" and "404" in (outcomes["SZ-01"].error or "")
    assert outcomes[HZ].status == "failed"
    assert "items[2].on_hand" in (outcomes[HZ].error or "")  # items come sorted by SKU
    assert level(sim_hub, HZ, "DIAPER-M") is None  # the whole answer refused, not half of it
    with sim_hub.db.read() as conn:
        pulls = InventoryRepository(conn).pulls.recent()
    assert {p.status for p in pulls} == {"failed"}


def test_pulls_that_piled_up_collapse_into_the_latest(sim_hub: Hub, clock: FakeClock) -> None:
    put_sources(sim_hub)
    for _ in range(3):  # the puller was down for three minutes
        clock.advance(seconds=60)
        drain(sim_hub)
    outcomes = puller(sim_hub).run_once()
    assert sorted(o.status for o in outcomes if o.source == NB) == \
        ["applied", "skipped", "skipped"]
    assert len(runs(sim_hub, NB)) == 1


def test_changing_the_schedule_replaces_the_pending_timer(sim_hub: Hub, clock: FakeClock) -> None:
    put_sources(sim_hub)
    put_sources(sim_hub)  # saving again changes nothing
    assert len(pending_timers(sim_hub, f"inventory:pull:{NB}:")) == 1
    put_sources(sim_hub, nb="manual")
    assert pending_timers(sim_hub, f"inventory:pull:{NB}:") == []
    put_sources(sim_hub, nb="every_60s")  # the same fire time as the cancelled timer
    [timer] = pending_timers(sim_hub, f"inventory:pull:{NB}:")
    assert timer.fire_at == clock.now + timedelta(seconds=60)
    put_sources(sim_hub, nb="seconds")
    [timer] = pending_timers(sim_hub, f"inventory:pull:{NB}:")
    assert timer.fire_at == clock.now + timedelta(seconds=15)


def test_next_pull_times() -> None:
    at = datetime(2026, 11, 26, 17, 59, tzinfo=UTC)  # 01:59 in Shanghai
    assert next_pull("daily_0200", at) == datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    assert next_pull("daily_0200", at + timedelta(minutes=1)) == \
        datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    assert next_pull("every_5_minutes", at) == at + timedelta(minutes=5)
    assert next_pull("every_90s", at) == at + timedelta(seconds=90)
    assert next_pull("manual", at) is None


def test_a_bad_schedule_is_refused_with_its_field() -> None:
    for bad in ("every_1s", "every_0s", "hourly", "every_100000s"):
        with pytest.raises(Exception) as caught:
            inventory_sync.build_source(code="X", kind="bonded_spot", name_zh="x", name_en="x",
                                        region="", lead_time_days=1, sync_schedule=bad)
        assert getattr(caught.value, "field", None) == "sync_schedule"


# --- importing levels from a sheet ---

def _import(hub: Hub, path: Path, source: str | None = None) -> Any:
    sheet = spreadsheets.read_sheet(path)
    planned = inventory_import.plan(sheet.header, sheet.rows, [NB, HZ, LA], source)
    return planned


def test_import_levels_from_xlsx_with_chinese_headers(hub: Hub, tmp_path: Path) -> None:
    put_sources(hub)
    path = tmp_path / "levels.xlsx"
    spreadsheets.write_sheet(path, ["仓库", "SKU", "在库", "预计到货", "备注"], [
        [NB, "DIAPER-L", 120, None, "盘点"], [LA, "DIAPER-L", 500, date(2026, 12, 20), ""],
        [HZ, 880123, 5.0, None, None]])
    planned = _import(hub, path)
    assert planned.errors == [] and planned.ignored_columns == ["备注"]
    event_id = inventory_import.source_event_id(path.read_bytes(), None)
    result = inventory_import.apply(planned, event_id, hub.uow, hub.clock, None)
    assert result["changes"] == 3 and not result["duplicate"]
    assert level(hub, LA, "DIAPER-L").expected_at == date(2026, 12, 20)
    assert level(hub, HZ, "880123").on_hand == 5
    again = inventory_import.apply(_import(hub, path), event_id, hub.uow, hub.clock, None)
    assert again["duplicate"]
    assert [r["method"] for r in runs(hub)] == ["import"]


def test_import_levels_from_csv_refuses_the_whole_file_for_one_bad_row(
        hub: Hub, tmp_path: Path) -> None:
    put_sources(hub)
    path = tmp_path / "levels.csv"
    spreadsheets.write_sheet(path, ["SKU", "on_hand", "expected_at"], [
        ["DIAPER-L", "12", ""], ["DIAPER-M", "-1", ""], ["", "3", ""],
        ["WIPES-80", "4", "next week"], ["DIAPER-L", "2", ""]])
    planned = _import(hub, path, source=HZ)
    assert [(e.row, e.field) for e in planned.errors] == [
        (3, "on_hand"), (4, "SKU"), (5, "expected_at"), (6, "SKU")]
    assert "row 2" in planned.errors[-1].message
    with pytest.raises(Exception, match="nothing imported"):
        inventory_import.apply(planned, "import:x", hub.uow, hub.clock, HZ)
    assert level(hub, HZ, "DIAPER-L") is None


def test_import_names_missing_columns_and_unknown_sources(hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "levels.csv"
    spreadsheets.write_sheet(path, ["SKU", "在库"], [["DIAPER-L", 3]])
    [error] = _import(hub, path).errors
    assert (error.row, error.field) == (1, "source")
    spreadsheets.write_sheet(path, ["仓库", "SKU", "在库"], [["SH-09", "DIAPER-L", 3]])
    [error] = _import(hub, path).errors
    assert (error.row, error.field) == (2, "仓库") and "SH-09" in error.message


def test_import_levels_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orderpilot.entrypoints.cli.main import app

    monkeypatch.setenv("ORDERPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ORDERPILOT_DATABASE_URL", raising=False)
    hub = bootstrap(Settings(data_dir=tmp_path / "data", _env_file=None))  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    put_sources(hub)
    hub.close()
    path = tmp_path / "levels.xlsx"
    spreadsheets.write_sheet(path, ["仓库", "SKU", "在库"], [[NB, "DIAPER-L", 9],
                                                          [NB, "DIAPER-M", "many"]])
    runner = CliRunner()
    bad = runner.invoke(app, ["import", "levels", str(path)])
    assert bad.exit_code == 1 and "many" in bad.output and "nothing imported" in bad.output
    spreadsheets.write_sheet(path, ["仓库", "SKU", "在库"], [[NB, "DIAPER-L", 9]])
    dry = runner.invoke(app, ["import", "levels", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "dry run" in dry.output
    done = runner.invoke(app, ["import", "levels", str(path)])
    assert done.exit_code == 0 and "1 changed" in done.output
    again = runner.invoke(app, ["import", "levels", str(path)])
    assert "imported before" in again.output


# --- shipment and sweeper ---

def _stock(hub: Hub, nb: int, hz: int) -> None:
    put_sources(hub, nb="manual", hz="manual", la="manual")
    inventory_sync.apply_levels("seed", [
        inventory_sync.LevelReport(NB, "DIAPER-L", nb),
        inventory_sync.LevelReport(HZ, "DIAPER-L", hz)], hub.uow, hub.clock)


def _event(api: Any, order_id: str, type_: str, source: str, ref: str) -> None:
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": type_, "source": source, "source_event_id": ref,
        "occurred_at": "2026-11-26T10:05:00+08:00"})
    assert r.status_code in (200, 201), r.text  # 200: the same report again


def test_shipping_consumes_the_allocation_once(api: Any, hub: Hub) -> None:
    _stock(hub, nb=1, hz=10)
    body = order_body("S1", lines=[{"sku": "DIAPER-L", "quantity": 2, "unit_price": "129.00"}])
    order_id = api.post("/api/v1/orders", json=body).json()["id"]
    _event(api, order_id, "payment.succeeded", "shopee", "p1")
    drain(hub)
    assert (level(hub, HZ, "DIAPER-L").reserved, level(hub, HZ, "DIAPER-L").on_hand) == (2, 10)
    assert pending_timers(hub, "inventory:reservation:")
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        _event(api, order_id, type_, source, type_)
    _event(api, order_id, "shipment.shipped", "sf", "shipment.shipped")  # delivered twice
    drain(hub)
    stock = level(hub, HZ, "DIAPER-L")
    assert (stock.reserved, stock.on_hand) == (0, 8)
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    assert [a["status"] for a in detail["allocations"]] == ["consumed"]
    assert not pending_timers(hub, "inventory:reservation:")
    with hub.uow() as uow:  # a second delivery of the event changes nothing
        events = uow.events.of_type_since("shipment.shipped", datetime(2026, 1, 1, tzinfo=UTC), 5)
        inventory.consume_when_shipped(events[0], uow, hub.clock)
    assert (level(hub, HZ, "DIAPER-L").reserved, level(hub, HZ, "DIAPER-L").on_hand) == (0, 8)


def test_the_sweeper_runs_every_few_minutes_and_repairs_counters(
        hub: Hub, clock: FakeClock) -> None:
    _stock(hub, nb=5, hz=5)
    [timer] = pending_timers(hub, "inventory:sweep:")
    assert timer.fire_at == clock.now + inventory_pull.SWEEP_EVERY
    with hub.db.write() as conn:  # a counter drifts (a crash in an old version, a bad script)
        conn.execute(t.inventory_levels.update().where(t.inventory_levels.c.source == NB)
                     .values(reserved=3))
    clock.advance(minutes=5)
    drain(hub)
    assert level(hub, NB, "DIAPER-L").reserved == 0
    [following] = pending_timers(hub, "inventory:sweep:")
    assert following.fire_at == timer.fire_at + inventory_pull.SWEEP_EVERY


def test_the_sweeper_forgets_old_pulls_that_changed_nothing(hub: Hub, clock: FakeClock) -> None:
    def run(ref: str, age: timedelta, method: str = "pull", changes: int = 0,
            status: str = "applied") -> dict[str, Any]:
        at = clock.now - age
        return {"id": ref, "source_event_id": ref, "method": method, "source": "NB",
                "status": status, "started_at": at, "finished_at": at, "changes": changes,
                "errors": [], "outcome": {}}

    with hub.db.write() as conn:
        conn.execute(t.inventory_sync_runs.insert(), [
            run("old-quiet", timedelta(days=8)), run("new-quiet", timedelta(days=1)),
            run("old-changed", timedelta(days=8), changes=3),
            run("old-failed", timedelta(days=8), status="failed"),
            run("old-push", timedelta(days=8), method="push")])
    assert inventory.sweep(hub.uow, hub.clock)["pruned_sync_runs"] == 1
    with hub.db.read() as conn:
        left = {r.id for r in conn.execute(sa.select(t.inventory_sync_runs.c.id))}
    assert left == {"new-quiet", "old-changed", "old-failed", "old-push"}


# --- the demo ---

def test_the_demo_stock_sells_most_skus_and_runs_a_promotion(api: Any, hub: Hub) -> None:
    setup_demo_inventory(hub)
    setup_demo_inventory(hub)  # a second demo run changes nothing
    sources = api.get("/api/v1/inventory/sources").json()["items"]
    assert [(s["code"], s["kind"], s["sync_schedule"]) for s in sources] == [
        (NB, "bonded_spot", "manual"), (HZ, "domestic_transfer", "manual"),
        (LA, "in_transit", "manual")]  # in the brief's order
    promise = api.get("/api/v1/availability", params={"sku": "DIAPER-L"}).json()
    assert promise["promise"]["zh"] == "宁波仓有货,预计明日达"
    with hub.db.read() as conn:
        live = [p for p in InventoryRepository(conn).promotions.live()
                if p.name == PROMOTION.name]
    assert len(live) == 1 and live[0].quota == 100
    body = order_body("D1", channel="youzan", shop_id="wx-mini", lines=[
        {"sku": "FORMULA-2", "quantity": 1, "unit_price": "268.00"}], total="268.00")
    order_id = api.post("/api/v1/orders", json=body).json()["id"]
    drain(hub)  # youzan allocates at placing
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    assert sorted((a["sku"], a["source"]) for a in detail["allocations"]) == [
        ("FORMULA-2", NB), ("SAMPLE-FORMULA-2", NB)]
