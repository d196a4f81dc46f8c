"""The rules list with run counts, enable / pause / archive, the template library, and
rolling a rule back to an earlier version (the builder itself is in rules_builder.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.views import rules as reads
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.rules.templates import TEMPLATES
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader, RuleManager
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.entrypoints.console.rules.builder import edit_url, go
from orderpilot.entrypoints.console.rules.views import RULE_STATUSES, RUN_STATUSES

router = APIRouter(prefix="/console")
STATUS_ACTIONS = {"enabled": ("paused", "archived"), "paused": ("enabled", "archived"),
                  "draft": ("archived",), "archived": ()}


def list_context(request: Request, console: Console, hub: Hub) -> dict[str, Any]:
    with hub.db.read() as conn:
        rules = reads.rules_overview(conn)
    gettext = console.translations[console.locale(request)].gettext
    return {"nav": "rules", "rules": rules, "templates": TEMPLATES,
            "status_actions": STATUS_ACTIONS,
            "rule_statuses": {k: gettext(v) for k, v in RULE_STATUSES.items()},
            "run_statuses": {k: gettext(v) for k, v in RUN_STATUSES.items()}}


def show_list(request: Request, console: Console, hub: Hub, *, notice: str | None = None,
              error: str | None = None, status: int = 200) -> Response:
    context = list_context(request, console, hub)
    context.update(notice=notice, error=error)
    return console.render(request, "rules.html", context, status=status,
                          blocks=["rules_table"] if is_htmx(request) else None)


@router.get("/rules", name="console:rules")
def rules(request: Request, hub: HubDep, console: ConsoleDep, who: Reader) -> Response:
    return show_list(request, console, hub)


@router.post("/rules/{rule_id}/status", name="console:rule-status")
def set_status(request: Request, rule_id: str, hub: HubDep, console: ConsoleDep,
               who: RuleManager, status: Annotated[str, Form()] = "") -> Response:
    try:
        hub.rules.set_status(rule_id, status, who.name)
    except OrderpilotError as exc:
        return show_list(request, console, hub, error=console.say(request, exc), status=409)
    if not is_htmx(request):
        return RedirectResponse("/console/rules", status_code=303)
    return show_list(request, console, hub,
                     notice=console.translate(request, "The rule's status is changed."))


@router.post("/rules/templates/{template_id}/install", name="console:rule-install")
def install(request: Request, template_id: str, hub: HubDep, console: ConsoleDep,
            who: RuleManager, enable: Annotated[str, Form()] = "") -> Response:
    try:
        rule_id = hub.rules.install_template(template_id, who.name, enable=enable == "on")
    except OrderpilotError as exc:
        return show_list(request, console, hub, error=console.say(request, exc), status=409)
    return go(request, edit_url(request, rule_id, "installed"))


@router.post("/rules/{rule_id}/rollback", name="console:rule-rollback")
def rollback(request: Request, rule_id: str, hub: HubDep, console: ConsoleDep,
             who: RuleManager, version: Annotated[int, Form(ge=1)],
             reason: Annotated[str, Form(max_length=1000)] = "") -> Response:
    try:
        hub.rules.rollback(rule_id, version, who.name, reason.strip())
    except OrderpilotError as exc:
        return console.error(request, console.say(request, exc), 409)
    return go(request, edit_url(request, rule_id, "rolled_back"))
