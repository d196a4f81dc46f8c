"""`orderpilot audit-log export`: the audit trail (docs/audit-trail.md) as an Excel sheet, with
the API's filters; the operator at the hub's host reads it whole (unmasked, as an admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orderpilot.adapters.views import audit_log as views
from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints import audit_log_sheet
from orderpilot.entrypoints.audit_requests import time_of
from orderpilot.entrypoints.cli.hub import console, fail, open_hub

app = typer.Typer(help="""The audit trail of people's actions.

Examples:
  orderpilot audit-log export --since 2026-11-01 --out audit.xlsx
  orderpilot audit-log export --actor li.ops --action hold.release --out li.xlsx""",
                  no_args_is_help=True)


@app.command("export")
def export(out: Annotated[Path, typer.Option(help="The .xlsx file to write")],
           since: Annotated[str, typer.Option(help="From (ISO 8601 or a date)")] = "",
           until: Annotated[str, typer.Option(help="Before (ISO 8601 or a date)")] = "",
           actor: str = "", action: str = "", order_id: str = "", subject_type: str = "",
           via: str = "") -> None:
    """Write the entries matching the filters, newest first (at most 50,000)."""
    try:
        search = views.AuditSearch(actor, action, order_id, subject_type, via,
                                   time_of(since, "since"), time_of(until, "until"),
                                   limit=audit_log_sheet.MAX_ROWS)
    except OrderpilotError as error:
        fail(error)
    hub = open_hub()
    try:
        with hub.db.read() as conn:
            items = views.search(conn, search, masked=False)["items"]
    finally:
        hub.close()
    out.write_bytes(audit_log_sheet.workbook(items))
    console.print(f"{len(items)} entries written to {out}")
