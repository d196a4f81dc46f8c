"""Turning events, timeouts and schedules into rule runs. These run inside the dispatcher's
transaction, so they only read and write the database: the actions run later, in the runner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter

from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.records import text, whole
from orderpilot.domain.rules.records import RuleVersion
from orderpilot.domain.rules.triggers import TIMEZONES
from orderpilot.services.rules import context as rule_context
from orderpilot.services.rules import strikes as rule_strikes
from orderpilot.services.rules.book import ActiveRule, Matched, RuleBook
from orderpilot.services.unit_of_work import Clock, UnitOfWork

MAX_DEPTH = 5  # a rule's action may trigger rules, which may trigger rules... this deep


def record_run(uow: UnitOfWork, rule: ActiveRule, trace: dict[str, object], *, kind: str,
               dedupe_key: str, event: OrderEvent | None, context: dict[str, object],
               depth: int, now: datetime, replay_of: str | None = None) -> str | None:
    """Record a run to carry out; None when this trigger already made one."""
    run_id = new_id()
    blocked = depth > MAX_DEPTH
    order = context.get("order")
    order_id = order.get("id") if isinstance(order, dict) else None
    added = uow.runs.add({
        "id": run_id, "rule_id": rule.id, "rule_version": rule.version,
        "dedupe_key": dedupe_key, "trigger_kind": kind,
        "event_id": event.id if event else None,
        "order_id": order_id or (event.order_id if event else None),
        "status": "skipped" if blocked else "pending", "depth": depth,
        "context": context, "trace": trace, "step": 0, "outputs": {}, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "replay_of": replay_of,
        "event_recorded_at": event.recorded_at if event else now,
        "last_error": f"loop protection: rules triggered each other {depth} deep "
                      f"(at most {MAX_DEPTH})" if blocked else None,
        "finished_at": now if blocked else None})
    return run_id if added else None


def depth_of(uow: UnitOfWork, event: OrderEvent) -> int:
    """How many rule runs led to this event (its causation chain through runs)."""
    if not event.causation_id:
        return 0
    run = uow.runs.get(event.causation_id)
    return 0 if run is None else int(run.depth) + 1


class RuleTriggers:
    def __init__(self, book: RuleBook, strike_limit: int = rule_strikes.DEFAULT_LIMIT) -> None:
        self.book = book
        self.strike_limit = strike_limit

    def _match(self, uow: UnitOfWork, rules: list[ActiveRule], context: dict[str, object],
               now: datetime, event_id: str | None) -> list[Matched]:
        """The matching rules; each rule that failed to evaluate gets a strike instead, and
        the others carry on."""
        evaluation = self.book.evaluate(rules, context)
        for rule, error in evaluation.failed:
            if rule_strikes.strike(uow, rule.id, rule.version, error, now,
                                   limit=self.strike_limit, event_id=event_id):
                self.book.invalidate()
        return evaluation.matched

    def on_event(self, event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
        book = self.book
        book.refresh(uow)
        rules = book.candidates(event.type)
        starts = book.timeouts_by_start.get(event.type, [])
        stops = book.timeouts_by_unless.get(event.type, [])
        if not (rules or starts or stops):
            return
        now = clock()
        if event.order_id:
            for rule in stops:
                uow.timers.cancel_prefix(f"rule-timeout:{rule.id}:{event.order_id}:")
        order = rule_context.load_order_context(uow, event.order_id, now)
        channel = order["channel"] if order else rule_context.channel_of(event)
        for rule in starts:
            trigger = rule.definition.trigger
            if event.order_id and trigger.accepts(event.type, event.source, channel):
                fire_at = event.recorded_at + timedelta(minutes=int(trigger.minutes or 0))
                uow.timers.schedule(
                    f"rule-timeout:{rule.id}:{event.order_id}:{event.id}", "rule.timeout",
                    fire_at, {"rule_id": rule.id, "version": rule.version,
                              "event_id": event.id, "order_id": event.order_id},
                    now, order_id=event.order_id)
        rules = [r for r in rules
                 if r.definition.trigger.accepts(event.type, event.source, channel)]
        if not rules:
            return
        context = rule_context.build(event, order, now)
        depth = depth_of(uow, event)
        for matched in self._match(uow, rules, context, now, event.id):
            record_run(uow, matched.rule, matched.trace, kind="event",
                       dedupe_key=f"{matched.rule.id}:{event.id}", event=event,
                       context=context, depth=depth, now=now)

    def on_timeout(self, payload: dict[str, object], uow: UnitOfWork, clock: Clock) -> None:
        """N minutes after event A, unless B: still enabled, and B did not come meanwhile."""
        rule = self._enabled(uow, text(payload, "rule_id"), whole(payload, "version"))
        if rule is None:
            return
        trigger = rule.definition.trigger
        event_id = text(payload, "event_id")
        event = uow.events.get_many([event_id]).get(event_id)
        if event is None or uow.events.happened_since(event.order_id, str(trigger.unless),
                                                      event.recorded_at):
            return
        now = clock()
        order = rule_context.load_order_context(uow, event.order_id, now)
        context = rule_context.build(event, order, now)
        context["timeout"] = {"minutes": trigger.minutes, "unless": trigger.unless}
        for matched in self._match(uow, [rule], context, now, event.id):
            record_run(uow, matched.rule, matched.trace, kind="timeout",
                       dedupe_key=f"{rule.id}:timeout:{event.id}", event=event,
                       context=context, depth=depth_of(uow, event), now=now)

    def on_schedule(self, payload: dict[str, object], uow: UnitOfWork, clock: Clock) -> None:
        row = uow.rules.get(text(payload, "rule_id"))
        if row is None or row.status != "enabled" or row.published_version is None:
            return
        version = published(uow, row.id, row.published_version)
        rule = ActiveRule(row.id, row.key, row.name, row.published_version,
                          self.book.definition(row.id, row.published_version,
                                               version.definition))
        if rule.definition.trigger.kind != "schedule":
            return
        now = clock()
        context = rule_context.build(None, None, now)
        context["schedule"] = {"fire_at": payload["fire_at"]}
        for matched in self._match(uow, [rule], context, now, None):
            record_run(uow, rule, matched.trace, kind="schedule",
                       dedupe_key=f"{rule.id}:schedule:{payload['fire_at']}", event=None,
                       context=context, depth=0, now=now)
        schedule_next(uow, rule, datetime.fromisoformat(text(payload, "fire_at")), now)

    def _enabled(self, uow: UnitOfWork, rule_id: str, version: int) -> ActiveRule | None:
        row = uow.rules.get(rule_id)
        if row is None or row.status != "enabled":
            return None
        stored = published(uow, rule_id, version)
        return ActiveRule(row.id, row.key, row.name, version,
                          self.book.definition(rule_id, version, stored.definition))


def published(uow: UnitOfWork, rule_id: str, version: int) -> RuleVersion:
    """A version the rule points at (versions are never deleted)."""
    found = uow.rules.version(rule_id, version)
    if found is None:
        raise LookupError(f"rule {rule_id} has no version {version}")
    return found


def schedule_next(uow: UnitOfWork, rule: ActiveRule, after: datetime, now: datetime) -> None:
    """Arm the rule's next scheduled firing (once per firing time, whoever asks)."""
    trigger = rule.definition.trigger
    offset = timedelta(hours=TIMEZONES.get(trigger.timezone, 8))
    local_after = (max(after, now) + offset).replace(tzinfo=None)
    local_next = croniter(str(trigger.cron), local_after).get_next(datetime)
    fire_at = (local_next - offset).replace(tzinfo=now.tzinfo)
    uow.timers.schedule(f"rule-schedule:{rule.id}:{fire_at.isoformat()}", "rule.schedule",
                        fire_at, {"rule_id": rule.id, "fire_at": fire_at.isoformat()}, now)
