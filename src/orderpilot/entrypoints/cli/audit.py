"""`orderpilot audit walkthrough`: the walkthrough audit (S12a; docs/walkthrough.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.audit_requests import params_of
from orderpilot.entrypoints.cli.hub import fail, open_hub
from orderpilot.services.walkthrough import as_dict

app = typer.Typer(help="""Audits that prove the hub agrees with every connected system.

Examples:
  orderpilot audit walkthrough --sample 100
  orderpilot audit walkthrough --sample 100 --seed 42 --since 2026-11-01 --until 2026-12-01
  orderpilot audit walkthrough --sample 20 --out audits/nov --json""", no_args_is_help=True)
out = Console()


@app.command("walkthrough")
def walkthrough(
    sample: Annotated[int, typer.Option(help="How many orders to draw at random")] = 100,
    seed: Annotated[int | None, typer.Option(
        help="The random seed: the same seed on the same history draws the same orders")
    ] = None,
    since: Annotated[str | None, typer.Option(
        help="Orders placed from (2026-11-01 or 2026-11-01T00:00:00+08:00)")] = None,
    until: Annotated[str | None, typer.Option(help="Orders placed before")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Where the HTML, JSON and Excel go (default "
                      "<data_dir>/audits/<time>-<run>/)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON")] = False,
    personal_data: Annotated[bool, typer.Option(
        "--with-personal-data",
        help="Buyers' addresses unmasked in the files (masked by default)")] = False,
) -> None:
    """Draw orders at random, follow each through its nodes and compare every connected
    system's view (live where configured, else its last reports) with the hub's."""
    hub = open_hub()
    try:
        params = params_of({"sample": sample, "seed": seed, "since": since, "until": until})
        run = hub.walkthrough().run(params, "cli", out_dir, pii=personal_data)
    except OrderpilotError as error:
        fail(error)
    finally:
        hub.close()
    if as_json:
        typer.echo(json.dumps(as_dict(run), ensure_ascii=False, indent=2, default=str))
        return
    summary = run.summary
    out.print(f"{escape(summary['zh'])}\n{escape(summary['en'])}")
    out.print(f"run {run.id} · seed {run.seed}")
    for node in summary["nodes"]:
        out.print(f"  {escape(node['zh'])} / {escape(node['en'])}: {node['count']} · "
                  f"p50 {node['p50_seconds']:g} s · p99 {node['p99_seconds']:g} s · "
                  f"late {node['late']}")
    for order in run.result["orders"]:
        for finding in order["findings"]:
            out.print(f"  [red]✗[/red] {escape(order['external_id'])}: "
                      f"{escape(finding['zh'])} / {escape(finding['en'])}")
    for kind, path in sorted(run.paths.items()):
        out.print(f"  {kind}: {escape(path)}")
