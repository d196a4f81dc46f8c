"""An expectation over all history, in one duckdb query over the snapshot
(adapters/analytics/snapshot.py).

Every A event in [since, until) of an order the condition accepts is a breach when its due
time (A's ``occurred_at`` + within) has passed by ``as_of`` and the first B at or after A (from
the expectation's source, when it names one) came after the due time or never. History from
before the expectation existed counts: that is the point of publishing one.

Amount at risk counts each order once, and only while B has not come (an order booked late is
no longer at risk): the order's open receivable (``erp.receivable_opened`` minus
``erp.receivable_closed``, from ``data.amount``, never below 0) when the expectation is about
receivables, else the order total. It is summed per currency (``{"CNY": "2760000.00"}``): the
hub converts nothing here; a converted total would need the administrator's rates
(domain/currency_rates.py) and would hide which currency is exposed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from orderpilot.domain.expectations import (
    SET_FIELDS,
    TEXT_FIELDS,
    Clause,
    Condition,
    Expectation,
)
from orderpilot.domain.money import from_cents, to_cents

_SQL_OPS = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _aware(value: datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=UTC).isoformat()


def clause_sql(clause: Clause) -> tuple[str, list[Any]]:
    """One clause as a null-safe SQL predicate over ``o`` (orders) and its lines."""
    values = list(clause.value) if isinstance(clause.value, tuple) else [clause.value]
    marks = ", ".join("?" for _ in values)
    if clause.field in TEXT_FIELDS:
        column = f"o.{clause.field}"
        if clause.op in ("in", "not_in"):
            negate = "NOT " if clause.op == "not_in" else ""
            return f"coalesce({column} {negate}IN ({marks}), false)", values
        return f"coalesce({column} {_SQL_OPS[clause.op]} ?, false)", values
    if clause.field == "total":
        return (f"coalesce(o.total_cents {_SQL_OPS[clause.op]} ?, false)",
                [to_cents(clause.value)])  # type: ignore[arg-type]
    assert clause.field in SET_FIELDS
    if clause.field == "sku":
        found = (f"EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id "
                 f"AND l.sku IN ({marks}))")
    else:
        found = "(" + " OR ".join("coalesce(list_contains(o.tags, ?), false)"
                                  for _ in values) + ")"
    return (f"NOT {found}" if clause.op == "lacks" else found), values


def condition_sql(condition: Condition) -> tuple[str, list[Any]]:
    parts, params = [], []
    for clause in condition.clauses:
        sql, values = clause_sql(clause)
        parts.append(sql)
        params.extend(values)
    return ("".join(f" AND {p}" for p in parts), params)


def retroactive_breaches(cursor: duckdb.DuckDBPyConnection, expectation: Expectation,
                         since: datetime, until: datetime, *, as_of: datetime | None = None,
                         limit: int = 1000) -> dict[str, Any]:
    """``{"count", "items": [{"order_id", "after_at", "due_at", "resolved_at"}],
    "amount_at_risk": {currency: "amount"}}``; items (the first LIMIT by A's time) list every
    breach, open or resolved late; ``count`` counts them all."""
    condition, condition_params = condition_sql(expectation.condition)
    source = ""
    source_params: list[Any] = []
    if expectation.source is not None:
        source = " AND (lower(source) = ? OR system = ?)"
        source_params = [expectation.source, expectation.source]
    if condition:
        watched = f" AND order_id IN (SELECT o.id FROM orders o WHERE true{condition})"
    else:
        watched = ""
    if expectation.about_receivables:
        risk = """(SELECT u.currency, greatest(coalesce(r.open_cents, 0), 0) AS cents
                   FROM unresolved u LEFT JOIN (
                       SELECT order_id, sum(CASE WHEN type = 'erp.receivable_opened'
                                            THEN amount_cents ELSE -amount_cents END)
                                        AS open_cents
                       FROM events
                       WHERE type IN ('erp.receivable_opened', 'erp.receivable_closed')
                       GROUP BY order_id) r ON r.order_id = u.order_id)"""
    else:
        risk = "(SELECT currency, total_cents AS cents FROM unresolved)"
    # ASOF picks, for each A, the first B of the order at or after it.
    sql = f"""
    WITH a AS (
        SELECT id AS after_id, order_id, occurred_at AS after_at,
               occurred_at + to_minutes(CAST(? AS BIGINT)) AS due_at
        FROM events
        WHERE type = ? AND occurred_at >= ? AND occurred_at < ?{watched}
    ), bs AS (
        SELECT order_id, occurred_at AS resolved_at FROM events WHERE type = ?{source}
    ), breaches AS (
        SELECT a.order_id, a.after_at, a.due_at, bs.resolved_at
        FROM a ASOF LEFT JOIN bs ON a.order_id = bs.order_id AND bs.resolved_at >= a.after_at
        WHERE a.due_at <= ? AND (bs.resolved_at IS NULL OR bs.resolved_at > a.due_at)
    ), unresolved AS (
        SELECT DISTINCT b.order_id, o.currency, o.total_cents
        FROM breaches b JOIN orders o ON o.id = b.order_id WHERE b.resolved_at IS NULL
    ), risk AS {risk}
    SELECT
        (SELECT count(*) FROM breaches),
        (SELECT list({{'order_id': order_id, 'after_at': after_at, 'due_at': due_at,
                      'resolved_at': resolved_at}} ORDER BY after_at, order_id)
         FROM (SELECT * FROM breaches ORDER BY after_at, order_id LIMIT ?)),
        (SELECT list({{'currency': currency, 'cents': cents}} ORDER BY currency)
         FROM (SELECT currency, sum(cents) AS cents FROM risk GROUP BY currency))
    """
    params = [expectation.within_minutes, expectation.after, _naive_utc(since),
              _naive_utc(until), *condition_params, expectation.expect, *source_params,
              _naive_utc(as_of or datetime.now(UTC)), limit]
    row = cursor.execute(sql, params).fetchone()
    assert row is not None
    count, items, amounts = row
    return {"count": int(count),
            "items": [{"order_id": i["order_id"], "after_at": _aware(i["after_at"]),
                       "due_at": _aware(i["due_at"]), "resolved_at": _aware(i["resolved_at"])}
                      for i in items or []],
            "amount_at_risk": {a["currency"]: str(from_cents(int(a["cents"] or 0)))
                               for a in amounts or []}}
