"""Stock levels as a spreadsheet on the inventory page: download the current levels as .xlsx
with the Chinese headers the import reads (仓库, SKU, 在库, 预计到货), and upload an .xlsx or
.csv through :mod:`orderpilot.services.inventory.sheet_import` — the whole file or, if any row is
bad, nothing. A dry run checks every row and lists what would change, writing nothing.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from orderpilot.adapters.cell_safety import sheet_safe_row
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.adapters.spreadsheets import UnreadableSheet, sheet_from_bytes
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.times import SHANGHAI
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import InventoryManager, InventoryReader
from orderpilot.entrypoints.console.render import Console, ConsoleDep
from orderpilot.services.inventory import sheet_import as inventory_import
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.sync import LevelReport

router = APIRouter(prefix="/console")
MAX_UPLOAD = 5 * 1024 * 1024
SHOWN_ERRORS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Headers the import understands (services/inventory_import.HEADERS), with widths.
COLUMNS = (("仓库", 16), ("SKU", 22), ("在库", 10), ("预计到货", 14))


def current_levels(repo: InventoryRepository) -> list[dict[str, Any]]:
    """Every level as the sheet holds it (up to the import's limit, so a download can always
    be uploaded again)."""
    return [{"source": r.source, "sku": r.sku, "on_hand": r.on_hand,
             "expected_at": r.expected_at.isoformat() if r.expected_at else None}
            for r in repo.levels(limit=inventory_sync.MAX_LEVELS)]


def levels_workbook(levels: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one worksheet
    sheet.title = "库存"
    sheet.append(sheet_safe_row(header for header, _ in COLUMNS))
    for i, (_, width) in enumerate(COLUMNS):
        sheet.column_dimensions["ABCD"[i]].width = width
        sheet.cell(row=1, column=i + 1).font = Font(bold=True)
    for level in sorted(levels, key=lambda lv: (lv["source"], lv["sku"])):
        expected = date.fromisoformat(level["expected_at"]) if level["expected_at"] else None
        sheet.append(sheet_safe_row([level["source"], level["sku"], level["on_hand"],
                                       expected]))
        row = sheet.max_row
        sheet.cell(row=row, column=2).number_format = "@"  # a SKU like 0012 stays text
        sheet.cell(row=row, column=4).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@router.get("/inventory/levels.xlsx", name="console:inventory-levels-download")
def download_levels(request: Request, hub: HubDep, who: InventoryReader) -> Response:
    with hub.db.read() as conn:
        levels = current_levels(InventoryRepository(conn))
    day = hub.clock().astimezone(SHANGHAI).date().isoformat()
    ascii_name, chinese = f"inventory-levels-{day}.xlsx", f"库存-{day}.xlsx"
    return Response(levels_workbook(levels), media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(chinese)}"})


def preview(levels: list[LevelReport], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What applying ``levels`` would change: new levels and changed ones, in file order."""
    now = {(lv["source"], lv["sku"]): lv for lv in current}
    changes = []
    for level in levels:
        expected = level.expected_at.isoformat() if level.expected_at else None
        before = now.get((level.source, level.sku))
        if before is not None and (before["on_hand"], before["expected_at"]) == (
                level.on_hand, expected):
            continue
        changes.append({"source": level.source, "sku": level.sku, "on_hand": level.on_hand,
                        "expected_at": expected, "new": before is None,
                        "before": before["on_hand"] if before else None,
                        "before_expected_at": before["expected_at"] if before else None})
    return changes


def _result(request: Request, console: Console, status: int = 200, **upload: Any) -> Response:
    return console.render(request, "inventory.html", {"upload": upload}, blocks=["levels_upload"],
                          status=status)


@router.post("/inventory/levels/upload", name="console:inventory-levels-upload")
def upload_levels(request: Request, hub: HubDep, console: ConsoleDep, who: InventoryManager,
                  file: Annotated[UploadFile | None, File()] = None,
                  dry_run: Annotated[str, Form()] = "") -> Response:
    """Answers with the upload panel only (the form posts through HTMX, which carries the
    anti-forgery header a multipart body cannot)."""
    data = file.file.read(MAX_UPLOAD + 1) if file is not None else b""
    filename = (file.filename or "") if file is not None else ""
    if not data:
        return _result(request, console, 422,
                       error=console.translate(request, "Choose a file to upload."))
    if len(data) > MAX_UPLOAD:
        return _result(request, console, 422,
                       error=console.translate(request, "The file is larger than 5 MB."))
    if Path(filename).suffix.lower() not in (".xlsx", ".csv"):
        return _result(request, console, 422,
                       error=console.translate(request, "Upload an .xlsx or .csv file."))
    try:
        sheet = sheet_from_bytes(data, filename, inventory_import.SHEET_LIMITS)
    except UnreadableSheet as error:
        return _result(request, console, 422, error=console.say(request, error))
    with hub.db.read() as conn:
        repo = InventoryRepository(conn)
        known = [s.code for s in repo.sources()]
        current = current_levels(repo) if dry_run else []
    planned = inventory_import.plan(sheet.header, sheet.rows, known, None)
    shown: dict[str, Any] = {"filename": Path(filename).name,
                             "ignored": planned.ignored_columns}
    if planned.errors:
        return _result(request, console, 422, **shown, row_errors=planned.errors[:SHOWN_ERRORS],
                       error_count=len(planned.errors))
    if dry_run:
        return _result(request, console, **shown, dry_run=True, rows=len(planned.levels),
                       changes=preview(planned.levels, current))
    try:
        result = inventory_import.apply(planned, inventory_import.source_event_id(data, None),
                                        hub.uow, hub.clock, None)
    except OrderpilotError as error:
        return _result(request, console, 422, **shown, error=console.say(request, error))
    return _result(request, console, **shown, applied=True, rows=len(planned.levels),
                   changed=result["changes"], stale=result["stale"],
                   duplicate=result["duplicate"])
