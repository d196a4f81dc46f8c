"""The Shopify simulator's orders: each kept as the exact JSON text Shopify would send, with a
small index of the times and flags the list endpoint filters and sorts by.

Kept as text, 10 000 orders are 10 000 strings, not millions of dicts: listing joins texts,
a push sends the very bytes stored, and the garbage collector has nothing to walk.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from orderpilot.adapters.channels.base import dumps

Key = tuple[float, int]


@dataclass(frozen=True)
class Facts:
    """What the list endpoint filters and sorts an order by."""

    created: float
    updated: float
    processed: float
    cancelled: bool
    closed: bool


class OrderStore:
    def __init__(self) -> None:
        self.texts: dict[int, str] = {}
        self.facts: dict[int, Facts] = {}
        self.version = 0
        self._sorted: dict[tuple[str, bool], tuple[int, list[Key], list[int]]] = {}

    def put(self, orders: Iterable[dict[str, Any]]) -> int:
        count = 0
        for order in orders:
            order_id = int(order["id"])
            self.texts[order_id] = _text(order)
            self.facts[order_id] = Facts(
                _stamp(order.get("created_at")), _stamp(order.get("updated_at")),
                _stamp(order.get("processed_at") or order.get("created_at")),
                bool(order.get("cancelled_at")), bool(order.get("closed_at")))
            count += 1
        self.version += 1
        return count

    def get(self, order_id: str) -> dict[str, Any] | None:
        text = self.texts.get(int(order_id)) if order_id.isdigit() else None
        if text is None:
            return None
        order: dict[str, Any] = json.loads(text, parse_float=Decimal)
        return order

    def page(self, filters: dict[str, str], after: Key | None,
             limit: int) -> tuple[list[str], Key | None]:
        """Up to LIMIT order texts in list order after AFTER, and the key to continue from
        (None on the last page). ValueError names a parameter it cannot read."""
        matches = self._matcher(filters)
        field, _, direction = (filters.get("order") or "created_at desc").partition(" ")
        keys, ids = self._order_of(field, direction.strip().lower() == "desc")
        found: list[tuple[Key, int]] = []
        for i in range(bisect_right(keys, after) if after else 0, len(ids)):
            if matches(ids[i]):
                found.append((keys[i], ids[i]))
                if len(found) > limit:
                    break
        more = len(found) > limit
        found = found[:limit]
        return [self.texts[i] for _, i in found], (found[-1][0] if more else None)

    def _order_of(self, field: str, descending: bool) -> tuple[list[Key], list[int]]:
        cached = self._sorted.get((field, descending))
        if cached is None or cached[0] != self.version:
            sign = -1 if descending else 1
            pairs = sorted(((sign * self._time_of(i, field), sign * i), i)
                           for i in self.facts)
            cached = (self.version, [k for k, _ in pairs], [i for _, i in pairs])
            self._sorted[(field, descending)] = cached
        return cached[1], cached[2]

    def _time_of(self, order_id: int, field: str) -> float:
        facts = self.facts[order_id]
        return {"updated_at": facts.updated, "created_at": facts.created,
                "processed_at": facts.processed}.get(field, 0.0)

    def _matcher(self, filters: dict[str, str]) -> Callable[[int], bool]:
        status = filters.get("status") or "open"
        ids = {int(i) for i in filters["ids"].split(",") if i.strip().isdigit()} \
            if filters.get("ids") else None
        bounds = [(name, parse_time(filters[name], name).timestamp()) for name in
                  ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max")
                  if filters.get(name)]

        def matches(order_id: int) -> bool:
            facts = self.facts[order_id]
            if ids is not None and order_id not in ids:
                return False
            if status == "open" and (facts.cancelled or facts.closed) or \
                    status == "closed" and not facts.closed or \
                    status == "cancelled" and not facts.cancelled:
                return False
            for name, bound in bounds:
                moment = facts.updated if name.startswith("updated") else facts.created
                if moment < bound if name.endswith("_min") else moment > bound:
                    return False
            return True
        return matches


def parse_time(value: str, name: str) -> datetime:
    """An ISO time from a query (a "+" may arrive as a space); ValueError(NAME) if bad."""
    try:
        return _parsed(value)
    except ValueError:
        raise ValueError(name) from None


@lru_cache(maxsize=4096)
def _parsed(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(order: dict[str, Any]) -> str:
    """ORDER as compact JSON; Decimals (an order read back for a status move) exactly."""
    try:
        return json.dumps(order, separators=(",", ":"), ensure_ascii=False)
    except TypeError:
        return dumps(order)


def _stamp(value: object) -> float:
    try:
        return parse_time(str(value), "time").timestamp() if value else 0.0
    except ValueError:
        return 0.0
