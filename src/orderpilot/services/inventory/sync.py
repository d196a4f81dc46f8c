"""Stock sync and set-up: sources, channel strategies, level reports (push, pull, import) and
the record of every sync run.

A level report is checked whole before anything is written: one bad level refuses the
report and changes nothing. Reports are idempotent on ``source_event_id``; a level older than
the one applied (``as_of``) is left alone and said so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from orderpilot.domain import inventory as inv
from orderpilot.domain.errors import Conflict, InvalidInput
from orderpilot.domain.events import new_id
from orderpilot.domain.inventory_records import LevelView, SyncRun
from orderpilot.domain.records import JsonObject
from orderpilot.domain.times import business_time
from orderpilot.services import audit_trail
from orderpilot.services.inventory.allocation import check_low
from orderpilot.services.inventory.stock_arrivals import wake_retry
from orderpilot.services.repositories import Inventory
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

MAX_LEVELS = 5000


@dataclass(frozen=True)
class LevelReport:
    source: str
    sku: str
    on_hand: int
    expected_at: date | None = None
    as_of: datetime | None = None
    safety_stock: int | None = None
    low_threshold: int | None = None


def build_source(**fields: Any) -> inv.Source:
    try:
        return inv.Source(**fields)
    except inv.InventoryInputError as error:
        raise InvalidInput(str(error), field=error.field, zh=error.zh) from error
    except TypeError as error:
        raise InvalidInput(str(error), field="body", zh=f"请求内容不完整：{error}") from error


def build_strategy(**fields: Any) -> inv.Strategy:
    try:
        return inv.Strategy(**fields)
    except inv.InventoryInputError as error:
        raise InvalidInput(str(error), field=error.field, zh=error.zh) from error


def put_source(source: inv.Source, uow_factory: UowFactory, clock: Clock) -> None:
    from orderpilot.services.inventory import pull as inventory_pull

    with uow_factory() as uow:
        before = uow.inventory.source(source.code)
        uow.inventory.put_source(source, clock())
        audit_trail.record(uow, clock, "inventory_source.put", subject_type="inventory_source",
                           subject_id=source.code,
                           before=present_source(before) if before is not None else None,
                           after=present_source(source))
        inventory_pull.schedule_pulls(uow, source, clock())
        inventory_pull.ensure_sweeper(uow, clock())


def put_strategy(strategy: inv.Strategy, uow_factory: UowFactory, clock: Clock) -> None:
    with uow_factory() as uow:
        uow.inventory.put_strategy(strategy, clock())
        audit_trail.record(uow, clock, "inventory_strategy.put",
                           subject_type="inventory_strategy", subject_id=strategy.channel,
                           after={"tiers": list(strategy.tiers),
                                  "allow_split": strategy.allow_split})


def _check(levels: Sequence[LevelReport]) -> None:
    if not levels:
        raise InvalidInput("levels is empty", field="levels",
                           zh="levels 为空")
    if len(levels) > MAX_LEVELS:
        raise InvalidInput(f"at most {MAX_LEVELS} levels per report", field="levels",
                           zh=f"每份上报最多 {MAX_LEVELS} 条库存")
    seen: set[tuple[str, str]] = set()
    for i, level in enumerate(levels):
        where = f"levels[{i}]"
        if not inv.CODE.match(level.sku or ""):
            raise InvalidInput("sku is 1-64 letters, digits, _ . -", field=f"{where}.sku",
                               zh="sku 为 1-64 个字母、数字、_ . -")
        for name in ("on_hand", "safety_stock", "low_threshold"):
            value = getattr(level, name)
            if value is None and name != "on_hand":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
                raise InvalidInput(f"{name} must be a whole number from 0, got {value!r}",
                                   field=f"{where}.{name}",
                                   zh=f"{name} 应为大于或等于 0 的整数，收到 {value!r}")
        if level.as_of is not None:
            business_time(level.as_of, f"{where}.as_of")
        key = (level.source, level.sku)
        if key in seen:
            raise InvalidInput(f"{level.source}/{level.sku} appears twice in one report",
                               field=f"{where}.sku",
                               zh=f"{level.source}/{level.sku} 在同一份上报中出现两次")
        seen.add(key)


def _fingerprint(levels: Sequence[LevelReport]) -> str:
    body = [asdict(level) for level in levels]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


BY_HAND = ("import", "manual")  # levels a person entered or uploaded, not a system's report


def apply_levels(source_event_id: str | None, levels: Sequence[LevelReport],
                 uow_factory: UowFactory, clock: Clock, *, method: str = "push",
                 source: str | None = None,
                 then: Callable[[UnitOfWork, str], None] | None = None) -> JsonObject:
    """Apply a report of absolute on-hand quantities; returns what happened to each level.

    The same ``source_event_id`` again gives the first answer (``duplicate: true``) and changes
    nothing; with a different body it is refused. ``then(uow, run_id)`` runs in the same
    transaction once the run is recorded (a pull closes its due row there)."""
    _check(levels)
    fingerprint = _fingerprint(levels)

    def attempt() -> JsonObject:
        with uow_factory() as uow:
            now = clock()
            if source_event_id:
                seen = uow.inventory.sync_run(source_event_id)
                if seen is not None:
                    if seen.request_hash != fingerprint:
                        raise Conflict(f"source_event_id {source_event_id} was already used for "
                                       f"a different report", field="source_event_id",
                                       code="source_event_id_reused",
                                       zh=f"source_event_id {source_event_id} 已用于另一份上报")
                    return {**seen.outcome, "run_id": seen.id, "duplicate": True}
            known = {s.code for s in uow.inventory.sources()}
            for i, level in enumerate(levels):
                if level.source not in known:
                    raise InvalidInput(f"unknown source {level.source!r}; known: "
                                       f"{', '.join(sorted(known)) or 'none yet'}",
                                       field=f"levels[{i}].source",
                                       zh=f"未知的库存来源 {level.source!r}；"
                                          f"已有：{'、'.join(sorted(known)) or '暂无'}")
            rose: list[str] = []
            outcomes = [_apply_one(uow, level, now, rose) for level in levels]
            wake_retry(uow, rose, now)
            changes = sum(1 for o in outcomes if o["outcome"] == "applied")
            stale = sum(1 for o in outcomes if o["outcome"] == "stale")
            status = "stale" if stale == len(outcomes) else "applied"
            outcome = {"source_event_id": source_event_id, "status": status,
                       "changes": changes, "stale": stale, "levels": outcomes}
            run_id = new_id()
            uow.inventory.record_run({
                "id": run_id, "source_event_id": source_event_id, "method": method,
                "source": source, "request_hash": fingerprint, "status": status,
                "started_at": now, "finished_at": clock(), "changes": changes,
                "errors": [], "outcome": outcome})
            if then is not None:
                then(uow, run_id)
            if method in BY_HAND:
                audit_trail.record(uow, clock, "inventory.levels", subject_type="inventory",
                                   subject_id=run_id, after={"changes": changes,
                                                             "stale": stale,
                                                             "levels": len(levels)},
                                   detail={"method": method})
            else:  # a system's report of its stock
                audit_trail.system_report()
            return {**outcome, "run_id": run_id, "duplicate": False}

    return retrying(attempt)


def _apply_one(uow: UnitOfWork, level: LevelReport, now: datetime,
               rose: list[str]) -> JsonObject:
    """Apply one level; its SKU joins ``rose`` when more may now be sellable."""
    as_of = level.as_of or now
    current = uow.inventory.level(level.source, level.sku)
    answer: dict[str, object] = {"source": level.source, "sku": level.sku,
                              "on_hand": level.on_hand, "as_of": as_of.isoformat()}
    if current is not None and as_of < current.as_of:
        return {**answer, "outcome": "stale", "on_hand": current.on_hand,
                "applied_as_of": current.as_of.isoformat(),
                "message": "older than the level already applied; ignored"}
    unchanged = current is not None and current.on_hand == level.on_hand \
        and current.expected_at == level.expected_at and level.safety_stock is None \
        and level.low_threshold is None
    uow.inventory.write_level(level.source, level.sku, level.on_hand, as_of,
                              level.expected_at, now, safety_stock=level.safety_stock,
                              low_threshold=level.low_threshold)
    if not unchanged:
        check_low(uow, level.source, level.sku, now)
        if current is None or level.on_hand > current.on_hand or (
                level.safety_stock is not None
                and level.safety_stock < (current.safety_stock or 0)):
            rose.append(level.sku)
    return {**answer, "outcome": "unchanged" if unchanged else "applied"}


def record_sync_run(uow_factory: UowFactory, clock: Clock, *, method: str,
                    source: str | None, started_at: datetime, status: str, changes: int = 0,
                    errors: Sequence[str] = ()) -> str:
    """Record a run that applied nothing through :func:`apply_levels` (e.g. a failed pull)."""
    run_id = new_id()
    with uow_factory() as uow:
        uow.inventory.record_run({
            "id": run_id, "source_event_id": None, "method": method, "source": source,
            "request_hash": None, "status": status, "started_at": started_at,
            "finished_at": clock(), "changes": changes, "errors": list(errors),
            "outcome": {}})
    return run_id


def list_sync_runs(repo: Inventory, *, source: str | None = None,
                   limit: int = 50) -> list[dict[str, object]]:
    return [{"id": r.id, "source_event_id": r.source_event_id, "method": r.method,
             "source": r.source, "status": r.status, "started_at": r.started_at.isoformat(),
             "finished_at": r.finished_at.isoformat(), "changes": r.changes,
             "errors": r.errors} for r in repo.sync_runs(source=source, limit=limit)]


def _covers(run: SyncRun, source: str) -> bool:
    """Whether a run without a source of its own (a push) reported levels of ``source``."""
    levels = (run.outcome or {}).get("levels")
    return isinstance(levels, list) and any(
        isinstance(level, dict) and level.get("source") == source for level in levels)


def present_source(s: inv.Source) -> dict[str, object]:
    zh, en = inv.SOURCE_KINDS[s.kind]
    return {"code": s.code, "kind": s.kind, "kind_zh": zh, "kind_en": en,
            "name_zh": s.name_zh, "name_en": s.name_en, "region": s.region,
            "lead_time_days": s.lead_time_days, "lead_times": dict(s.lead_times),
            "reservation_ttl_hours": s.reservation_ttl_hours, "sellable": s.sellable,
            "sync_schedule": s.sync_schedule, "safety_stock": s.safety_stock,
            "low_threshold": s.low_threshold}


def list_source_views(repo: Inventory) -> list[dict[str, object]]:
    """Each source with its totals and its last sync run: what the console lists."""
    totals = repo.source_totals()
    # A push may cover several sources: it counts as each one's sync.
    shared = [r for r in repo.sync_runs(limit=50) if r.source is None]
    views = []
    order = {"bonded_spot": 0, "domestic_transfer": 1, "in_transit": 2}  # the brief's table
    for s in sorted(repo.sources(), key=lambda s: (order.get(s.kind, 9), s.code)):
        t = totals.get(s.code)
        own = repo.sync_runs(source=s.code, limit=1)
        covering = [r for r in shared if _covers(r, s.code)]
        last = sorted([*own, *covering[:1]], key=lambda r: r.finished_at, reverse=True)[:1]
        views.append({**present_source(s),
                      "skus": int(t.skus) if t else 0,
                      "on_hand": int(t.on_hand or 0) if t else 0,
                      "reserved": int(t.reserved or 0) if t else 0,
                      "low_skus": int(t.low or 0) if t else 0,
                      "as_of": t.as_of.isoformat() if t and t.as_of else None,
                      "last_sync": ({"status": last[0].status, "changes": last[0].changes,
                                     "finished_at": last[0].finished_at.isoformat()}
                                    if last else None)})
    return views


def present_level(r: LevelView, now: datetime, expired: int = 0) -> dict[str, object]:
    reserved = r.reserved - expired
    return {"source": r.source, "sku": r.sku, "kind": r.kind, "on_hand": r.on_hand,
            "reserved": reserved, "safety_stock": r.safety, "low_threshold": r.threshold,
            "available": max(0, r.on_hand - reserved - r.safety) if r.kind in
            inv.SELLABLE_KINDS else 0, "low": r.low,
            "expected_at": r.expected_at.isoformat() if r.expected_at else None,
            "as_of": r.as_of.isoformat()}


def list_levels(repo: Inventory, now: datetime, *, sku: str | None = None,
                source: str | None = None) -> list[dict[str, object]]:
    return [present_level(r, now, repo.expired_quantity(r.source, r.sku, now))
            for r in repo.levels(sku=sku, source=source)]
