"""Rule runs (what each rule did, step by step), replaying failed ones, and the messages rules
sent. Dead and failed runs are the rules' dead letters: they stand out here until replayed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.views import rules as reads
from orderpilot.adapters.views.rules import order_numbers
from orderpilot.domain.errors import InvalidInput, NotFound, OrderpilotError
from orderpilot.domain.times import EARLIEST, LATEST, SHANGHAI
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader, RuleManager
from orderpilot.entrypoints.console.i18n import ATTEMPTS, TRIGGER_KINDS
from orderpilot.entrypoints.console.i18n import RUN_STATUSES as I18N_RUN_STATUSES
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.entrypoints.console.rules import run_view
from orderpilot.entrypoints.console.rules.builder import catalogue
from orderpilot.entrypoints.console.rules.views import BuilderCatalogue
from orderpilot.services.rules import tools as rule_tools
from orderpilot.services.rules.actions import ActionTable

router = APIRouter(prefix="/console")
PAGE_SIZE = 50
RUN_STATUSES = ("pending", "succeeded", "failed", "dead", "skipped")
RUN_LABELS = I18N_RUN_STATUSES  # the catalogue's (i18n.LABELS)
ATTEMPT_LABELS = ATTEMPTS
FILTERS = ("rule", "version", "status", "order", "since", "until")


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not EARLIEST.year <= day.year < LATEST.year:  # +1 day must not overflow
        raise InvalidInput(f"{field}: a date like 2026-11-26", field=field,
                           zh=f"{field}：应为日期，如 2026-11-26")
    return day


def _query(filters: dict[str, str]) -> dict[str, Any]:
    """The form's text filters as runs_page arguments; dates are Beijing business days."""
    version = filters["version"]
    if version and not (version.isdigit() and int(version) >= 1):
        raise InvalidInput("version: a whole number from 1", field="version",
                           zh="version：应为从 1 开始的整数")
    if filters["status"] and filters["status"] not in RUN_STATUSES:
        raise InvalidInput(f"status: one of {', '.join(RUN_STATUSES)}", field="status",
                           zh=f"status：应为以下之一：{'、'.join(RUN_STATUSES)}")
    since, until = _day(filters["since"], "since"), _day(filters["until"], "until")
    return {"rule": filters["rule"] or None, "version": int(version) if version else None,
            "status": filters["status"] or None, "order": filters["order"] or None,
            "since": datetime.combine(since, time(), SHANGHAI) if since else None,
            "until": datetime.combine(until + timedelta(days=1), time(), SHANGHAI)
            if until else None}


def _runs_context(hub: HubDep, filters: dict[str, str], cursor: str) -> dict[str, Any]:
    error: InvalidInput | None = None  # shown in the user's language by the template
    items: list[dict[str, Any]] = []
    next_cursor: int | None = None
    with hub.db.read() as conn:
        rules = reads.rules_overview(conn)
        try:
            if cursor and not cursor.isdigit():
                raise InvalidInput("cursor: a run number", field="cursor",
                                   zh="cursor：应为运行编号")
            items, next_cursor = reads.runs_page(conn, **_query(filters),
                                                 cursor=int(cursor) if cursor else None,
                                                 limit=PAGE_SIZE)
        except InvalidInput as exc:
            error = exc
        numbers = order_numbers(conn, {i["order_id"] for i in items})
    query = {k: v for k, v in filters.items() if v}
    return {"nav": "rule-runs", "items": items, "filters": filters, "error": error,
            "rules": rules, "statuses": RUN_STATUSES, "run_labels": RUN_LABELS,
            "numbers": numbers, "first_page": bool(cursor), "trigger_kinds": TRIGGER_KINDS,
            "replayable": rule_tools.REPLAYABLE, "base_query": urlencode(query),
            "next_query": urlencode({**query, "cursor": next_cursor}) if next_cursor else None}


@router.get("/rule-runs", name="console:rule-runs")
def rule_runs(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
              rule: str = "", version: str = "", status: str = "", order: str = "",
              order_id: str = "", since: str = "", until: str = "",
              cursor: str = "") -> Response:
    """ORDER: an order's ID or channel order number (ORDER_ID: the same, from older links);
    RULE: a rule's key or a part of its name."""
    filters = {"rule": rule.strip()[:100], "version": version.strip(), "status": status,
               "order": (order or order_id).strip()[:64], "since": since, "until": until}
    context = _runs_context(hub, filters, cursor)
    partial = is_htmx(request) and request.headers.get("hx-target") == "results"
    return console.render(request, "rule_runs.html", context,
                          blocks=["results"] if partial else None,
                          status=422 if context["error"] else 200)


def _replay(hub: HubDep, run_ids: list[str], on: str) -> list[str]:
    made = rule_tools.replay(hub.uow, hub.clock, run_ids, on=on)
    for runner in hub.runners:
        runner.wake()
    return made


@router.post("/rule-runs/replay", name="console:rule-runs-replay")
def replay_selected(request: Request, hub: HubDep, console: ConsoleDep, who: RuleManager,
                    run_ids: Annotated[list[str] | None, Form()] = None,
                    on: Annotated[str, Form()] = "pinned",
                    back: Annotated[str, Form()] = "") -> Response:
    filters = {k: v for k, v in _parse_back(back).items() if k in FILTERS}
    notice = error = None
    status = 200
    try:
        if not run_ids:
            tick = console.translate(request, "Tick the runs to replay first.")
            raise InvalidInput(tick, field="run_ids", zh=tick)
        made = _replay(hub, list(run_ids), on)
        notice = console.translate(request, "%(n)d runs queued for replay.") % {"n": len(made)}
    except OrderpilotError as exc:
        error, status = console.say(request, exc), 404 if isinstance(exc, NotFound) else 422
    if not is_htmx(request) and error is None:
        return RedirectResponse(f"/console/rule-runs?{urlencode(filters)}", status_code=303)
    context = _runs_context(hub, {k: filters.get(k, "") for k in FILTERS}, "")
    context.update(notice=notice, error=error or context["error"])
    return console.render(request, "rule_runs.html", context,
                          blocks=["results"] if is_htmx(request) else None, status=status)


def _parse_back(back: str) -> dict[str, str]:
    return dict(parse_qsl(back[:2000]))


def present_run(run: dict[str, Any], cat: BuilderCatalogue,
                definition: dict[str, Any] | None) -> dict[str, Any]:
    """What the run page shows beyond the stored run: the trigger event and order pulled out
    of the context, the conditions' and steps' `if` rows, each step with its attempts."""
    context = run.get("context") or {}
    trace = run.get("trace") or {}
    steps, step_conditions = run_view.step_rows(cat, run, definition)
    return {**run, "event": context.get("event") or {}, "order": context.get("order") or {},
            "conditions": run_view.condition_rows(cat, trace.get("leaves") or []),
            "step_conditions": step_conditions, "expression": trace.get("expression"),
            "tables": trace.get("tables") or {}, "steps": steps,
            "replayable": run["status"] in rule_tools.REPLAYABLE}


@router.get("/rule-runs/{run_id}", name="console:rule-run")
def rule_run(request: Request, run_id: str, hub: HubDep, console: ConsoleDep,
             who: Reader) -> Response:
    with hub.db.read() as conn:
        run = reads.run_detail(conn, run_id)
        replays = reads.runs_page(conn, order_id=run["order_id"], limit=PAGE_SIZE)[0] \
            if run and run["order_id"] else []
        definition = reads.version_definition(conn, run["rule_id"], run["rule_version"]) \
            if run else None
    if run is None:
        return console.error(request, console.translate(request, "There is no rule run with "
                                                                 "this ID."), 404)
    later = [r for r in replays if r["replay_of"] == (run["replay_of"] or run["id"])
             and r["id"] != run["id"]]
    cat = catalogue(request, console, hub)
    return console.render(request, "rule_run.html", {
        "nav": "rule-runs", "run": present_run(run, cat, definition), "later_replays": later,
        "run_labels": RUN_LABELS, "attempt_labels": ATTEMPT_LABELS, "cat": cat,
        "step_states": run_view.STEP_STATES, "trigger_kinds": TRIGGER_KINDS})


@router.post("/rule-runs/{run_id}/replay", name="console:rule-run-replay")
def replay_one(request: Request, run_id: str, hub: HubDep, console: ConsoleDep,
               who: RuleManager, on: Annotated[str, Form()] = "pinned") -> Response:
    try:
        [made] = _replay(hub, [run_id], on)
    except OrderpilotError as exc:
        return console.error(request, console.say(request, exc),
                             404 if isinstance(exc, NotFound) else 422)
    target = str(request.app.url_path_for("console:rule-run", run_id=made))
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def describe_message(console: Console, request: Request, actions: ActionTable,
                     sent: dict[str, Any]) -> dict[str, Any]:
    """One sent message in words: channel, recipient (already masked), template and its
    parameters, as the action that sent it reads its stored request."""
    out: dict[str, Any] = {**sent, "to": "", "template": "", "sign_name": "", "params": {},
                           "text": ""}
    read_sent = actions.get(sent["action"]).read_sent if sent["action"] in actions else None
    if read_sent is None:
        return out
    message = read_sent(sent.get("request") or {})
    out.update(to=console.translate(request, "Group robot") if message.to_group
               else message.to, template=message.template, sign_name=message.sign_name,
               params=dict(message.params or {}), text=message.text)
    return out


@router.get("/messages", name="console:messages")
def messages(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
             kind: str = "") -> Response:
    kinds = hub.actions.message_types()
    with hub.db.read() as conn:
        sent = reads.sent_messages(conn, kinds, limit=200)
        numbers = order_numbers(conn, {m["order_id"] for m in sent})
    shown = [describe_message(console, request, hub.actions, m) for m in sent
             if not kind or m["action"] == kind]
    zh = console.locale(request) == "zh_CN"
    labels = {k: (a.message.zh if zh else a.message.en) for k, a in kinds.items()
              if a.message is not None}
    return console.render(request, "messages.html", {
        "nav": "messages", "messages": shown, "numbers": numbers, "kind": kind,
        "kinds": list(kinds), "message_labels": labels})
