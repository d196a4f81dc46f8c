"""/api/v1/rules, /api/v1/rule-runs, /api/v1/tickets, /api/v1/sms-templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from orderpilot.adapters.views import rules as reads
from orderpilot.domain.errors import NotFound
from orderpilot.domain.rules.overlap import RuleOverlap
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.domain.rules.templates import TEMPLATES
from orderpilot.domain.times import filter_time
from orderpilot.entrypoints.api.deps import CanManageRules, CanReadOrders, HubDep
from orderpilot.entrypoints.api.errors import error_body
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services import tickets as ticket_service
from orderpilot.services.rules import catalogue as rule_catalogue
from orderpilot.services.rules import tools as rule_tools

router = APIRouter(tags=["rules"])
Definition = Annotated[dict[str, Any], Body(description="The rule definition (see docs)")]


class RuleIn(Strict):
    key: str | None = Field(None, max_length=100)
    definition: dict[str, Any]
    publish: bool = False
    reason: str = Field("", max_length=1000)
    confirm_overlap: bool = False  # "keep both" when another rule does the same


class PublishIn(Strict):
    reason: str = Field("", max_length=1000)
    confirm_overlap: bool = False


class FromTemplateIn(Strict):
    answers: dict[str, Any] = Field(default_factory=dict, max_length=50)
    key: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=200)
    publish: bool = False
    enable: bool = False
    reason: str = Field("", max_length=1000)
    confirm_overlap: bool = False


class RollbackIn(Strict):
    version: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field("", max_length=1000)


class TryIn(Strict):
    definition: dict[str, Any]
    order_id: str = Field(max_length=36)
    event_type: str | None = Field(None, max_length=64)


class BacktestIn(Strict):
    definition: dict[str, Any]
    days: int = Field(7, ge=1, le=90)
    sample: int = Field(20, ge=0, le=200)


class ReplayIn(Strict):
    run_ids: list[str] = Field(min_length=1, max_length=1000)
    on: Literal["pinned", "current"] = "pinned"


class TicketPatch(Strict):
    status: Literal["open", "in_progress", "resolved", "closed"]


class SmsTemplateIn(Strict):
    provider: Literal["aliyun", "tencent"]
    sign_name: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=500)


def _rule(hub: HubDep, rule_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        found = reads.rule_detail(conn, rule_id)
    if found is None:
        raise NotFound.coded("rule.not_found", field="rule_id", rule_id=rule_id)
    return found


def _with_warnings(hub: HubDep, rule: dict[str, Any]) -> dict[str, Any]:
    """The rule, with the warnings of its draft (or of its published version)."""
    definition = rule.get("draft") or rule.get("definition")
    try:
        rule["warnings"] = hub.rules.warnings(definition) if definition else []
    except RuleInvalid:  # a published version the register has moved on from: no advice
        rule["warnings"] = []
    return rule


def _overlap(error: RuleOverlap) -> JSONResponse:
    """409 naming each other rule, with what it shares (details), so the caller can ask the
    person and send confirm_overlap."""
    return JSONResponse(error_body(error.code, error.message, error.field, error.overlaps,
                                   message_zh=error.message_zh), status_code=409)


@router.get("/api/v1/rules/catalogue", summary="Triggers, fields, operators, actions (zh/en)")
def catalogue(hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    return rule_catalogue.catalogue(hub.actions.types(), hub.connectors.connector_names(),
                                    hub.rules.book.rates)


@router.get("/api/v1/rules", summary="Rules with their run counts")
def list_rules(hub: HubDep, who: CanReadOrders,
               status: Annotated[str | None, Query(max_length=16)] = None) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"items": reads.rules_overview(conn, status)}


@router.post("/api/v1/rules", status_code=201, summary="Create a rule (a draft, or published)",
             responses={409: {"description": "rule_overlap: another published rule does the "
                                             "same (send confirm_overlap to keep both)"}})
def create_rule(body: RuleIn, hub: HubDep, who: CanManageRules) -> Any:
    if body.publish:  # refused before anything is made
        parsed = hub.rules.validate(body.definition)
        found = hub.rules.overlaps(None, parsed)
        if found and not body.confirm_overlap:
            return _overlap(RuleOverlap(parsed.name, found))
    rule_id = hub.rules.create(body.definition, who.name, key=body.key)
    if body.publish:
        try:
            hub.rules.publish(rule_id, who.name, body.reason,
                              confirm_overlap=body.confirm_overlap)
        except RuleOverlap as error:  # published meanwhile by someone else; the draft stays
            return _overlap(error)
    return _with_warnings(hub, _rule(hub, rule_id))


@router.post("/api/v1/rules/validate", summary="Check a definition; lists every problem")
def validate(definition: Definition, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    parsed = hub.rules.validate(definition)
    return {"ok": True, "definition": parsed.dump(), "warnings": hub.rules.warnings(parsed)}


@router.post("/api/v1/rules/try", summary="Evaluate a definition on one order (no effects)")
def try_rule(body: TryIn, hub: HubDep, who: CanManageRules) -> dict[str, Any]:
    return rule_tools.try_rule(hub.rules, body.definition, body.order_id, body.event_type)


@router.post("/api/v1/rules/backtest", summary="What a definition would have done")
def backtest(body: BacktestIn, hub: HubDep, who: CanManageRules) -> dict[str, Any]:
    return rule_tools.backtest(hub.rules, body.definition, body.days, body.sample,
                               hub.connectors)


@router.get("/api/v1/rules/templates", summary="The rule template library, with its blanks")
def templates(who: CanReadOrders) -> dict[str, Any]:
    return {"items": [{"id": t.id, "zh": t.zh, "en": t.en, "summary_zh": t.summary_zh,
                       "summary_en": t.summary_en, "story": t.story,
                       "blanks": [b.dump() for b in t.blanks],
                       "definition": t.definition} for t in TEMPLATES]}


@router.post("/api/v1/rules/templates/{template_id}/draft", status_code=201,
             summary="A rule from a template and the answers to its blanks",
             responses={409: {"description": "rule_overlap (when publishing)"}})
def from_template(template_id: str, body: FromTemplateIn, hub: HubDep,
                  who: CanManageRules) -> Any:
    try:
        rule_id = hub.rules.create_from_template(
            template_id, body.answers, who.name, key=body.key, name=body.name,
            publish=body.publish, enable=body.enable, confirm_overlap=body.confirm_overlap)
    except RuleOverlap as error:
        return _overlap(error)
    return _with_warnings(hub, _rule(hub, rule_id))


@router.post("/api/v1/rules/templates/{template_id}/install", status_code=201,
             summary="Install a template as a rule (its default answers, published)",
             responses={409: {"description": "rule_overlap (send confirm_overlap=true)"}})
def install(template_id: str, hub: HubDep, who: CanManageRules, enable: bool = False,
            confirm_overlap: bool = False) -> Any:
    try:
        rule_id = hub.rules.install_template(template_id, who.name, enable=enable,
                                             confirm_overlap=confirm_overlap)
    except RuleOverlap as error:
        return _overlap(error)
    return _with_warnings(hub, _rule(hub, rule_id))


@router.get("/api/v1/rules/{rule_id}", summary="A rule: draft, versions, audit trail")
def get_rule(rule_id: str, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    return _with_warnings(hub, _rule(hub, rule_id))


@router.put("/api/v1/rules/{rule_id}/draft", summary="Save the working copy")
def save_draft(rule_id: str, definition: Definition, hub: HubDep,
               who: CanManageRules) -> dict[str, Any]:
    hub.rules.save_draft(_rule(hub, rule_id)["id"], definition, who.name)
    return _with_warnings(hub, _rule(hub, rule_id))


@router.post("/api/v1/rules/{rule_id}/publish", summary="Publish the draft as a new version",
             responses={409: {"description": "rule_overlap: another published rule does the "
                                             "same (send confirm_overlap to keep both)"}})
def publish(rule_id: str, body: PublishIn, hub: HubDep, who: CanManageRules) -> Any:
    try:
        hub.rules.publish(_rule(hub, rule_id)["id"], who.name, body.reason,
                          confirm_overlap=body.confirm_overlap)
    except RuleOverlap as error:
        return _overlap(error)
    return _with_warnings(hub, _rule(hub, rule_id))


@router.post("/api/v1/rules/{rule_id}/rollback", summary="Publish an earlier version again")
def rollback(rule_id: str, body: RollbackIn, hub: HubDep,
             who: CanManageRules) -> dict[str, Any]:
    hub.rules.rollback(_rule(hub, rule_id)["id"], body.version, who.name, body.reason)
    return _rule(hub, rule_id)


@router.post("/api/v1/rules/{rule_id}/{action}", summary="Enable, pause or archive")
def set_status(rule_id: str, action: Literal["enable", "pause", "archive"], hub: HubDep,
               who: CanManageRules) -> dict[str, Any]:
    status = {"enable": "enabled", "pause": "paused", "archive": "archived"}[action]
    hub.rules.set_status(_rule(hub, rule_id)["id"], status, who.name)
    return _rule(hub, rule_id)


@router.get("/api/v1/rule-runs", summary="Run history, newest first")
def runs(hub: HubDep, who: CanReadOrders,
         rule: Annotated[str | None, Query(max_length=100)] = None,
         version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
         status: Annotated[str | None, Query(max_length=16)] = None,
         order_id: Annotated[str | None, Query(max_length=36)] = None,
         since: datetime | None = None, until: datetime | None = None,
         cursor: Annotated[int | None, Query(ge=0, le=2**62)] = None,
         limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    filter_time(since, "since"), filter_time(until, "until")
    with hub.db.read() as conn:
        items, next_cursor = reads.runs_page(conn, rule=rule, version=version, status=status,
                                             order_id=order_id, since=since, until=until,
                                             cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/api/v1/rule-runs/{run_id}", summary="One run: trigger, conditions, attempts")
def run(run_id: str, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    with hub.db.read() as conn:
        found = reads.run_detail(conn, run_id)
    if found is None:
        raise NotFound.coded("rule_run.not_found", field="run_id", run_id=run_id)
    return found


@router.post("/api/v1/rule-runs/replay", status_code=201, summary="Replay failed runs")
def replay(body: ReplayIn, hub: HubDep, who: CanManageRules) -> dict[str, Any]:
    made = rule_tools.replay(hub.uow, hub.clock, body.run_ids, on=body.on)
    for runner in hub.runners:
        runner.wake()
    return {"runs": made}


@router.get("/api/v1/tickets", summary="Service tickets, newest first")
def tickets(hub: HubDep, who: CanReadOrders,
            order_id: Annotated[str | None, Query(max_length=36)] = None,
            status: Annotated[str | None, Query(max_length=16)] = None,
            cursor: Annotated[int | None, Query(ge=0, le=2**62)] = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    with hub.db.read() as conn:
        items, next_cursor = reads.tickets_page(conn, order_id=order_id, status=status,
                                                cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.patch("/api/v1/tickets/{ticket_id}", summary="Move a ticket along")
def update_ticket(ticket_id: str, body: TicketPatch, hub: HubDep,
                  who: CanManageRules) -> dict[str, Any]:
    return reads.ticket_view(ticket_service.move(hub.uow, hub.clock, ticket_id, body.status))


@router.get("/api/v1/sms-templates", summary="Registered SMS templates")
def sms_templates(hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    with hub.uow() as uow:
        return {"items": [{"code": r.code, "provider": r.provider, "sign_name": r.sign_name,
                           "text": r.text, "params": r.params}
                          for r in uow.sms_templates.all()]}


@router.put("/api/v1/sms-templates/{code}", summary="Register an SMS template")
def put_sms_template(code: str, body: SmsTemplateIn, hub: HubDep,
                     who: CanManageRules) -> dict[str, Any]:
    hub.rules.put_sms_template(code, body.provider, body.sign_name, body.text)
    return {"code": code, "provider": body.provider, "sign_name": body.sign_name,
            "text": body.text}
