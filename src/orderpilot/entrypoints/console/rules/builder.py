"""The no-code rule builder: a rule's form, redrawn by HTMX as rows and actions change, saved
as a draft, tried on an order, backtested and published. The list, template library, status
buttons, versions and rollback are in rule_pages.py.

The form is turned into the rule JSON by rule_forms.py (pure); the rules service checks it and
every problem it names is shown next to the field it came from.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.views import rules as reads
from orderpilot.adapters.views.rules import order_id_for
from orderpilot.bootstrap import Hub
from orderpilot.domain.currency_rates import CurrencyRates
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.rules.overlap import RuleOverlap
from orderpilot.domain.rules.problems import Problem, RuleInvalid
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader, RuleManager
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.entrypoints.console.rules.action_forms import STEP_TESTS
from orderpilot.entrypoints.console.rules.form_edits import (
    apply,
    earlier_by_slot,
    fill_sms_params,
    from_definition,
    new_action_field,
    problems_by_slot,
)
from orderpilot.entrypoints.console.rules.forms import (
    Built,
    ConditionRow,
    RuleForm,
    read_form,
    to_definition,
)
from orderpilot.entrypoints.console.rules.views import (
    AUDIT_ACTIONS,
    RULE_STATUSES,
    BuilderCatalogue,
    sms_register,
)
from orderpilot.services.rules import tools as rule_tools

router = APIRouter(prefix="/console")
NOTICES = {"created": N_("The rule is saved as a draft."), "saved": N_("The draft is saved."),
           "published": N_("Published: the rule now runs on the new version."),
           "rolled_back": N_("Rolled back: the earlier version is published again."),
           "installed": N_("The template is installed.")}
Pairs = list[tuple[str, str]]
NEW_RULE_EVENT = "payment.succeeded"  # what most rules start on; one pick to change


async def posted(request: Request) -> Pairs:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


Posted = Annotated[Pairs, Depends(posted)]


def one(pairs: Pairs, name: str) -> str:
    return next((v.strip() for k, v in pairs if k == name), "")


def catalogue(request: Request, console: Console, hub: Hub) -> BuilderCatalogue:
    with hub.uow() as uow:
        sms = sms_register(uow.sms_templates.all())
    locale = console.locale(request)
    return BuilderCatalogue(locale == "zh_CN", console.translations[locale].gettext, sms,
                            hub.actions.types(), hub.connectors.connector_names(),
                            CurrencyRates(hub.settings.currency_rates))


def load_rule(hub: Hub, rule_id: str) -> dict[str, Any] | None:
    if not rule_id:
        return None
    with hub.db.read() as conn:
        return reads.rule_detail(conn, rule_id)


def warnings_by_slot(hub: Hub, form: RuleForm, locale: str) -> dict[str, list[str]]:
    """What the rule may do that its author likely did not mean, next to where it is: 失败时
    on an action that answers refusals, an amount without a currency. None while the rule
    cannot be read yet (its problems say why)."""
    if not form.actions and not any(getattr(i, "field", "") for i in form.items):
        return {}
    built = to_definition(form)
    try:  # a rule not named yet can be warned about all the same
        found = hub.rules.warnings({**built.definition,
                                    "name": built.definition["name"] or "—"})
    except OrderpilotError:
        return {}
    return problems_by_slot([Problem(str(w["field"]), str(w["message"]), str(w["message_zh"]))
                             for w in found], built.places, locale)


def builder_context(request: Request, console: Console, hub: Hub, form: RuleForm,
                    rule: dict[str, Any] | None, *, problems: list[Problem] | None = None,
                    places: dict[str, str] | None = None,
                    overlaps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    cat = catalogue(request, console, hub)
    fill_sms_params(form, {code: names for code, (_text, names) in cat.sms.items()})
    problems = problems or []
    locale = console.locale(request)
    return {"nav": "rules", "form": form, "rule": rule, "cat": cat,
            "errors": problems_by_slot(problems, places or {}, locale),
            "warnings": warnings_by_slot(hub, form, locale), "overlaps": overlaps or [],
            "rule_json": to_definition(form).definition if problems else {},
            "problems": problems,
            "earlier": earlier_by_slot(form), "step_tests": STEP_TESTS,
            "rule_statuses": {k: cat.gettext(v) for k, v in RULE_STATUSES.items()},
            "audit_actions": {k: cat.gettext(v) for k, v in AUDIT_ACTIONS.items()}}


def show_builder(request: Request, console: Console, hub: Hub, form: RuleForm,
                 rule: dict[str, Any] | None, *, problems: list[Problem] | None = None,
                 places: dict[str, str] | None = None, status: int = 200,
                 notice: str | None = None,
                 overlaps: list[dict[str, Any]] | None = None) -> Response:
    context = builder_context(request, console, hub, form, rule, problems=problems,
                              places=places, overlaps=overlaps)
    context["notice"] = notice
    return console.render(request, "rule_edit.html", context, status=status,
                          blocks=["builder"] if is_htmx(request) else None)


def go(request: Request, url: str) -> Response:
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def edit_url(request: Request, rule_id: str, done: str) -> str:
    return str(request.url_for("console:rule-edit", rule_id=rule_id).path) + f"?done={done}"


def failed(exc: OrderpilotError, built: Built) -> tuple[list[Problem], dict[str, str]]:
    """Every problem, the form's own first, keyed so each lands next to its field."""
    found = list(exc.problems) if isinstance(exc, RuleInvalid) else \
        [Problem(exc.field or "rule", exc.message, exc.message_zh)]
    return built.problems + found, built.places


def checked(hub: Hub, built: Built) -> None:
    """Validation that reports the form's own problems together with the service's."""
    try:
        hub.rules.validate(built.definition)
    except RuleInvalid as exc:
        raise RuleInvalid(built.problems + list(exc.problems)) from exc
    if built.problems:
        raise RuleInvalid(built.problems)


# -- the form -------------------------------------------------------------------------------

@router.get("/rules/new", name="console:rule-new")
def new_rule(request: Request, hub: HubDep, console: ConsoleDep, who: Reader) -> Response:
    return show_builder(request, console, hub,
                        RuleForm(trigger_event=NEW_RULE_EVENT, items=[ConditionRow()],
                                 types=hub.actions.types()), None)


@router.post("/rules/form", name="console:rule-form")
def redraw(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
           pairs: Posted) -> Response:
    """Add or remove a row or an action, or redraw one condition row for a new field or
    operator. Nothing is saved."""
    do = one(pairs, "do")
    form = apply(read_form(pairs, hub.actions.types()), do,
                 one(pairs, "add_type") or one(pairs, new_action_field(do)))
    rule = load_rule(hub, one(pairs, "rule_id"))
    row_prefix = one(pairs, "row")
    if row_prefix:
        row = find_row(form, row_prefix)
        if row is not None:
            context = builder_context(request, console, hub, form, rule)
            context.update(row=row, prefix=f"c{row_prefix}", idx=row_prefix)
            return console.render(request, "_rule_condition.html", context)
    return show_builder(request, console, hub, form, rule)


def find_row(form: RuleForm, prefix: str) -> ConditionRow | None:
    head, _, tail = prefix.partition(".")
    if not head.isdigit() or int(head) >= len(form.items):
        return None
    item = form.items[int(head)]
    if isinstance(item, ConditionRow):
        return item if not tail else None
    rows = item.rows
    return rows[int(tail)] if tail.isdigit() and int(tail) < len(rows) else None


@router.post("/rules/new", name="console:rule-create")
def create_rule(request: Request, hub: HubDep, console: ConsoleDep, who: RuleManager,
                pairs: Posted) -> Response:
    """Save the form as a new rule's draft; with ``publish_now``, publish it at once too (an
    overlap with another rule then leaves the draft, its page saying which rule)."""
    form = read_form(pairs, hub.actions.types())
    built = to_definition(form)
    try:
        checked(hub, built)
        rule_id = hub.rules.create(built.definition, who.name, key=form.key or None)
    except OrderpilotError as exc:
        problems, places = failed(exc, built)
        return show_builder(request, console, hub, form, None, problems=problems,
                            places=places, status=422)
    if not one(pairs, "publish_now"):
        return go(request, edit_url(request, rule_id, "created"))
    try:
        hub.rules.publish(rule_id, who.name, one(pairs, "publish_reason")[:1000])
    except RuleOverlap:
        return go(request, edit_url(request, rule_id, "overlap"))
    except OrderpilotError:
        return go(request, edit_url(request, rule_id, "created"))
    return go(request, edit_url(request, rule_id, "published"))


@router.post("/rules/try", name="console:rule-try")
def try_on_order(request: Request, hub: HubDep, console: ConsoleDep, who: RuleManager,
                 pairs: Posted) -> Response:
    form = read_form(pairs, hub.actions.types())
    built = to_definition(form)
    context: dict[str, Any] = {"cat": catalogue(request, console, hub),
                               "rule_json": built.definition}
    ref = one(pairs, "try_order")
    with hub.db.read() as conn:
        order_id = order_id_for(conn, ref)
    if order_id is None:
        context["error"] = console.translate(
            request, "No order has this ID or channel order number.") if ref else \
            console.translate(request, "Enter an order ID or a channel order number.")
        return console.render(request, "_rule_try.html", context)
    try:
        checked(hub, built)
        context["result"] = rule_tools.try_rule(hub.rules, built.definition, order_id)
    except OrderpilotError as exc:
        context["problems"] = failed(exc, built)[0]
    context["order_ref"] = ref
    return console.render(request, "_rule_try.html", context)


@router.post("/rules/backtest", name="console:rule-backtest")
def backtest(request: Request, hub: HubDep, console: ConsoleDep, who: RuleManager,
             pairs: Posted) -> Response:
    built = to_definition(read_form(pairs, hub.actions.types()))
    days = one(pairs, "backtest_days")
    context: dict[str, Any] = {"cat": catalogue(request, console, hub),
                               "rule_json": built.definition}
    try:
        checked(hub, built)
        context["result"] = rule_tools.backtest(  # providers predict their answers
            hub.rules, built.definition, int(days) if days.isdigit() else 0, 20,
            hub.connectors)
    except OrderpilotError as exc:
        context["problems"] = failed(exc, built)[0]
    return console.render(request, "_rule_backtest.html", context)


@router.get("/rules/{rule_id}", name="console:rule-edit")
def edit_rule(request: Request, rule_id: str, hub: HubDep, console: ConsoleDep, who: Reader,
              done: str = "") -> Response:
    rule = load_rule(hub, rule_id)
    if rule is None:
        return console.error(request, console.translate(request, "There is no such rule."), 404)
    source = rule["draft"] or rule["definition"] or {}
    notice = console.translate(request, NOTICES[done]) if done in NOTICES else None
    overlaps = hub.rules.overlaps(rule["id"]) if done == "overlap" else []
    return show_builder(request, console, hub, from_definition(source, hub.actions.types()),
                        rule, notice=notice, overlaps=overlaps)


@router.post("/rules/{rule_id}", name="console:rule-save")
def save_rule(request: Request, rule_id: str, hub: HubDep, console: ConsoleDep,
              who: RuleManager, pairs: Posted) -> Response:
    rule = load_rule(hub, rule_id)
    if rule is None:
        return console.error(request, console.translate(request, "There is no such rule."), 404)
    form = read_form(pairs, hub.actions.types())
    built = to_definition(form)
    try:
        checked(hub, built)
        hub.rules.save_draft(rule["id"], built.definition, who.name)
    except OrderpilotError as exc:
        problems, places = failed(exc, built)
        return show_builder(request, console, hub, form, rule, problems=problems,
                            places=places, status=422)
    return go(request, edit_url(request, rule["id"], "saved"))


@router.post("/rules/{rule_id}/publish", name="console:rule-publish")
def publish(request: Request, rule_id: str, hub: HubDep, console: ConsoleDep,
            who: RuleManager, pairs: Posted) -> Response:
    """Save what the form shows as the draft, then publish it as a new version."""
    rule = load_rule(hub, rule_id)
    if rule is None:
        return console.error(request, console.translate(request, "There is no such rule."), 404)
    form = read_form(pairs, hub.actions.types())
    built = to_definition(form)
    try:
        checked(hub, built)
        unchanged = not rule["has_draft"] and rule["definition"] == \
            hub.rules.validate(built.definition).dump()
        if unchanged:
            message = console.translate(request, "Nothing has changed since the published "
                                                 "version.")
            return show_builder(request, console, hub, form, rule, status=409,
                                problems=[Problem("rule", message, message)])
        hub.rules.save_draft(rule["id"], built.definition, who.name)
        hub.rules.publish(rule["id"], who.name, one(pairs, "publish_reason")[:1000],
                          confirm_overlap=one(pairs, "confirm_overlap") == "yes")
    except RuleOverlap as exc:
        return show_builder(request, console, hub, form, load_rule(hub, rule["id"]),
                            overlaps=exc.overlaps, status=409)
    except OrderpilotError as exc:
        problems, places = failed(exc, built)
        return show_builder(request, console, hub, form, rule, problems=problems,
                            places=places, status=422)
    return go(request, edit_url(request, rule["id"], "published"))

