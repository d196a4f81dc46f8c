"""The rules list with run counts, enable / pause / archive, the guided template gallery (pick a
template, answer its few questions, publish), and rolling a rule back to an earlier version
(the builder itself is in builder.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.views import rules as reads
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import NotFound, OrderpilotError
from orderpilot.domain.intake import CHANNELS as CHANNEL_CODES
from orderpilot.domain.rules.overlap import RuleOverlap
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.domain.rules.templates import TEMPLATE_BY_ID, TEMPLATES, RuleTemplate
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader, RuleManager
from orderpilot.entrypoints.console.i18n import CHANNELS
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.entrypoints.console.rules.builder import Posted, edit_url, go, one
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


# -- the guided gallery ---------------------------------------------------------------------

def blank_choices(console: Console, request: Request, kind: str,
                  choices: tuple[str, ...]) -> list[tuple[str, str]]:
    """(value, label) of a blank's choices: channels by their names, currencies by code."""
    if kind == "source":
        return [(c, console.translate(request, CHANNELS.get(c, c))) for c in CHANNEL_CODES
                if c in choices]
    return [(c, c) for c in choices]


def show_template(request: Request, console: Console, template: RuleTemplate, *,
                  answers: dict[str, str] | None = None, name: str = "",
                  errors: dict[str, list[str]] | None = None, error: str | None = None,
                  overlaps: list[dict[str, Any]] | None = None, status: int = 200) -> Response:
    zh = console.locale(request) == "zh_CN"
    blanks = [{"id": b.id, "label": b.zh if zh else b.en, "kind": b.kind,
               "value": (answers or {}).get(b.id, "" if b.default is None else str(b.default)),
               "choices": blank_choices(console, request, b.kind, b.choices)}
              for b in template.blanks]
    return console.render(request, "rule_template.html", {
        "nav": "rules", "template": template, "blanks": blanks,
        "name": name or (template.zh if zh else template.en),
        "errors": errors or {}, "error": error, "overlaps": overlaps or []}, status=status)


def find_template(template_id: str) -> RuleTemplate:
    template = TEMPLATE_BY_ID.get(template_id)
    if template is None:
        raise NotFound(f"no rule template {template_id!r}", field="template_id",
                       zh=f"没有规则模板 {template_id!r}")
    return template


@router.get("/rules/templates/{template_id}", name="console:rule-template")
def template_page(request: Request, template_id: str, console: ConsoleDep,
                  who: Reader) -> Response:
    try:
        template = find_template(template_id)
    except NotFound as exc:
        return console.error(request, console.say(request, exc), 404)
    return show_template(request, console, template)


@router.post("/rules/templates/{template_id}", name="console:rule-from-template")
def from_template(request: Request, template_id: str, hub: HubDep, console: ConsoleDep,
                  who: RuleManager, pairs: Posted) -> Response:
    """A rule from the template and the answers: a draft, or (``publish``) published and
    enabled. Another rule acting the same way stops the publish until ``confirm_overlap``."""
    try:
        template = find_template(template_id)
    except NotFound as exc:
        return console.error(request, console.say(request, exc), 404)
    answers = {b.id: one(pairs, f"answer-{b.id}") for b in template.blanks}
    name, publish = one(pairs, "name"), one(pairs, "publish") == "yes"
    try:
        rule_id = hub.rules.create_from_template(
            template.id, {k: v for k, v in answers.items() if v}, who.name, name=name or None,
            publish=publish, enable=publish, confirm_overlap=one(pairs, "confirm_overlap") == "yes")
    except RuleOverlap as exc:
        return show_template(request, console, template, answers=answers, name=name,
                             overlaps=exc.overlaps, status=409)
    except RuleInvalid as exc:
        errors: dict[str, list[str]] = {}
        for problem in exc.problems:
            slot = problem.field.removeprefix("answers.")
            errors.setdefault(slot, []).append(problem.in_language(console.locale(request)))
        return show_template(request, console, template, answers=answers, name=name,
                             errors=errors, status=422)
    except OrderpilotError as exc:
        return show_template(request, console, template, answers=answers, name=name,
                             error=console.say(request, exc), status=422)
    return go(request, edit_url(request, rule_id, "published" if publish else "created"))
