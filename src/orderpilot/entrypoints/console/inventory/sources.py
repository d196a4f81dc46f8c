"""Stock sources in the console (S5): the list with each source's kind, lead times, reservation
hours, sync schedule and thresholds; a form that adds or changes a source with the same fields
as ``PUT /api/v1/inventory/sources/{code}``; and "pull now" for sources the WMS is pulled for.

A source's code is its identity (levels, reservations and sync runs point at it), so the edit
form cannot rename it. The form is checked here field by field, in the user's language, before
the domain checks it again.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain import inventory as inv
from orderpilot.domain import sync_schedule as schedules
from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import InventoryManager, InventoryReader
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.services.inventory import pull as inventory_pull
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.pull import InventoryPuller

router = APIRouter(prefix="/console")
SCHEDULE_CHOICES = {"manual": N_("Manual: only when a system reports or someone pulls"),
                    "seconds": N_("Within seconds (pulled every 15 s)"),
                    "every_n": N_("Every N seconds"),
                    "every_5_minutes": N_("Every 5 minutes"),
                    "daily_0200": N_("Daily at 02:00 (Beijing time)")}
FIELD_LABELS = {"code": N_("Code"), "kind": N_("Kind"), "name_zh": N_("Chinese name"),
                "name_en": N_("English name"), "region": N_("Place / region"),
                "lead_time_days": N_("Lead time (days)"),
                "lead_times": N_("Lead time per destination region"),
                "reservation_ttl_hours": N_("Reservation hours"),
                "sync_schedule": N_("Sync"), "safety_stock": N_("Safety stock"),
                "low_threshold": N_("Low-stock threshold")}


def schedule_words(console: Console, request: Request, schedule: str) -> str:
    seconds = schedules.interval_seconds(schedule)
    if schedule in SCHEDULE_CHOICES:
        return console.translate(request, SCHEDULE_CHOICES[schedule])
    if seconds is not None:
        return console.translate(request, "Every %(n)d seconds") % {"n": seconds}
    return schedule


@dataclass
class SourceForm:
    """What the form posted, kept as typed so a refused form comes back as it was sent."""

    code: str = ""
    kind: str = "bonded_spot"
    name_zh: str = ""
    name_en: str = ""
    region: str = ""
    lead_time_days: str = "1"
    lead_times: str = ""
    reservation_ttl_hours: str = str(inv.DEFAULT_TTL_HOURS)
    sync_kind: str = "manual"
    sync_seconds: str = ""
    safety_stock: str = "0"
    low_threshold: str = "0"
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, source: inv.Source) -> SourceForm:
        seconds = schedules.interval_seconds(source.sync_schedule)
        named = source.sync_schedule in SCHEDULE_CHOICES
        return cls(source.code, source.kind, source.name_zh, source.name_en, source.region,
                   str(source.lead_time_days),
                   "\n".join(f"{region}={days}" for region, days in source.lead_times.items()),
                   str(source.reservation_ttl_hours),
                   source.sync_schedule if named else "every_n",
                   "" if named or seconds is None else str(seconds),
                   str(source.safety_stock), str(source.low_threshold))

    def source(self, console: Console, request: Request) -> inv.Source | None:
        """The source this form describes, or None with ``errors`` filled per field."""
        def say(message: str, **values: Any) -> str:
            text = console.translate(request, message)
            return text % values if values else text

        def whole(name: str, low: int, high: int) -> int:
            """Read a typed number; its range is the domain's to check (and to report)."""
            text = str(getattr(self, name)).strip().replace(",", "")
            if text.isdigit():
                return int(text)
            self.errors[name] = say(N_("Enter a whole number from %(low)d to %(high)d."),
                                    low=low, high=high)
            return low

        numbers = {name: whole(name, low, high)
                   for name, (low, high) in inv.SOURCE_NUMBERS.items()}
        schedule = self.sync_kind
        if self.sync_kind == "every_n":
            self.sync_seconds = self.sync_seconds.strip()
            seconds = whole("sync_seconds", schedules.MIN_SECONDS, schedules.MAX_SECONDS)
            if not schedules.MIN_SECONDS <= seconds <= schedules.MAX_SECONDS \
                    and "sync_seconds" not in self.errors:
                self.errors["sync_seconds"] = say(
                    N_("Enter a whole number from %(low)d to %(high)d."),
                    low=schedules.MIN_SECONDS, high=schedules.MAX_SECONDS)
            schedule = f"every_{seconds}s"
        elif self.sync_kind not in SCHEDULE_CHOICES:
            self.errors["sync_schedule"] = say(N_("Choose one of the options."))
        lead_times = self._lead_times(say)
        fields = {"code": self.code, "kind": self.kind, "name_zh": self.name_zh,
                  "name_en": self.name_en, "region": self.region, "lead_times": lead_times,
                  "sync_schedule": schedule, **numbers}
        for problem in inv.source_problems(fields):
            name = problem.field.split(".")[0]
            name = name if name in FIELD_LABELS else "form"
            if name not in self.errors and not (name == "sync_schedule"
                                                and "sync_seconds" in self.errors):
                self.errors[name] = self._say(problem, say)
        if self.errors:
            return None
        return inventory_sync.build_source(**fields)

    @staticmethod
    def _say(problem: inv.SourceProblem, say: Any) -> str:
        """The domain's problem in the console's words."""
        if problem.rule == "code":
            return str(say(N_("1 to 64 letters, digits, _ . or -, starting with "
                              "a letter or digit, e.g. NB-BONDED.")))
        if problem.rule in ("choice", "schedule"):
            return str(say(N_("Choose one of the options.")))
        if problem.rule == "name":
            return str(say(N_("Required; at most %(n)d characters."), n=problem.high))
        if problem.rule == "text":
            return str(say(N_("At most %(n)d characters."), n=problem.high))
        if problem.rule == "whole":
            return str(say(N_("Enter a whole number from %(low)d to %(high)d."),
                           low=problem.low, high=problem.high))
        if problem.rule == "too_many":
            return str(say(N_("At most %(n)d regions."), n=problem.high))
        return problem.message

    def _lead_times(self, say: Any) -> dict[str, int]:
        """One destination per line, ``region=days`` (``:`` and full-width signs also do)."""
        found: dict[str, int] = {}
        lines = [line.strip() for line in self.lead_times.splitlines()]
        for number, line in enumerate(lines, start=1):
            if not line:
                continue
            region, sign, days = line.replace("：", "=").replace("＝", "=") \
                .replace(":", "=").rpartition("=")
            region, days = region.strip(), days.strip()
            if not sign or not region or len(region) > inv.MAX_NAME or not days.isdigit() \
                    or int(days) > inv.MAX_COUNT:
                self.errors["lead_times"] = say(N_("Line %(n)d: write region=days, e.g. 上海=1."),
                                                n=number)
                return {}
            if region in found:
                self.errors["lead_times"] = say(N_("Line %(n)d: %(region)s is listed twice."),
                                                n=number, region=region)
                return {}
            found[region] = int(days)
        return found


def _views(console: Console, request: Request, hub: Hub) -> tuple[list[dict[str, Any]],
                                                                  list[dict[str, Any]]]:
    with hub.db.read() as conn:
        repo = InventoryRepository(conn)
        sources = inventory_sync.list_source_views(repo)
        runs = inventory_sync.list_sync_runs(repo, limit=20)
    for s in sources:
        schedule = str(s["sync_schedule"])
        s["schedule_words"] = schedule_words(console, request, schedule)
        s["pulls"] = schedules.pulls(schedule)
    return sources, runs


def _page(request: Request, hub: Hub, console: Console, form: SourceForm, *, editing: bool,
          notice: str | None = None, status: int = 200, **extra: Any) -> Response:
    sources, runs = _views(console, request, hub)
    partial = is_htmx(request) and request.headers.get("hx-target") == "source-runs"
    return console.render(request, "inventory_sources.html", {
        "nav": "inventory", "sources": sources, "runs": runs, "form": form,
        "editing": editing, "notice": notice, "kinds": inv.SOURCE_KINDS,
        "schedule_choices": SCHEDULE_CHOICES, "labels": FIELD_LABELS,
        "min_seconds": schedules.MIN_SECONDS, "max_seconds": schedules.MAX_SECONDS, **extra},
        status=status, blocks=["runs"] if partial else None)


def _back(code: str, **params: str) -> str:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return f"/console/inventory/sources?{query}#source-{quote(code, safe='')}"


@router.get("/inventory/sources", name="console:inventory-sources")
def sources_page(request: Request, hub: HubDep, console: ConsoleDep, who: InventoryReader,
                 edit: str = "", saved: str = "", run: str = "", queued: str = "") -> Response:
    form, editing, notice = SourceForm(), False, None
    if edit:
        with hub.db.read() as conn:
            found = InventoryRepository(conn).source(edit[:64])
        if found is None:
            return console.error(request, console.translate(request, "There is no such source."),
                                 404)
        form, editing = SourceForm.of(found), True
    if saved:
        notice = console.translate(request, "Source %(code)s saved.") % {"code": saved[:64]}
    if queued:
        notice = console.translate(request, "Pull of %(code)s queued: the sync run appears "
                                            "below within seconds.") % {"code": queued[:64]}
    return _page(request, hub, console, form, editing=editing, notice=notice,
                 highlight=run[:64])


Text = Annotated[str, Form(max_length=2000)]


def _posted(code: str, kind: str, name_zh: str, name_en: str, region: str,
            lead_time_days: str, lead_times: str, reservation_ttl_hours: str, sync_kind: str,
            sync_seconds: str, safety_stock: str, low_threshold: str) -> SourceForm:
    return SourceForm(code.strip(), kind, name_zh.strip(), name_en.strip(), region.strip(),
                      lead_time_days, lead_times, reservation_ttl_hours, sync_kind,
                      sync_seconds, safety_stock, low_threshold)


def _save(request: Request, hub: Hub, console: Console, form: SourceForm, *,
          editing: bool) -> Response:
    source = form.source(console, request)
    if source is not None:
        with hub.db.read() as conn:
            exists = InventoryRepository(conn).source(source.code) is not None
        if exists and not editing:
            form.errors["code"] = console.translate(
                request, "A source with this code already exists: edit it in the list.")
            return _page(request, hub, console, form, editing=editing, status=409)
        inventory_sync.put_source(source, hub.uow, hub.clock)
        return RedirectResponse(_back(source.code, saved=source.code), status_code=303)
    return _page(request, hub, console, form, editing=editing, status=422)


@router.post("/inventory/sources", name="console:inventory-source-create")
def create_source(request: Request, hub: HubDep, console: ConsoleDep, who: InventoryManager,
                  code: Text = "", kind: Text = "", name_zh: Text = "", name_en: Text = "",
                  region: Text = "", lead_time_days: Text = "", lead_times: Text = "",
                  reservation_ttl_hours: Text = "", sync_kind: Text = "manual",
                  sync_seconds: Text = "", safety_stock: Text = "",
                  low_threshold: Text = "") -> Response:
    form = _posted(code, kind, name_zh, name_en, region, lead_time_days, lead_times,
                   reservation_ttl_hours, sync_kind, sync_seconds, safety_stock, low_threshold)
    return _save(request, hub, console, form, editing=False)


@router.post("/inventory/sources/{code}", name="console:inventory-source-edit")
def edit_source(request: Request, code: str, hub: HubDep, console: ConsoleDep,
                who: InventoryManager, kind: Text = "", name_zh: Text = "",
                name_en: Text = "", region: Text = "", lead_time_days: Text = "",
                lead_times: Text = "", reservation_ttl_hours: Text = "",
                sync_kind: Text = "manual", sync_seconds: Text = "", safety_stock: Text = "",
                low_threshold: Text = "") -> Response:
    with hub.db.read() as conn:
        if InventoryRepository(conn).source(code) is None:
            return console.error(request, console.translate(request, "There is no such source."),
                                 404)
    # The code comes from the address only: a posted "code" field cannot rename a source.
    form = _posted(code, kind, name_zh, name_en, region, lead_time_days, lead_times,
                   reservation_ttl_hours, sync_kind, sync_seconds, safety_stock, low_threshold)
    return _save(request, hub, console, form, editing=True)


@router.post("/inventory/sources/{code}/pull", name="console:inventory-source-pull")
def pull_now(request: Request, code: str, hub: HubDep, console: ConsoleDep,
             who: InventoryManager) -> Response:
    """Queue the pull for this process's puller thread when it runs (the request does not
    wait on the WMS); otherwise pull here as ``orderpilot inventory pull`` does, bounded by
    the connectors' outbound timeout."""
    with hub.db.read() as conn:
        source = InventoryRepository(conn).source(code)
    if source is None:
        return console.error(request, console.translate(request, "There is no such source."),
                             404)
    if not schedules.pulls(source.sync_schedule):
        return console.error(request, console.translate(
            request, "This source is not pulled: its sync is manual."), 409)
    if hub.pulls_stock:
        inventory_pull.request_pulls(hub.uow, hub.clock, [code])
        return RedirectResponse(_back(code, queued=code), status_code=303)
    worker = f"{socket.gethostname()}:{os.getpid()}:console-pull"
    try:
        [outcome] = InventoryPuller(hub.uow, hub.connectors, hub.clock, worker).pull_now([code])
    except OrderpilotError as error:
        return console.error(request, console.say(request, error), 409)
    return RedirectResponse(_back(code, run=outcome.run_id or ""), status_code=303)
