"""退货中心 and 退货政策: the return centres and the outlet -> centre table ops keep (S7).

The policy page is a table editor: every row an outlet and its centre, blank rows to add,
a box to remove a row; saving replaces the table as a new version (or, with any row wrong,
changes nothing and shows each problem on its row). An .xlsx/.csv upload does the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.spreadsheets import UnreadableSheet, sheet_from_bytes
from orderpilot.adapters.views import return_policy as views
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.return_routing import ADDRESS_FIELDS, ReturnPolicyInvalid
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader, ReturnPolicyManager
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.services.returns_routing import registers

router = APIRouter(prefix="/console/returns")
BLANK_ROWS = 3
MAX_UPLOAD = 5 * 1024 * 1024


@router.get("/centres", name="console:return-centres")
def centres_page(request: Request, hub: HubDep, console: ConsoleDep, who: Reader) -> Response:
    return _centres(request, hub, console)


def _centres(request: Request, hub: HubDep, console: Console, *, error: str | None = None,
             form: dict[str, str] | None = None, status: int = 200) -> Response:
    with hub.db.read() as conn:
        items = views.centres(conn)
    return console.render(request, "return_centres.html", {
        "nav": "diagnosis", "items": items, "error": error, "form": form or {},
        "address_fields": ADDRESS_FIELDS}, status=status)


@router.post("/centres", name="console:return-centre-save")
def save_centre(request: Request, hub: HubDep, console: ConsoleDep, who: ReturnPolicyManager,
                code: Annotated[str, Form(max_length=64)] = "",
                name_zh: Annotated[str, Form(max_length=200)] = "",
                name_en: Annotated[str, Form(max_length=200)] = "",
                phone: Annotated[str, Form(max_length=32)] = "",
                country: Annotated[str, Form(max_length=200)] = "CN",
                province: Annotated[str, Form(max_length=200)] = "",
                city: Annotated[str, Form(max_length=200)] = "",
                district: Annotated[str, Form(max_length=200)] = "",
                line1: Annotated[str, Form(max_length=200)] = "",
                postal_code: Annotated[str, Form(max_length=200)] = "") -> Response:
    address = {"country": country, "province": province, "city": city, "district": district,
               "line1": line1, "postal_code": postal_code}
    form = {"code": code, "name_zh": name_zh, "name_en": name_en, "phone": phone, **address}
    try:
        registers.put_centre(hub.uow, hub.clock, code.strip(), {
            "name_zh": name_zh, "name_en": name_en, "phone": phone, "address": address},
            who.name)
    except OrderpilotError as exc:
        said = console.say(request, exc)
        return _centres(request, hub, console, error=f"{exc.field}: {said}" if exc.field
                        else said, form=form, status=422)
    return RedirectResponse(str(request.app.url_path_for("console:return-centres")),
                            status_code=303)


@router.get("/policy", name="console:return-policy")
def policy_page(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
                version: int | None = None) -> Response:
    return _policy(request, hub, console, version=version)


def _policy(request: Request, hub: HubDep, console: Console, *, version: int | None = None,
            rows: list[dict[str, Any]] | None = None, problems: dict[int, list[str]] | None
            = None, error: str | None = None, status: int = 200) -> Response:
    with hub.db.read() as conn:
        policy = views.policy(conn, version)
        centres = views.centres(conn)
    shown = rows if rows is not None else policy["rows"]
    return console.render(request, "return_policy.html", {
        "nav": "diagnosis", "policy": policy, "centres": centres,
        "rows": [*shown, *({"outlet_code": "", "return_centre": ""}
                           for _ in range(BLANK_ROWS))],
        "problems": problems or {}, "error": error,
        "editing": version is None or version == policy["current_version"]}, status=status)


@router.post("/policy", name="console:return-policy-save")
async def save_policy(request: Request, hub: HubDep, console: ConsoleDep,
                      who: ReturnPolicyManager) -> Response:
    form = await request.form()
    outlets, centres = form.getlist("outlet_code"), form.getlist("return_centre")
    removed = {str(v) for v in form.getlist("remove")}
    rows = [{"outlet_code": str(o).strip(), "return_centre": str(c).strip()}
            for i, (o, c) in enumerate(zip(outlets, centres, strict=False))
            if str(i) not in removed and (str(o).strip() or str(c).strip())]
    try:
        registers.replace_policy(hub.uow, hub.clock, rows, who.name)
    except ReturnPolicyInvalid as exc:
        by_row: dict[int, list[str]] = {}
        for problem in exc.problems:
            head = problem.field.split(".", 1)[0].removeprefix("rows[").removesuffix("]")
            text = problem.in_language(console.locale(request))
            by_row.setdefault(int(head) if head.isdigit() else -1, []).append(text)
        return _policy(request, hub, console, rows=rows, problems=by_row,
                       error=console.say(request, exc), status=422)
    return RedirectResponse(str(request.app.url_path_for("console:return-policy")),
                            status_code=303)


@router.post("/policy/upload", name="console:return-policy-upload")
def upload_policy(request: Request, hub: HubDep, console: ConsoleDep, who: ReturnPolicyManager,
                  file: Annotated[UploadFile | None, File()] = None) -> Response:
    data = file.file.read(MAX_UPLOAD + 1) if file is not None else b""
    filename = Path((file.filename or "") if file is not None else "").name
    if not data or Path(filename).suffix.lower() not in (".xlsx", ".csv"):
        return _policy(request, hub, console, status=422, error=console.translate(
            request, "Upload an .xlsx or .csv file."))
    if len(data) > MAX_UPLOAD:
        return _policy(request, hub, console, status=422, error=console.translate(
            request, "The file is larger than 5 MB."))
    try:
        sheet = sheet_from_bytes(data, filename, registers.SHEET_LIMITS)
        registers.import_policy(hub.uow, hub.clock, filename, sheet.header, sheet.rows,
                                who.name)
    except UnreadableSheet as exc:
        return _policy(request, hub, console, status=422, error=console.say(request, exc))
    except ReturnPolicyInvalid as exc:
        lines = [f"{p.field}: {p.in_language(console.locale(request))}" for p in exc.problems]
        return _policy(request, hub, console, status=422, error="；".join(lines[:50]))
    target = str(request.app.url_path_for("console:return-policy"))
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
