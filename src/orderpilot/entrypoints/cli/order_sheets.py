"""`orderpilot import orders` and `orderpilot export orders`: Excel/CSV in and out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from orderpilot.adapters import spreadsheets
from orderpilot.adapters.repository import OrderRepository
from orderpilot.adapters.views import orders as read_models
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.times import SHANGHAI
from orderpilot.entrypoints.cli.hub import fail, open_hub
from orderpilot.services import order_sheets as transfer
from orderpilot.services import ordering

import_app = typer.Typer(help="""Import orders (or stock levels) from Excel (.xlsx) or CSV.

Examples:
  orderpilot import orders orders.xlsx --dry-run
  orderpilot import orders orders.xlsx --channel own_store --rejects rejected.xlsx
  orderpilot import levels levels.xlsx""", no_args_is_help=True)
export_app = typer.Typer(help="""Export orders to Excel (.xlsx) or CSV.

Examples:
  orderpilot export orders held.xlsx --held
  orderpilot export orders shopee-paid.csv --channel shopee --status paid""",
                         no_args_is_help=True)
out = Console()
err = Console(stderr=True)
SHOWN_REJECTS = 200
PAGE = 500
# Every import column, then what staff look up (status, the hub's order id); import skips those.
EXPORT_COLUMNS = (*transfer.COLUMNS, transfer.BY_FIELD["status"], transfer.BY_FIELD["order_id"])


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=err)


@import_app.command("orders")
def import_orders(
    file: Annotated[Path, typer.Argument(help="An .xlsx or .csv file; header in row 1",
                                         exists=True, dir_okay=False, readable=True)],
    channel: Annotated[str | None, typer.Option(
        help="Channel for rows without a 渠道/channel value, e.g. own_store")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check every row and report, but import nothing")] = False,
    rejects: Annotated[Path | None, typer.Option(
        help="Write the rejected rows with a reason column to this .xlsx/.csv file, "
             "to fix and import again")] = None,
) -> None:
    """Import orders; an order spans one row per line.

    Bad rows are reported, good orders imported, each order completely or not at all.
    Re-importing a file adds no duplicates.

    Examples:
      orderpilot import orders orders.xlsx --dry-run
      orderpilot import orders orders.csv --channel own_store --rejects rejected.xlsx"""
    try:
        sheet = spreadsheets.read_sheet(file, transfer.SHEET_LIMITS)
        if rejects is not None:
            spreadsheets.sheet_kind(rejects)
    except spreadsheets.UnreadableSheet as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(2) from None
    hub = open_hub()
    try:
        plan = transfer.plan_import(sheet.header, sheet.rows, source=sheet.source,
                                    now=hub.clock(), default_channel=channel,
                                    file_name=file.name)
    except OrderpilotError as error:
        hub.close()
        err.print(f"[red]error ({escape(error.field or '')}):[/red] {escape(error.message)}")
        raise typer.Exit(2) from None
    if plan.ignored_columns:
        err.print(f"ignored columns: {escape(', '.join(plan.ignored_columns))}")
    imported = present = 0
    try:
        with _progress() as progress:
            task = progress.add_task("checking" if dry_run else "importing",
                                     total=len(plan.orders))
            for draft in plan.orders:
                try:
                    if dry_run:
                        created = not _exists(hub, draft)
                    else:
                        created = ordering.place_order(draft.command, hub.uow,
                                                       hub.clock).created
                except OrderpilotError as error:
                    plan.reject(draft, error)
                else:
                    imported += created
                    present += not created
                progress.advance(task)
    finally:
        hub.close()
    plan.rejected.sort(key=lambda r: r.row)
    _report(plan, imported, present, dry_run)
    if rejects is not None:
        header = [*plan.header, transfer.BY_FIELD["reason"].label,
                  transfer.BY_FIELD["source_row"].label]
        spreadsheets.write_sheet(rejects, header,
                                 ([*r.values, r.reason, r.row] for r in plan.rejected),
                                 title="rejected")
        err.print(f"rejected rows written to {escape(str(rejects))}")
    if plan.rejected:
        raise typer.Exit(1)


def _exists(hub: Any, draft: transfer.OrderDraft) -> bool:
    cmd = draft.command
    with hub.db.read() as conn:
        return OrderRepository(conn).find_existing(None, cmd.channel.lower(), cmd.shop_id,
                                                   cmd.external_id) is not None


def _report(plan: transfer.ImportPlan, imported: int, present: int, dry_run: bool) -> None:
    summary = Table(title="导入结果 / Import summary" + (" (dry run)" if dry_run else ""))
    summary.add_column("")
    summary.add_column("订单 / orders", justify="right")
    summary.add_row("would import / 将导入" if dry_run else "imported / 已导入", str(imported))
    summary.add_row("already present / 已存在", str(present))
    summary.add_row("rejected / 被拒", f"{plan.rejected_orders} ({len(plan.rejected)} rows)")
    out.print(summary)
    if not plan.rejected:
        return
    table = Table(title=f"被拒的行 / Rejected rows ({len(plan.rejected)})")
    table.add_column("行 / row", justify="right")
    table.add_column("字段 / field")
    table.add_column("原因 / reason")
    for r in plan.rejected[:SHOWN_REJECTS]:
        table.add_row(str(r.row), escape(r.field or ""), escape(r.reason))  # cells are data
    out.print(table)
    if len(plan.rejected) > SHOWN_REJECTS:
        out.print(f"... and {len(plan.rejected) - SHOWN_REJECTS} more; use --rejects FILE.xlsx")


def export_rows(detail: dict[str, Any]) -> list[list[Any]]:
    """One row per order line, the order's columns repeated, times in Beijing time (naive)."""
    placed = datetime.fromisoformat(detail["placed_at"]).astimezone(SHANGHAI)
    a = detail["shipping_address"]
    order = {"channel": detail["channel"], "shop_id": detail["shop_id"],
             "external_id": detail["external_id"],
             "placed_at": placed.replace(tzinfo=None, microsecond=0),
             "currency": detail["currency"], "customer_name": detail["customer"]["name"],
             "phone": detail["customer"]["phone"], **{k: a[k] for k in (
                 "country", "province", "city", "district", "line1", "postal_code")},
             "shipping_fee": Decimal(detail["shipping_fee"]), "total": Decimal(detail["total"]),
             "tags": ",".join(detail["tags"]), "status": detail["status_zh"],
             "order_id": detail["id"]}
    rows = []
    for line in detail["lines"]:
        values = order | {"sku": line["sku"], "name": line["name"],
                          "quantity": line["quantity"], "unit_price": Decimal(line["unit_price"]),
                          "discount": Decimal(line["discount"])}
        rows.append([values[c.field] for c in EXPORT_COLUMNS])
    return rows


@export_app.command("orders")
def export_orders(
    file: Annotated[Path, typer.Argument(help="An .xlsx or .csv file to write")],
    status: Annotated[str | None, typer.Option(help="Only this lifecycle node, e.g. paid")]
    = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel, e.g. shopee")] = None,
    held: Annotated[bool | None, typer.Option("--held/--not-held",
                                              help="Only held / only not held orders")] = None,
    q: Annotated[str | None, typer.Option(help="Order number, buyer name or phone")] = None,
) -> None:
    """Export matching orders, one row per order line, in a file `import orders` reads back."""
    try:
        spreadsheets.sheet_kind(file)
    except spreadsheets.UnreadableSheet as error:
        err.print(f"[red]error:[/red] {escape(str(error))}")
        raise typer.Exit(2) from None
    hub = open_hub()
    orders = 0
    filters: dict[str, Any] = {"status": status, "channel": channel, "held": held, "q": q}
    try:  # refuse bad filters before a file is started
        with hub.db.read() as conn:
            read_models.list_orders(conn, limit=1, **filters)
    except OrderpilotError as error:
        hub.close()
        fail(error)

    def rows(progress: Progress, task: Any) -> Iterator[list[Any]]:
        nonlocal orders
        cursor: str | None = None
        while True:
            with hub.db.read() as conn:  # one snapshot per page keeps each page consistent
                items, cursor = read_models.list_orders(conn, limit=PAGE, cursor=cursor,
                                                        **filters)
                details = [read_models.order_detail(conn, item["id"]) for item in items]
            for detail in details:
                if detail is not None:
                    yield from export_rows(detail)
                    orders += 1
                    progress.advance(task)
            if cursor is None:
                return

    try:
        with _progress() as progress:
            task = progress.add_task("exporting", total=None)
            lines = spreadsheets.write_sheet(file, [c.label for c in EXPORT_COLUMNS],
                                             rows(progress, task),
                                             [c.kind for c in EXPORT_COLUMNS])
    finally:
        hub.close()
    out.print(f"exported {orders} orders ({lines} lines) to {escape(str(file))}")
