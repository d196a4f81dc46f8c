"""`orderpilot bench ...`: benchmarks that print one JSON line of numbers."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

bench_app = typer.Typer(help="Benchmarks that print JSON numbers.", no_args_is_help=True)


@bench_app.command("ingest")
def ingest(orders: Annotated[int, typer.Option(min=100, help="Orders per timed run")] = 20000,
           http_orders: Annotated[int, typer.Option(min=100)] = 4000,
           clients: Annotated[int, typer.Option(min=1, max=256)] = 16,
           db: Annotated[str | None, typer.Option(
               help="postgresql+psycopg://... server to use (a scratch database is created "
                    "and dropped); default: a temporary embedded SQLite file")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Only the JSON line")] = False,
           ) -> None:
    """Orders through the service layer vs. plain SQL, and over HTTP."""
    from orderpilot.benchmarks import ingest as bench

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  transient=True, disable=as_json) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = bench.run(orders, http_orders, clients, db, progress)
    typer.echo(json.dumps(result))


@bench_app.command("inventory")
def inventory(orders: Annotated[int, typer.Option(min=50, help="Orders per timed run")] = 2000,
              buyers: Annotated[int, typer.Option(min=1, max=256)] = 32,
              skus: Annotated[int, typer.Option(min=2, help="SKUs of the spread run")] = 200,
              db: Annotated[str | None, typer.Option(
                  help="postgresql+psycopg://... server to use (a scratch database is created "
                       "and dropped); default: a temporary embedded SQLite file")] = None,
              as_json: Annotated[bool, typer.Option("--json", help="Only the JSON line")] = False,
              ) -> None:
    """Allocation under 32 concurrent buyers (one hot SKU, many SKUs), oversell, promises."""
    from orderpilot.benchmarks import inventory as bench

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  transient=True, disable=as_json) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = bench.run(orders, buyers, skus, db, progress)
    typer.echo(json.dumps(result))


@bench_app.command("rules")
def rules(rate: Annotated[float, typer.Option(min=1, help="Events per second")] = 100,
          seconds: Annotated[float, typer.Option(min=1, help="Length of the sustained run")] = 60,
          eval_seconds: Annotated[float, typer.Option(min=0.2)] = 3,
          db: Annotated[str | None, typer.Option(
              help="postgresql+psycopg://... server to use; default: embedded SQLite")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="Only the JSON line")] = False,
          ) -> None:
    """Condition evaluation vs. zen-engine directly; event-to-action latency under load."""
    from orderpilot.benchmarks import rules as bench

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  transient=True, disable=as_json) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = bench.run(rate, seconds, eval_seconds, db, progress)
    typer.echo(json.dumps(result))
