"""/api/v1/decision-tables: named, versioned grids that rules consult."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import Field

from orderpilot.adapters.spreadsheets import UnreadableSheet, sheet_bytes, sheet_from_bytes
from orderpilot.adapters.views.orders import iso
from orderpilot.domain.decision_formats import sheet_text
from orderpilot.domain.decision_tables import MAX_CELL, MAX_COLUMNS, MAX_ROWS, Column
from orderpilot.domain.decision_tables import DecisionTable as Grid
from orderpilot.domain.errors import InvalidInput
from orderpilot.entrypoints.api.deps import CanManageRules, CanReadOrders, HubDep
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services.rules.decision_tables import SHEET_LIMITS, PublishedTable, Saved

router = APIRouter(prefix="/api/v1/decision-tables", tags=["decision tables"])
MAX_UPLOAD = 5 * 1024 * 1024
Label = Annotated[str, Field(max_length=200)]
Cell = Annotated[str, Field(max_length=MAX_CELL)] | int | float | bool | None
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class ColumnIn(Strict):
    field: Annotated[str, Field(min_length=1, max_length=200,
                                examples=["event.data.outlet_code"])]
    label: Label = ""


class TableIn(Strict):
    title_zh: Label = ""
    title_en: Label = ""
    description: Annotated[str, Field(max_length=2000)] = ""
    hit_policy: Literal["first", "collect"] = "first"
    inputs: Annotated[list[ColumnIn], Field(min_length=1, max_length=MAX_COLUMNS)]
    outputs: Annotated[list[ColumnIn], Field(min_length=1, max_length=MAX_COLUMNS)]
    rows: Annotated[list[Annotated[list[Cell], Field(max_length=2 * MAX_COLUMNS)]],
                    Field(max_length=MAX_ROWS)] = []
    reason: Annotated[str, Field(max_length=1000)] = ""

    def grid(self, name: str) -> Grid:
        return Grid(name=name, title_zh=self.title_zh, title_en=self.title_en,
                    hit_policy=self.hit_policy,
                    inputs=[Column(c.field, c.label) for c in self.inputs],
                    outputs=[Column(c.field, c.label) for c in self.outputs],
                    rows=[[sheet_text(cell) for cell in row] for row in self.rows],
                    description=self.description)


def present(found: PublishedTable) -> dict[str, Any]:
    t = found.table
    return {"name": t.name, "version": found.version, "title_zh": t.title_zh,
            "title_en": t.title_en, "description": t.description, "hit_policy": t.hit_policy,
            "inputs": [{"field": c.field, "label": c.label} for c in t.inputs],
            "outputs": [{"field": c.field, "label": c.label} for c in t.outputs],
            "rows": t.rows, "published_by": found.published_by,
            "published_at": iso(found.published_at), "reason": found.reason}


def _saved(hub: HubDep, name: str, saved: Saved) -> dict[str, Any]:
    return {**present(hub.decision_tables.get(name, saved.version)), "created": saved.created}


@router.get("", summary="All decision tables, by name")
def list_tables(hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    items = [{**t, "created_at": iso(t["created_at"]), "updated_at": iso(t["updated_at"])}
             for t in hub.decision_tables.summaries()]
    return {"items": items}


@router.get("/{name}", summary="One table: the current version, or ?version=")
def get_table(name: str, hub: HubDep, who: CanReadOrders,
              version: Version = None) -> dict[str, Any]:
    return present(hub.decision_tables.get(name, version))


@router.get("/{name}/versions", summary="Who published each version, when and why")
def versions(name: str, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    items = [{**v, "published_at": iso(v["published_at"])}
             for v in hub.decision_tables.versions(name)]
    return {"items": items}


@router.put("/{name}", summary="Publish a new version (unchanged content keeps the version)")
def put_table(name: str, body: TableIn, hub: HubDep, who: CanManageRules) -> dict[str, Any]:
    saved = hub.decision_tables.save(body.grid(name), who.name, body.reason)
    return _saved(hub, name, saved)


@router.post("/{name}/evaluate", summary="Try the table on a context; shows the rows that matched")
def evaluate(name: str, hub: HubDep, who: CanReadOrders,
             context: Annotated[dict[str, Any], Body(examples=[
                 {"event": {"data": {"outlet_code": "SZ01"}}}])],
             version: Version = None) -> dict[str, Any]:
    result = hub.decision_tables.evaluate(name, context, version=version, trace=True)
    return {"name": result.name, "version": result.version, "output": result.output,
            "matched": result.matched}


@router.get("/{name}/export", summary="The grid as .xlsx or .csv (import it back unchanged)")
def export(name: str, hub: HubDep, who: CanReadOrders,
           format: Literal["xlsx", "csv"] = "xlsx", version: Version = None) -> Response:
    found = hub.decision_tables.get(name, version)
    header, rows = hub.decision_tables.export_sheet(name, found.version)
    data = sheet_bytes(header, rows, format, name)
    media = ("text/csv; charset=utf-8" if format == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    filename = f"{name}-v{found.version}.{format}"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/{name}/import", summary="Publish from an .xlsx, .csv or JDM .json file")
def import_file(name: str, hub: HubDep, who: CanManageRules,
                file: Annotated[UploadFile, File(description=".xlsx, .csv or JDM .json")],
                reason: Annotated[str, Form(max_length=1000)] = "",
                hit_policy: Annotated[Literal["first", "collect"] | None, Form()] = None
                ) -> dict[str, Any]:
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("the file is larger than 5 MB", field="file",
                           zh="文件超过 5 MB")
    filename = file.filename or "upload"
    tables = hub.decision_tables
    if Path(filename).suffix.lower() == ".json":
        saved = tables.import_jdm(data, name, who.name, reason)
    else:
        try:
            sheet = sheet_from_bytes(data, filename, SHEET_LIMITS)
        except UnreadableSheet as error:
            raise InvalidInput(str(error), field="file", code="unreadable_sheet",
                               zh=error.message_zh) from error
        saved = tables.import_sheet(sheet.header, sheet.rows, name, who.name, reason,
                                    hit_policy=hit_policy)
    return _saved(hub, name, saved)
