"""`orderpilot bench ...`: benchmarks that print one JSON line of numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

bench_app = typer.Typer(help="""Benchmarks that print JSON numbers.

Examples:
  orderpilot bench ingest --json
  orderpilot bench ingest --db postgresql+psycopg://postgres@127.0.0.1:5432/test
  orderpilot bench floor --json
  orderpilot bench rules --rate 50 --seconds 30
  orderpilot bench inventory --json
  orderpilot bench channels --json
  orderpilot bench reconcile --orders 1000000 --json
  orderpilot bench diagnosis --orders 1000000 --json
  orderpilot bench demo-history --json
  orderpilot bench returns --json
  orderpilot bench return-metrics --json
  orderpilot bench kpis --orders 100000 --json
  orderpilot bench surge --orders 10000 --minutes 5 --json
  orderpilot bench surge --orders 2000 --minutes 1 --workers 2 --kill-worker """
                        "--db postgresql+psycopg://postgres@127.0.0.1:5432/postgres --json",
                        no_args_is_help=True)
Db = Annotated[str | None, typer.Option(
    help="postgresql+psycopg://... server to use (a scratch database is created and dropped); "
         "default: a temporary embedded SQLite file")]
AsJson = Annotated[bool, typer.Option("--json", help="Only the JSON line")]
ProgressFn = Callable[[str, int, int], None]


def _measure(as_json: bool, run: Callable[[ProgressFn], dict[str, Any]]) -> None:
    """Run a benchmark under a progress bar (hidden with --json), then print its JSON line."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  transient=True, disable=as_json) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = run(progress)
    typer.echo(json.dumps(result))


@bench_app.command("ingest")
def ingest(orders: Annotated[int, typer.Option(min=100, help="Orders per timed run")] = 20000,
           http_orders: Annotated[int, typer.Option(min=100)] = 4000,
           clients: Annotated[int, typer.Option(min=1, max=256)] = 16,
           workers: Annotated[int, typer.Option(
               min=0, max=8, help="`orderpilot worker` processes beside serve (PostgreSQL); "
               "serve then only answers the API, as deploy/ runs it")] = 0,
           db: Db = None, as_json: AsJson = False) -> None:
    """Orders through the service layer vs. plain SQL, over HTTP, and fully processed."""
    from orderpilot.benchmarks import ingest as bench

    _measure(as_json, lambda progress: bench.run(orders, http_orders, clients, db, progress,
                                                 workers))


@bench_app.command("floor")
def floor(requests: Annotated[int, typer.Option(min=100, help="Orders per server")] = 6000,
          clients: Annotated[int, typer.Option(min=1, max=256)] = 16,
          db: Db = None, as_json: AsJson = False) -> None:
    """What this machine and stack can do before the hub adds anything: orders over HTTP
    validated only, written one commit each, written with group commit; one statement's
    cost through the hub's engine."""
    from orderpilot.benchmarks import floor as bench

    _measure(as_json, lambda progress: bench.run(requests, clients, db, progress))


@bench_app.command("orders-list")
def orders_list(orders: Annotated[int, typer.Option(min=100)] = 20000,
                repeat: Annotated[int, typer.Option(min=1, max=100)] = 5,
                db: Db = None, as_json: AsJson = False) -> None:
    """The orders list's filters: one page plus the total count, per filter."""
    from orderpilot.benchmarks import orders_list as bench

    _measure(as_json, lambda progress: bench.run(orders, repeat, db, progress))


@bench_app.command("inventory")
def inventory(orders: Annotated[int, typer.Option(min=50, help="Orders per timed run")] = 2000,
              buyers: Annotated[int, typer.Option(min=1, max=256)] = 32,
              skus: Annotated[int, typer.Option(min=2, help="SKUs of the spread run")] = 200,
              db: Db = None, as_json: AsJson = False) -> None:
    """Allocation under 32 concurrent buyers (one hot SKU, many SKUs), oversell, promises."""
    from orderpilot.benchmarks import inventory as bench

    _measure(as_json, lambda progress: bench.run(orders, buyers, skus, db, progress))


@bench_app.command("demo-history")
def demo_history(days: Annotated[float, typer.Option(min=0.5, max=60)] = 14.0,
                 orders_per_day: Annotated[float, typer.Option(min=1, max=2000)] = 75.0,
                 seed: Annotated[int, typer.Option()] = 7,
                 db: Db = None, as_json: AsJson = False) -> None:
    """A fresh demo's history loaded through the service layer (its start-up time)."""
    from orderpilot.benchmarks import demo_history as bench

    _measure(as_json, lambda progress: bench.run(days, orders_per_day, seed, db, progress))


@bench_app.command("rules")
def rules(rate: Annotated[float, typer.Option(min=1, help="Events per second")] = 100,
          seconds: Annotated[float, typer.Option(min=1, help="Length of the sustained run")] = 60,
          eval_seconds: Annotated[float, typer.Option(min=0.2)] = 3,
          workers: Annotated[int, typer.Option(
              min=0, max=8, help="`orderpilot worker` processes beside the hub (PostgreSQL); "
              "serve then only answers the API, as deploy/ runs it")]
          = 0,
          curve: Annotated[str | None, typer.Option(
              help="Rates to step through, e.g. 50,100,150,200: the highest whose "
                   "event-to-action p99 stays <= 500 ms is the sustained rate")] = None,
          db: Db = None, as_json: AsJson = False) -> None:
    """Condition evaluation vs. zen-engine directly; event-to-action latency under load.

      orderpilot bench rules --db postgresql+psycopg://... --workers 2 --curve 50,100,150 --json
    """
    from orderpilot.benchmarks import rules as bench

    if curve is not None:
        try:
            rates = sorted({float(r) for r in curve.split(",") if r.strip()})
        except ValueError as error:
            raise typer.BadParameter(f"--curve takes rates like 50,100,150: {curve!r}") \
                from error
        if not rates or min(rates) < 1:
            raise typer.BadParameter("--curve takes rates of at least 1 event per second")
        _measure(as_json, lambda progress: bench.run_curve(rates, seconds, db, progress,
                                                           workers))
        return
    _measure(as_json, lambda progress: bench.run(rate, seconds, eval_seconds, db, progress,
                                                 workers))


@bench_app.command("returns")
def returns(count: Annotated[int, typer.Option("--returns", min=5, max=100_000,
                                               help="Returns requested")] = 200,
            db: Db = None, as_json: AsJson = False) -> None:
    """Returns routed per second (route, SF pickup, SMS) against the simulators, route p99,
    address accuracy on routable returns, lost returns."""
    from orderpilot.benchmarks import returns as bench

    _measure(as_json, lambda progress: bench.run(count, db, progress))


@bench_app.command("return-metrics")
def return_metrics(count: Annotated[int, typer.Option("--returns", min=10, max=1_000_000,
                                                      help="Returns in the period")] = 100_000,
                   db: Db = None, as_json: AsJson = False) -> None:
    """Seconds the returns metrics take for a period holding that many returns."""
    from orderpilot.benchmarks import return_metrics as bench

    _measure(as_json, lambda progress: bench.run(count, db, progress))


@bench_app.command("kpis")
def kpis(orders: Annotated[int, typer.Option(min=100, max=1_000_000,
                                             help="Orders in the period")] = 100_000,
         db: Db = None, as_json: AsJson = False) -> None:
    """Seconds the outcome KPIs take for a 30-day period holding that many orders."""
    from orderpilot.benchmarks import kpis as bench

    _measure(as_json, lambda progress: bench.run(orders, db, progress))


@bench_app.command("channels")
def channels(platform: Annotated[str, typer.Option(
                 help="shopee, lazada, tiktok, shopify, woocommerce or youzan")] = "shopee",
             orders: Annotated[int, typer.Option(min=50, help="Orders pushed")] = 2000,
             backfill: Annotated[int, typer.Option(min=100, help="Orders pulled")] = 10000,
             clients: Annotated[int, typer.Option(min=1, max=256)] = 16,
             workers: Annotated[int, typer.Option(
                 min=0, max=8, help="`orderpilot worker` processes beside `serve` (0: all "
                                    "in serve, the embedded default)")] = 0,
             db: Db = None, as_json: AsJson = False) -> None:
    """Platform pushes (ack time, push -> fetch -> order rate) and a backfill pull, against
    the platform's simulator; lost and duplicated orders counted."""
    from orderpilot.benchmarks import channels as bench

    _measure(as_json, lambda progress: bench.run(platform, orders, backfill, clients, db,
                                                 progress, workers))


@bench_app.command("reconcile")
def reconcile(orders: Annotated[int, typer.Option(min=1000, help="Orders in the snapshot")]
              = 1_000_000,
              repeat: Annotated[int, typer.Option(min=1, max=20)] = 3,
              as_json: AsJson = False) -> None:
    """One three-way reconciliation over a loaded snapshot with known faults."""
    from orderpilot.benchmarks import reconciliation as bench

    _measure(as_json, lambda progress: bench.run(orders, repeat, progress))


@bench_app.command("diagnosis")
def diagnosis(orders: Annotated[int, typer.Option(min=100, help="Orders built (ten events "
                                                              "each)")] = 100_000,
              db: Db = None, as_json: AsJson = False) -> None:
    """The proof pages over N orders: snapshot load, lifecycle board (flow), expectations and
    reconciliation once they exist; peak memory. The history is written straight into the
    tables of a scratch database with a known ERP lag (10-14 min after payment)."""
    from orderpilot.benchmarks import diagnosis as bench

    _measure(as_json, lambda progress: bench.run(orders, db, progress))


@bench_app.command("surge")
def surge(orders: Annotated[int, typer.Option(min=20, max=100_000, help="Orders placed")]
          = 10_000,
          minutes: Annotated[float, typer.Option(min=0.1, max=120,
                                                 help="Minutes the orders arrive over")] = 5,
          workers: Annotated[int, typer.Option(
              min=0, max=8, help="`orderpilot worker` processes beside `serve` (0: all in "
                                 "serve, the embedded default)")] = 0,
          kill_worker: Annotated[bool, typer.Option(
              "--kill-worker", help="kill -9 one worker halfway (and start another)")] = False,
          seed: Annotated[int, typer.Option()] = 15,
          db: Db = None, as_json: AsJson = False) -> None:
    """A flash sale from four storefronts through serve (and workers) with slow, failing
    simulators: nothing lost, no effect twice, every order where its reports say."""
    from orderpilot.benchmarks import surge as bench

    if kill_worker and workers < 1:
        raise typer.BadParameter("--kill-worker needs --workers 1 or more",
                                 param_hint="--kill-worker")
    _measure(as_json, lambda progress: bench.run(orders, minutes, db, progress, workers,
                                                 kill_worker, seed))
