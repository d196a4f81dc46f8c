"""Decision tables in the console (issue 3): the list, the grid editor with its version
history, the try panel, and Excel/CSV download and upload.

Grid operations (add/delete/move a row, add/remove a column) post the whole grid and get it
back redrawn, so an unsaved grid lives only in the browser until "Save as new version".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from orderpilot.adapters.spreadsheets import UnreadableSheet, sheet_bytes, sheet_from_bytes
from orderpilot.domain.access import allowed
from orderpilot.domain.decision_tables import NAME, VersionSummary, example_return_centres
from orderpilot.domain.errors import Conflict, InvalidInput, NotFound, OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader, RuleManager
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.entrypoints.console.rules.decision_grid import (
    MAX_FIELDS,
    GridErrors,
    GridForm,
    new_grid,
    place_error,
    read_grid,
    try_context,
)
from orderpilot.services.rules.decision_tables import SHEET_LIMITS, PublishedTable

# Versions are stored as 32-bit integers: a larger number is a 422 here, not a database error.
MAX_VERSION = 2**31 - 1
QueryVersion = Annotated[int | None, Query(ge=1, le=MAX_VERSION)]

router = APIRouter(prefix="/console")
MAX_UPLOAD = 5 * 1024 * 1024
HIT_POLICY_LABELS = {"first": N_("First matching row"),
                     "collect": N_("All matching rows (collect)")}
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EXAMPLE = "return_centres"


async def posted_form(request: Request) -> FormData:
    """The grid editor's form: one field per cell, so more than Starlette's default 1000."""
    return await request.form(max_fields=MAX_FIELDS)


GridPost = Annotated[FormData, Depends(posted_form)]


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _table_path(request: Request, name: str) -> str:
    return _root(request) + str(request.app.url_path_for("console:decision-table", name=name))


def _redirect(request: Request, target: str) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _list_context(hub: HubDep, **extra: Any) -> dict[str, Any]:
    tables = hub.decision_tables.summaries()
    return {"nav": "decision-tables", "tables": tables, "example": EXAMPLE,
            "example_missing": EXAMPLE not in {t["name"] for t in tables},
            "hit_policy_labels": HIT_POLICY_LABELS,
            "form": {"name": "", "title_zh": "", "title_en": "", "hit_policy": "first",
                     "inputs": [], "outputs": []}, **extra}


@router.get("/decision-tables", name="console:decision-tables")
def decision_tables(request: Request, hub: HubDep, console: ConsoleDep,
                    who: Reader) -> Response:
    return console.render(request, "decision_tables.html", _list_context(hub))


@router.post("/decision-tables", name="console:decision-table-create")
def create(request: Request, hub: HubDep, console: ConsoleDep, who: RuleManager,
           form: GridPost) -> Response:
    """Check the name and open the editor on the new columns; nothing is stored until the
    first save."""
    grid = new_grid(str(form.get("name", "")).strip()[:64], form)
    error, status = None, 422
    if not NAME.fullmatch(grid.name):
        error = console.translate(request, "The name must be 2-64 lower-case letters, digits "
                                           "or _ and start with a letter, like return_centres.")
    elif grid.name in hub.decision_tables.names():
        error, status = console.translate(
            request, "A decision table with this name already exists: open it from the list."), 409
    if error is not None:
        shown = {"name": grid.name, "title_zh": grid.title_zh, "title_en": grid.title_en,
                 "hit_policy": grid.hit_policy, "inputs": grid.inputs, "outputs": grid.outputs}
        return console.render(request, "decision_tables.html",
                              _list_context(hub, form=shown, error=error), status=status)
    return console.render(request, "decision_table.html",
                          _table_context(request, console, hub, grid.name, None, grid))


@router.post("/decision-tables/example", name="console:decision-table-example")
def create_example(request: Request, hub: HubDep, console: ConsoleDep,
                   who: RuleManager) -> Response:
    if EXAMPLE not in hub.decision_tables.names():
        hub.decision_tables.save(example_return_centres(), who.name,
                                 console.translate(request, "Example table"))
    return _redirect(request, _table_path(request, EXAMPLE))


def _table_context(request: Request, console: Console, hub: HubDep, name: str,
                   shown: PublishedTable | None, grid: GridForm, *,
                   editable: bool = True, **extra: Any) -> dict[str, Any]:
    current = None
    versions: list[VersionSummary] = []
    if name in hub.decision_tables.names():
        versions = hub.decision_tables.versions(name)
        current = versions[0]["version"]
    return {"nav": "decision-tables", "name": name, "grid": grid, "shown": shown,
            "current_version": current, "versions": versions, "editable": editable,
            "errors": GridErrors(), "reason": "", "notice": None,
            "hit_policy_labels": HIT_POLICY_LABELS, **extra}


@router.get("/decision-tables/{name}", name="console:decision-table")
def decision_table(request: Request, name: str, hub: HubDep, console: ConsoleDep,
                   who: Reader, version: QueryVersion = None, start_from: QueryVersion = None,
                   saved: QueryVersion = None) -> Response:
    """The current version in the editor (rules.manage), or any version read-only;
    ``start_from`` loads an earlier version into the editor to publish it again."""
    try:
        shown = hub.decision_tables.get(name, start_from or version)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no decision table (or version) with this name."), 404)
    manager = allowed(who.role, "rules.manage")
    editable = manager and (version is None or start_from is not None)
    notice = None
    if saved:
        notice = console.translate(request, "Saved as version %(n)d. Rules use it from now "
                                            "on.") % {"n": saved}
    return console.render(request, "decision_table.html", _table_context(
        request, console, hub, name, shown, GridForm.of(shown.table), editable=editable,
        notice=notice, started_from=start_from))


@router.post("/decision-tables/{name}", name="console:decision-table-edit")
def edit(request: Request, name: str, hub: HubDep, console: ConsoleDep, who: RuleManager,
         form: GridPost) -> Response:
    """A grid operation (``op``), or "save" to publish the grid as a new version."""
    op = str(form.get("op", ""))[:40]
    reason = str(form.get("reason", "")).strip()[:1000]
    try:
        grid = read_grid(name, form)
    except InvalidInput as error:
        return console.error(request, console.say(request, error), 422)
    errors, notice, status = GridErrors(), None, 200
    if op == "save":
        try:
            saved = hub.decision_tables.save(grid.table(), who.name, reason)
        except InvalidInput as error:
            errors = place_error(grid, error, hub.decision_tables.checker,
                                 lambda text: console.translate(request, text),
                                 lambda message: console.say(request, message))
            status = 422
        except Conflict as error:
            errors.summary.append(console.say(request, error))
            status = 409
        else:
            if saved.created:
                return _redirect(request, f"{_table_path(request, name)}?saved={saved.version}")
            notice = console.translate(request, "No change: the grid is the same as version "
                                                "%(n)d, so no new version was made.") % {
                "n": saved.version}
    else:
        grid.apply(op)
    context = _table_context(request, console, hub, name, None, grid, errors=errors,
                             notice=notice, reason=reason)
    return console.render(request, "decision_table.html", context,
                          blocks=["editor"] if is_htmx(request) else None, status=status)


@router.post("/decision-tables/{name}/try", name="console:decision-table-try")
def try_table(request: Request, name: str, hub: HubDep, console: ConsoleDep, who: Reader,
              path: Annotated[list[str] | None, Form()] = None,
              value: Annotated[list[str] | None, Form()] = None,
              version: Annotated[int | None, Form(ge=1, le=MAX_VERSION)] = None) -> Response:
    result, error, status = None, None, 200
    try:
        context = try_context(path or [], [v[:1000] for v in value or []])
        result = hub.decision_tables.evaluate(name, context, version=version, trace=True)
    except OrderpilotError as exc:
        error, status = console.say(request, exc), 404 if isinstance(exc, NotFound) else 422
    outputs = [] if result is None else (
        result.output if isinstance(result.output, list) else [result.output])
    page = {"result": result, "outputs": outputs, "try_error": error, "tried": True}
    if is_htmx(request):
        return console.render(request, "decision_table.html", {"name": name, **page},
                              blocks=["try_result"], status=status)
    try:
        shown = hub.decision_tables.get(name, version)
    except NotFound:
        return console.error(request, error or "", 404)
    return console.render(request, "decision_table.html", _table_context(
        request, console, hub, name, shown, GridForm.of(shown.table), editable=False, **page),
        status=status)


@router.get("/decision-tables/{name}/download.{fmt}", name="console:decision-table-download")
def download(request: Request, name: str, fmt: str, hub: HubDep, console: ConsoleDep,
             who: Reader, version: QueryVersion = None) -> Response:
    if fmt not in MEDIA:
        return console.error(request, console.translate(request, "Download as xlsx or csv."),
                             404)
    try:
        found = hub.decision_tables.get(name, version)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no decision table (or version) with this name."), 404)
    header, rows = hub.decision_tables.export_sheet(name, found.version)
    filename = f"{name}-v{found.version}.{fmt}"
    return Response(sheet_bytes(header, rows, fmt, name), media_type=MEDIA[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; "
                               f"filename*=UTF-8''{quote(filename)}"})


@router.post("/decision-tables/{name}/upload", name="console:decision-table-upload")
def upload(request: Request, name: str, hub: HubDep, console: ConsoleDep, who: RuleManager,
           file: Annotated[UploadFile | None, File()] = None,
           reason: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """Publish an .xlsx, .csv or JDM .json file; errors name the row of the sheet."""
    tables = hub.decision_tables
    error: str | None = None
    data = file.file.read(MAX_UPLOAD + 1) if file is not None else b""
    filename = (file.filename or "") if file is not None else ""
    suffix = Path(filename).suffix.lower()
    if not data:
        error = console.translate(request, "Choose a file to upload.")
    elif len(data) > MAX_UPLOAD:
        error = console.translate(request, "The file is larger than 5 MB.")
    elif suffix not in (".xlsx", ".csv", ".json"):
        error = console.translate(request, "Upload an .xlsx, .csv or JDM .json file.")
    else:
        try:
            if suffix == ".json":
                saved = tables.import_jdm(data, name, who.name, reason)
            else:
                sheet = sheet_from_bytes(data, filename, SHEET_LIMITS)
                saved = tables.import_sheet(sheet.header, sheet.rows, name, who.name, reason)
        except UnreadableSheet as exc:
            error = console.say(request, exc)
        except OrderpilotError as exc:
            error = exc.message
        else:
            target = _table_path(request, name)
            if saved.created or not is_htmx(request):
                return _redirect(request, f"{target}?saved={saved.version}" if saved.created
                                 else target)
            return console.render(request, "decision_table.html", {
                "name": name, "upload_notice": console.translate(
                    request, "No change: the file holds the same grid as version %(n)d.") % {
                    "n": saved.version}}, blocks=["upload"])
    page = {"name": name, "upload_error": error}
    if is_htmx(request):
        return console.render(request, "decision_table.html", page, blocks=["upload"],
                              status=422)
    return console.error(request, error or "", 422)
