"""Trying a rule on a sample order, backtesting a draft on stored events (no side effects),
and replaying failed runs."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.rules.definition import RuleDefinition
from orderpilot.services.rules import context as rule_context
from orderpilot.services.rules import money, prediction
from orderpilot.services.rules.actions import Outside
from orderpilot.services.rules.authoring import RulesService
from orderpilot.services.rules.book import ActiveRule, RuleBook
from orderpilot.services.unit_of_work import Clock, UowFactory

MAX_BACKTEST_DAYS = 90
MAX_BACKTEST_EVENTS = 50_000
REPLAYABLE = ("failed", "dead", "skipped")


def _preview(definition: RuleDefinition) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for step in definition.actions:
        out.append({"id": step.id, "type": step.type, "branch": None,
                    "when": "depends on earlier steps" if step.when.children else "always"})
        for branch in step.on_outcome:
            out.extend({"id": s.id, "type": s.type,
                        "branch": f"{step.id}.{branch.outcome.id}",
                        "when": f"if {step.id} answers: {branch.outcome.en.lower()}"}
                       for s in branch.steps)
    return out


def try_rule(service: RulesService, raw: object, order_id: str,
             event_type: str | None = None) -> dict[str, object]:
    """Evaluate a (draft) rule on one stored order, as if its trigger event happened now."""
    definition = service.validate(raw)
    now = service.clock()
    with service.read() as uow:
        order = rule_context.load_order_context(uow, order_id, now)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
    trigger = definition.trigger
    kind = event_type or trigger.event or "order.placed"
    source = trigger.sources[0] if trigger.sources else order["channel"]
    event = OrderEvent(order_id, kind, source, now, now, {"channel": order["channel"]})
    context = rule_context.build(event, order, now)
    book = service.book
    rule = ActiveRule("draft", "draft", definition.name, 0, definition)
    book.add_tables([rule], context)
    try:
        matched = book.engine.evaluate(definition.condition_expression, context) is True
    except Exception as error:  # the engine's own error type lives in adapters/
        raise InvalidInput(f"the condition could not be evaluated on this order: {error}",
                           field="definition.conditions", code="evaluation_failed",
                           zh=f"无法在此订单上计算条件：{error}") from error
    return {"matched": matched, "trace": book.trace(definition, context),
            "trigger_accepts": trigger.kind != "event"
            or trigger.accepts(kind, source, order["channel"]),
            "actions": _preview(definition) if matched else []}


def backtest(service: RulesService, raw: object, days: int, sample: int = 20,
             outside: Outside | None = None) -> dict[str, object]:
    """What a draft would have done over the stored events of the last ``days`` days:
    evaluated on each order as it is now, with the event's own time, step by step (each
    step's `if`, each outcome branch; services/rules/prediction.py). Nothing is changed; with
    OUTSIDE, actions that declare a side-effect-free query are asked to predict their
    answers."""
    if not 0 < days <= MAX_BACKTEST_DAYS:
        raise InvalidInput(f"days: 1 to {MAX_BACKTEST_DAYS}", field="days",
                           zh=f"days：1 到 {MAX_BACKTEST_DAYS}")
    definition = service.validate(raw)
    trigger = definition.trigger
    if trigger.kind == "schedule":
        raise InvalidInput("scheduled rules cannot be backtested on events", field="trigger",
                           zh="定时规则不能基于事件回测")
    book: RuleBook = service.book
    rule = ActiveRule("draft", "draft", definition.name, 0, definition)
    now = service.clock()
    since = now - timedelta(days=days)
    examined = matched = 0
    orders: set[str] = set()
    tally = prediction.Tally()
    missing_rates: Counter[str] = Counter()  # "MYR->CNY": events compared without a rate
    predict = prediction.predictor(service.actions, outside, tally)
    examples: list[dict[str, object]] = []
    with service.read() as uow:  # a snapshot: order writes go on meanwhile (issue 8)
        events = uow.events.of_type_since(str(trigger.event), since, MAX_BACKTEST_EVENTS)
        for event in events:
            order = rule_context.load_order_context(uow, event.order_id, event.recorded_at)
            channel = order["channel"] if order else None
            if not trigger.accepts(event.type, event.source, channel):
                continue
            if trigger.kind == "timeout" and uow.events.happened_since(
                    event.order_id, str(trigger.unless), event.recorded_at):
                continue
            examined += 1
            at = event.recorded_at + timedelta(minutes=trigger.minutes or 0)
            context = rule_context.build(event, order, at)
            found = book.match([rule], context)
            missing_rates.update(money.missing_rates(context))
            if not found:
                continue
            matched += 1
            if event.order_id:
                orders.add(event.order_id)
            prediction.walk(definition, context, book.engine, predict, tally, event.id)
            if len(examples) < sample:
                examples.append({"event_id": event.id, "order_id": event.order_id,
                                 "external_id": order["external_id"] if order else None,
                                 "total": order["total"] if order else None,
                                 "at": event.recorded_at.isoformat()})
    types = {a.id: (a.type.zh, a.type.en) for a in service.actions}
    return {"days": days, "events_examined": examined, "matched": matched,
            "orders": len(orders), **tally.dump(types), "sample": examples,
            "missing_rates": dict(missing_rates),
            "truncated": len(events) >= MAX_BACKTEST_EVENTS,
            "note": "conditions are evaluated on each order as it is now; each step's `if` "
                    "and outcome branch is followed with the answers the providers predict; "
                    "runs whose answers could not be predicted are counted in `unknown`, "
                    "without their branch steps",
            "note_zh": "条件按订单当前状态计算；逐步计算每个步骤的条件和结果分支，外部应答由服务商"
                       "预查得出；无法预查应答的运行计入 unknown，其分支步骤不计入"}


def replay(uow_factory: UowFactory, clock: Clock, run_ids: list[str], *,
           on: str = "pinned") -> list[str]:
    """Run failed runs again from the start, as new runs linked to the original. The same
    idempotency keys are used, so steps that did happen are not repeated outside."""
    if on not in ("pinned", "current"):
        raise InvalidInput("on is pinned or current", field="on",
                           zh="on 应为 pinned 或 current")
    if not 0 < len(run_ids) <= 1000:
        raise InvalidInput("give 1 to 1000 run ids", field="run_ids",
                           zh="请提供 1 到 1000 个运行编号")
    made = []
    now = clock()
    with uow_factory() as uow:
        for run_id in run_ids:
            run = uow.runs.get(run_id)
            if run is None:
                raise NotFound.coded("rule_run.not_found", field="run_ids", run_id=run_id)
            if run.status not in REPLAYABLE:
                raise InvalidInput(f"run {run_id} is {run.status}; only failed, dead or "
                                   f"skipped runs are replayed", field="run_ids",
                                   zh=f"运行 {run_id} 的状态为 {run.status}；"
                                      "只有失败、死信或跳过的运行可以重放")
            version = run.rule_version
            if on == "current":
                rule = uow.rules.get(run.rule_id)
                if rule is None or rule.published_version is None:
                    raise InvalidInput(f"the rule of run {run_id} has no published version",
                                       field="on",
                                       zh=f"运行 {run_id} 的规则没有已发布的版本")
                version = rule.published_version
            new = new_id()
            uow.runs.add({
                "id": new, "rule_id": run.rule_id, "rule_version": version,
                "dedupe_key": f"replay:{new}", "trigger_kind": run.trigger_kind,
                "event_id": run.event_id, "order_id": run.order_id, "status": "pending",
                "depth": 0, "context": run.context, "trace": run.trace, "step": 0,
                "outputs": {}, "attempts": 0, "next_attempt_at": now, "created_at": now,
                "replay_of": run.replay_of or run.id,
                "event_recorded_at": now, "finished_at": None, "last_error": None})
            made.append(new)
    return made
