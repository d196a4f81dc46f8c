"""Queries behind the rules screens and API: rules with counts, runs, tickets. Phone numbers
and addresses in stored contexts are masked here, on the way out."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.rules import RuleRepository
from orderpilot.adapters.runs import RunRepository
from orderpilot.adapters.tickets import TicketRepository
from orderpilot.adapters.views.orders import iso
from orderpilot.domain.masking import mask_document
from orderpilot.domain.messages import note_text


def rule_summary(row: Any, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "name": row.name, "status": row.status,
            "published_version": row.published_version, "has_draft": row.draft is not None,
            "template_id": row.template_id, "created_by": row.created_by,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
            "strikes": row.strikes, "runs": counts or {}}


def rules_overview(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = {}
    for rule_id, status_, n in conn.execute(
            sa.select(t.rule_runs.c.rule_id, t.rule_runs.c.status, sa.func.count())
            .group_by(t.rule_runs.c.rule_id, t.rule_runs.c.status)):
        counts.setdefault(rule_id, {})[status_] = int(n)
    return [rule_summary(r, counts.get(r.id)) for r in RuleRepository(conn).listing(status)]


def rule_detail(conn: Connection, rule_id: str) -> dict[str, Any] | None:
    repo = RuleRepository(conn)
    row = repo.get(rule_id) or repo.get_by_key(rule_id)
    if row is None:
        return None
    versions = repo.versions(row.id)
    published = next((v for v in versions if v.version == row.published_version), None)
    out = rule_summary(row, RunRepository(conn).counts(row.id))
    out.update({
        "draft": row.draft, "row_version": row.row_version,
        "definition": published.definition if published else None,
        "versions": [{"version": v.version, "published_by": v.published_by,
                      "published_at": iso(v.published_at), "reason": note_text(v.reason, "en"),
                      "reason_zh": note_text(v.reason, "zh_CN"),
                      "diff": v.diff} for v in versions],
        "audit": [{"action": a.action, "actor": a.actor, "at": iso(a.at), "detail": a.detail}
                  for a in repo.audit_trail(row.id)]})
    return out


def run_summary(row: Any, rule_names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    key, name = rule_names.get(row.rule_id, (row.rule_id, ""))
    return {"id": row.id, "seq": row.seq, "rule_id": row.rule_id, "rule_key": key,
            "rule_name": name, "rule_version": row.rule_version,
            "trigger_kind": row.trigger_kind, "event_id": row.event_id,
            "order_id": row.order_id, "status": row.status, "step": row.step,
            "attempts": row.attempts, "depth": row.depth, "last_error": row.last_error,
            "replay_of": row.replay_of, "created_at": iso(row.created_at),
            "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
            "finished_at": iso(row.finished_at)}


def _names(conn: Connection) -> dict[str, tuple[str, str]]:
    return {r.id: (r.key, r.name) for r in conn.execute(
        sa.select(t.rules.c.id, t.rules.c.key, t.rules.c.name))}


def runs_page(conn: Connection, *, rule: str | None = None, version: int | None = None,
              status: str | None = None, order_id: str | None = None,
              since: datetime | None = None, until: datetime | None = None,
              cursor: int | None = None, limit: int = 50,
              order: str | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """A page of runs, newest first. RULE: a rule's id or key, or a part of its name; ORDER:
    an order's ID or its channel order number (several channels may share one)."""
    names = _names(conn)
    rule_ids: list[str] | None = None
    if rule is not None:
        exact = [i for i, (k, _n) in names.items() if rule in (i, k)]
        needle = rule.casefold()
        rule_ids = exact or [i for i, (_k, n) in names.items() if needle in n.casefold()]
    order_ids = None if order is None else order_ids_for(conn, order)
    if (rule_ids is not None and not rule_ids) or (order_ids is not None and not order_ids):
        return [], None
    rows = RunRepository(conn).list(rule_ids=rule_ids, version=version, status=status,
                                    order_id=order_id, order_ids=order_ids, since=since,
                                    until=until, before_seq=cursor, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [run_summary(r, names) for r in rows], (rows[-1].seq if more and rows else None)


def order_ids_for(conn: Connection, ref: str) -> list[str]:
    """The orders with this ID or channel order number."""
    ref = ref.strip()
    return [str(r[0]) for r in conn.execute(sa.select(t.orders.c.id).where(
        sa.or_(t.orders.c.id == ref, t.orders.c.external_id == ref)).limit(50))]


def version_definition(conn: Connection, rule_id: str, version: int) -> dict[str, Any] | None:
    """The definition a rule run ran on."""
    found = RuleRepository(conn).version(rule_id, version)
    return None if found is None else dict(found.definition)


def mask_context(value: Any) -> Any:
    """Run history is masked for every reader (the stored context keeps the data the actions
    need): the one policy of domain/masking.py."""
    return mask_document(value)


def run_detail(conn: Connection, run_id: str, *, masked: bool = True) -> dict[str, Any] | None:
    repo = RunRepository(conn)
    row = repo.get(run_id)
    if row is None:
        return None
    out = run_summary(row, _names(conn))
    context = {k: v for k, v in (row.context or {}).items() if not k.startswith("_")}
    outputs = {k: v for k, v in (row.outputs or {}).items() if not k.startswith("_")}
    out.update({
        "context": context,
        "trace": row.trace, "outputs": outputs,
        "in_branch": "_branch" in (row.outputs or {}),
        # Each branch the run took: {"step", "kind": "outcome"|"on_error", "outcome", "zh", "en"}
        "branches": (row.outputs or {}).get("_branches") or [],
        "attempts_detail": [{
            "seq": a.seq, "step_no": a.step_no, "action": a.action, "attempt": a.attempt,
            "status": a.status, "idempotency_key": a.idempotency_key,
            "request": a.request,
            "response": a.response,
            "latency_ms": None if a.latency_ms is None else round(a.latency_ms, 1),
            "error": a.error, "started_at": iso(a.started_at),
            "finished_at": iso(a.finished_at)} for a in repo.attempts(row.id)]})
    # One document, so a name the context holds is masked where a step's output repeats it.
    return mask_context(out) if masked else out


def ticket_view(row: Any) -> dict[str, Any]:
    return {"id": row.id, "number": row.seq, "order_id": row.order_id, "title": row.title,
            "body": row.body, "priority": row.priority, "tags": list(row.tags),
            "status": row.status, "created_by": row.created_by,
            "external_id": row.external_id, "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at)}


def tickets_page(conn: Connection, *, order_id: str | None = None, status: str | None = None,
                 cursor: int | None = None, limit: int = 50) -> tuple[list[dict[str, Any]],
                                                                    int | None]:
    rows = TicketRepository(conn).list(order_id=order_id, status=status, before_seq=cursor,
                                       limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [ticket_view(r) for r in rows], (rows[-1].seq if more and rows else None)


def sent_messages(conn: Connection, kinds: Collection[str],
                  limit: int = 50) -> list[dict[str, Any]]:
    """The messages rules sent (newest first), for the console. KINDS: the actions that send
    a message to a person (the action table's ``message_types()``)."""
    rows = conn.execute(
        sa.select(t.rule_attempts, t.rule_runs.c.order_id, t.rule_runs.c.rule_id)
        .join(t.rule_runs, t.rule_runs.c.id == t.rule_attempts.c.run_id)
        .where(t.rule_attempts.c.action.in_(list(kinds)),
               t.rule_attempts.c.status == "ok")
        .order_by(t.rule_attempts.c.seq.desc()).limit(limit))
    names = _names(conn)
    return [{"action": r.action, "order_id": r.order_id,
             "rule": names.get(r.rule_id, (r.rule_id, ""))[0],
             "request": mask_context(r.request), "response": mask_context(r.response),
             "sent_at": iso(r.finished_at), "run_id": r.run_id} for r in rows]


def order_id_for(conn: Connection, ref: str) -> str | None:
    """An order by its ID or by its channel order number."""
    ref = ref.strip()
    if not ref:
        return None
    found = conn.execute(sa.select(t.orders.c.id).where(
        sa.or_(t.orders.c.id == ref, t.orders.c.external_id == ref)).limit(1)).first()
    return None if found is None else str(found[0])


def order_numbers(conn: Connection, order_ids: set[str]) -> dict[str, str]:
    """The platform order numbers people recognise, for links to the orders."""
    ids = [i for i in order_ids if i]
    if not ids:
        return {}
    return {r.id: r.external_id for r in conn.execute(
        sa.select(t.orders.c.id, t.orders.c.external_id).where(t.orders.c.id.in_(ids)))}
