"""`orderpilot reconcile --since D --until D [--storefront F] [--erp F] [--wms F] [--json]`:
a three-way reconciliation for the orders placed in those Shanghai business days, kept like
one run from the console (docs/reconciliation.md)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.reconciliation import INDUSTRY_PER_MILLE, KINDS, TARGET_PER_MILLE
from orderpilot.entrypoints.cli.hub import console, fail, open_hub
from orderpilot.entrypoints.reconciliation import reconciliations, run_json

FileOption = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, readable=True)]


def reconcile(
        since: Annotated[str, typer.Option(help="first day, YYYY-MM-DD (Beijing time)")],
        until: Annotated[str, typer.Option(help="last day, YYYY-MM-DD (inclusive)")],
        storefront: FileOption = None, erp: FileOption = None, wms: FileOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the run as JSON")] = False,
        show: Annotated[int, typer.Option(help="discrepancies listed in the table")] = 50,
) -> None:
    """Compare storefront sales, ERP receivables and WMS outbound with the hub; the files
    (.xlsx or .csv) replace what the integrations reported for their side."""
    files = {side: (path, path.name) for side, path in
             (("storefront", storefront), ("erp", erp), ("wms", wms)) if path is not None}
    hub = open_hub()
    try:
        service = reconciliations(hub)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True, disable=as_json) as progress:
            progress.add_task("reconciling (snapshot, comparison, saving)", total=None)
            summary = service.run(since, until, files, f"cli:{getpass.getuser()}")
        items = service.items(summary.id)
    except OrderpilotError as error:
        fail(error)
    finally:
        hub.close()
    if as_json:
        typer.echo(json.dumps(run_json(summary, items), ensure_ascii=False, indent=2))
        return
    out = Console()
    out.print(f"run {summary.id}: {summary.since} .. {summary.until}, {summary.orders} orders, "
              f"{summary.discrepant_orders} with discrepancies = [bold]{summary.per_mille}‰"
              f"[/bold] (target ≤ {TARGET_PER_MILLE}‰, industry {INDUSTRY_PER_MILLE}‰)")
    out.print("sources: " + ", ".join(f"{k}={escape(v)}" for k, v in summary.sources.items()))
    counts = Table("class", "类别", "count")
    for code, n in summary.counts.items():
        if n:
            counts.add_row(code, KINDS[code].zh, str(n))
    out.print(counts)
    if summary.findings:
        problems = Table("file", "row", "field", "problem", title="file problems (rows left out)")
        for f in summary.findings:
            problems.add_row(escape(str(f["file"])), str(f["row"]), str(f["field"]),
                             escape(str(f["message"])))
        out.print(problems)
    listed = Table("n", "class", "order", "sku/bill", "expected", "actual", "source", "fix")
    for item in items[:show]:
        d = item.item
        listed.add_row(str(item.n), d.kind, escape(d.order_ref), escape(d.sku), d.expected,
                       d.actual, escape(d.source), KINDS[d.kind].fix_en)
    if items:
        out.print(listed)
    if len(items) > show:
        out.print(f"... and {len(items) - show} more (--json lists all)")
