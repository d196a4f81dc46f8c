"""`orderpilot simulate`: run 海豚跨境 on a fresh hub for simulated days with a fault profile
and print the outcome report beside the seed's before/after (docs/simulator.md)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.simulators.company.play import SimulatedClock
from orderpilot.simulators.company.profiles import PROFILES
from orderpilot.simulators.company.report import SEED_FIGURES
from orderpilot.simulators.company.run import START
from orderpilot.simulators.company.run import simulate as run_company
from orderpilot.simulators.demo_company import COMPANY

err = Console(stderr=True)
RATES = ("walkthrough_consistent", "manual_intervention_rate", "return_address_accuracy",
         "on_time_rate")


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in RATES:
        return f"{value * 100:.1f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table(result: dict[str, Any]) -> Table:
    table = Table(title=f"{COMPANY} · {result['orders']} orders / 订单 · "
                        f"faults / 故障: {result['faults']} · seed {result['seed']} · "
                        f"{result['seconds']} s")
    for column in ("指标", "figure", "simulated / 模拟", "seed before / 之前",
                   "seed after / 目标"):
        table.add_column(column)
    for key, (zh, en, before, after) in SEED_FIGURES.items():
        table.add_row(zh, en, _shown(key, result.get(key)), before, after)
    table.add_row("WMS 回传丢失 / 状态核查找回", "WMS callbacks lost / found by status checks",
                  f"{result.get('lost_wms_callbacks', 0)} / "
                  f"{result.get('wms_callbacks_recovered', 0)}", "", "")
    return table


def simulate(
    orders: Annotated[int, typer.Option(min=1, max=200_000, help="Orders placed")] = 20000,
    days: Annotated[float, typer.Option(min=0.01, max=60, help="Simulated days of orders")]
    = 1.0,
    speed: Annotated[float, typer.Option(
        min=0, help="Time factor: a simulated day takes 86400/speed s; 0 = as fast as "
                    "possible")] = 200.0,
    faults: Annotated[str, typer.Option(help="Fault profile: default | none")] = "default",
    seed: Annotated[int, typer.Option(help="Random seed of the company")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    data_dir: Annotated[Path | None, typer.Option(
        file_okay=False, help="Where the hub's data goes (default: a temporary directory, "
                              "removed afterwards)")] = None,
) -> None:
    """Run the simulated company on the real hub at accelerated time and print the outcome.

    SQLite in the data directory unless ORDERPILOT_DATABASE_URL names an (empty) database.

    Examples:
      orderpilot simulate --orders 20000 --days 1 --speed 200 --faults default --seed 1
      orderpilot simulate --orders 300 --speed 0 --faults none --json"""
    from orderpilot.adapters import migrations
    from orderpilot.adapters import tables as t

    profile = PROFILES.get(faults)
    if profile is None:
        raise typer.BadParameter(f"{faults!r} is not a fault profile; choose "
                                 f"{' or '.join(PROFILES)}", param_hint="--faults")
    scratch = data_dir is None
    where = Path(tempfile.mkdtemp(prefix="orderpilot-sim-")) if data_dir is None else data_dir
    where.mkdir(parents=True, exist_ok=True)
    clock = SimulatedClock(START)
    hub = bootstrap(Settings(data_dir=where), clock=clock)  # the simulation owns time
    try:
        migrations.upgrade(hub.db)
        with hub.db.read() as conn:
            if conn.execute(t.orders.select().limit(1)).first() is not None:
                raise typer.BadParameter(f"{hub.db.shown_url} already holds orders: the "
                                         "simulator needs an empty database",
                                         param_hint="--data-dir")
        began = time.perf_counter()
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task(f"{orders} orders / 订单, {faults}", total=None)
            result = run_company(
                hub, clock, orders=orders, days=days, speed=speed, profile=profile, seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
        result["seconds"] = round(time.perf_counter() - began, 1)
    finally:
        hub.close()
        if scratch:
            shutil.rmtree(where, ignore_errors=True)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, sort_keys=True))
        return
    Console().print(_table(result))
