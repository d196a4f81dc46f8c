"""`orderpilot inventory pull|sweep` and `orderpilot import levels`."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orderpilot.adapters import spreadsheets
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.cli.hub import fail, open_hub
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.inventory import sheet_import as inventory_import
from orderpilot.services.inventory.pull import InventoryPuller

inventory_app = typer.Typer(help="Stock sources: pull from the WMS, sweep.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
SHOWN_ERRORS = 200


@inventory_app.command("pull")
def pull(source: Annotated[list[str] | None, typer.Option(
        "--source", help="A source code; repeat for several; all sources when left out")]
         = None) -> None:
    """Pull stock levels from the WMS now; each pull is recorded as a sync run."""
    hub = open_hub()
    worker = f"{socket.gethostname()}:{os.getpid()}:cli-pull"
    try:
        outcomes = InventoryPuller(hub.uow, hub.connectors, hub.clock, worker).pull_now(source)
    except OrderpilotError as error:
        hub.close()
        fail(error)
        return
    hub.close()
    table = Table(title="拉取库存 / Pull")
    for column in ("仓库 / source", "结果 / status", "变化 / changes", "错误 / error"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(o.source, o.status, str(o.changes), escape(o.error or ""))
    out.print(table)
    if any(o.status not in ("applied", "stale") for o in outcomes):
        raise typer.Exit(1)


@inventory_app.command("sweep")
def sweep() -> None:
    """Release overdue reservations and repair drifted reserved counters now."""
    hub = open_hub()
    try:
        result = inventory.sweep(hub.uow, hub.clock)
    finally:
        hub.close()
    out.print(f"released {result['expired']} overdue reservation(s); "
              f"repaired {len(result['repaired'])} counter(s)")


def import_levels(
    file: Annotated[Path, typer.Argument(help="An .xlsx or .csv file; header in row 1",
                                         exists=True, dir_okay=False, readable=True)],
    source: Annotated[str | None, typer.Option(
        help="Source code for rows without a 仓库/source value, e.g. HZ-DOMESTIC")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check every row and report, but change nothing")] = False,
) -> None:
    """Import stock levels (仓库/source, SKU, 在库/on_hand, 预计到货/expected_at): the whole
    file or, if any row is bad, nothing. Importing the same file again changes nothing."""
    try:
        sheet = spreadsheets.read_sheet(file, inventory_import.SHEET_LIMITS)
    except spreadsheets.UnreadableSheet as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(2) from None
    hub = open_hub()
    try:
        with hub.db.read() as conn:
            known = [s.code for s in InventoryRepository(conn).sources()]
        planned = inventory_import.plan(sheet.header, sheet.rows, known, source)
        if planned.ignored_columns:
            err.print(f"ignored columns: {escape(', '.join(planned.ignored_columns))}")
        if planned.errors:
            _errors(planned.errors)
            raise typer.Exit(1)
        if dry_run:
            out.print(f"{len(planned.levels)} level(s) are fine; nothing imported (dry run)")
            return
        event_id = inventory_import.source_event_id(file.read_bytes(), source)
        try:
            result = inventory_import.apply(planned, event_id, hub.uow, hub.clock, source)
        except OrderpilotError as error:
            err.print(f"[red]error ({escape(error.field or '')}):[/red] {escape(error.message)}; "
                      "nothing imported")
            raise typer.Exit(1) from None
    finally:
        hub.close()
    if result["duplicate"]:
        out.print("this file was imported before; nothing changed")
        return
    out.print(f"imported {len(planned.levels)} level(s): {result['changes']} changed, "
              f"{result['stale']} older than what the hub has")


def _errors(errors: list[inventory_import.RowError]) -> None:
    table = Table(title=f"有问题的行 / Bad rows ({len(errors)}); nothing imported")
    table.add_column("行 / row", justify="right")
    table.add_column("字段 / field")
    table.add_column("原因 / reason")
    for e in errors[:SHOWN_ERRORS]:
        table.add_row(str(e.row) if e.row else "", escape(e.field), escape(e.message))
    out.print(table)
