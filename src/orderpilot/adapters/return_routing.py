"""Return centres, the versioned return policy and return routes on SQLAlchemy Core (tables in
tables_return_routing.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.domain.return_metrics import typed_address, typed_address_matches
from orderpilot.domain.return_routing import (
    ADDRESS_FIELDS,
    LastShipment,
    PolicyRow,
    ReturnCentre,
    RouteDecision,
    route_exception,
)

c = t.return_centres
v = t.return_policy_versions
p = t.return_policy_rows
r = t.return_routes


def centre_from_row(row: Any) -> ReturnCentre:
    return ReturnCentre(row.code, row.name_zh, row.name_en,
                        {f: getattr(row, f) for f in ADDRESS_FIELDS}, row.phone)


class ReturnRoutingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _typed_matched(self, return_id: str, route_copy: Any,
                       centre_address: Any) -> bool | None:
        """The metrics' baseline for one route: the typed address (the route's copy, else the
        return's) against its centre's address, decided once when either is written."""
        if not centre_address:
            return None
        ret = self.conn.execute(sa.select(t.returns.c.customer_address)
                                .where(t.returns.c.id == return_id)).scalar()
        return typed_address_matches(
            typed_address(route_copy if isinstance(route_copy, dict) else None,
                          ret if isinstance(ret, dict) else None), centre_address)

    def _centre_moved(self, code: str, address: dict[str, Any]) -> None:
        """A centre's address changed: its routes' baselines follow it (as the metrics
        compared them with the centre's current address)."""
        found = self.conn.execute(sa.select(r.c.return_id, r.c.customer_address)
                                  .where(r.c.return_centre == code)).all()
        for row in found:
            self.conn.execute(sa.update(r).where(r.c.return_id == row.return_id).values(
                typed_address_matched=self._typed_matched(row.return_id, row.customer_address,
                                                          address)))

    def put_centre(self, centre: ReturnCentre, by: str, now: datetime) -> bool:
        """Create or replace a centre; True when it is new."""
        values = {"name_zh": centre.name_zh, "name_en": centre.name_en, **centre.address,
                  "phone": centre.phone, "updated_by": by, "updated_at": now}
        before = self.centre(centre.code)
        changed = self.conn.execute(sa.update(c).where(c.c.code == centre.code)
                                    .values(**values)).rowcount
        if changed:
            if before is not None and dict(before.address) != dict(centre.address):
                self._centre_moved(centre.code, dict(centre.address))
            return False
        self.conn.execute(sa.insert(c).values(code=centre.code, **values))
        return True

    def centre(self, code: str) -> ReturnCentre | None:
        row = self.conn.execute(sa.select(c).where(c.c.code == code)).first()
        return centre_from_row(row) if row else None

    def centre_codes(self) -> set[str]:
        return {row.code for row in self.conn.execute(sa.select(c.c.code))}

    def replace_policy(self, rows: list[PolicyRow], by: str, now: datetime) -> int:
        """The table as a new version (the old ones stay for audit)."""
        latest = self.conn.execute(sa.select(sa.func.max(v.c.version))).scalar()
        version = int(latest or 0) + 1
        self.conn.execute(sa.insert(v).values(version=version, created_by=by, created_at=now))
        if rows:
            self.conn.execute(sa.insert(p), [{"version": version, "outlet_code": x.outlet_code,
                                              "return_centre": x.return_centre} for x in rows])
        return version

    def current_policy(self) -> tuple[int | None, dict[str, str]]:
        latest = self.conn.execute(sa.select(sa.func.max(v.c.version))).scalar()
        if latest is None:
            return None, {}
        return int(latest), self.policy(int(latest))

    def policy(self, version: int) -> dict[str, str]:
        return {row.outlet_code: row.return_centre for row in self.conn.execute(
            sa.select(p.c.outlet_code, p.c.return_centre).where(p.c.version == version)
            .order_by(p.c.outlet_code))}

    def last_shipment(self, order_id: str) -> LastShipment | None:
        """The order's last ``shipment.shipped`` naming a waybill; its outlet from the event's
        ``outlet_code``, else the outlet the carrier's route nodes recorded on the waybill."""
        e, s = t.events, t.shipments
        shipped = self.conn.execute(
            sa.select(e.c.payload, e.c.source).where(e.c.order_id == order_id,
                                                    e.c.type == "shipment.shipped")
            .order_by(e.c.occurred_at.desc(), e.c.seq.desc())).all()
        for row in shipped:
            data = (row.payload or {}).get("data") or {}
            number = str(data.get("tracking_number") or data.get("tracking_no") or "").strip()
            if not number:
                continue
            followed = self.conn.execute(sa.select(s.c.carrier, s.c.outlet_code).where(
                s.c.order_id == order_id, s.c.tracking_number == number[:64])).first()
            carrier = followed.carrier if followed else str(data.get("carrier") or row.source)
            outlet = str(data.get("outlet_code") or "").strip() or \
                (followed.outlet_code if followed else None)
            return LastShipment(carrier, number[:64], outlet or None)
        return None

    def has_route(self, return_id: str) -> bool:
        return self.conn.execute(sa.select(r.c.return_id)
                                 .where(r.c.return_id == return_id)).first() is not None

    def route(self, return_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(sa.select(r).where(r.c.return_id == return_id)).first()
        return dict(row._mapping) if row else None

    def save_route(self, return_id: str, order_id: str, shipment: LastShipment | None,
                   decision: RouteDecision, customer_address: Any, now: datetime) -> None:
        """The route of a return (routing again replaces it: ops fixed the policy)."""
        centre, problem = decision.centre, decision.exception
        values = {
            "order_id": order_id,
            "carrier": shipment.carrier if shipment else None,
            "tracking_number": shipment.tracking_number if shipment else None,
            "outlet_code": decision.outlet_code,
            "return_centre": centre.code if centre else None,
            "address": dict(centre.address) if centre else None,
            "customer_address": customer_address,
            "pickup_start": None, "pickup_end": None, "pickup_waybill": None,
            "status": "decision_required" if problem else "routed",
            "decision_required": problem is not None,
            "exception_reason": problem.reason if problem else None,
            "exception_zh": problem.message_zh if problem else None,
            "exception_en": problem.message_en if problem else None,
            "policy_version": decision.policy_version, "updated_at": now,
            "typed_address_matched": self._typed_matched(
                return_id, customer_address, centre.address if centre else None)}
        if self.has_route(return_id):
            self.conn.execute(sa.update(r).where(r.c.return_id == return_id).values(**values))
        else:
            self.conn.execute(sa.insert(r).values(return_id=return_id, routed_at=now, **values))

    def _route_copy(self, return_id: str) -> Any:
        return self.conn.execute(sa.select(r.c.customer_address)
                                 .where(r.c.return_id == return_id)).scalar()

    def record_pickup(self, return_id: str, waybill: str, start: datetime, end: datetime,
                      now: datetime) -> None:
        self.conn.execute(sa.update(r).where(r.c.return_id == return_id).values(
            pickup_waybill=waybill[:64], pickup_start=start, pickup_end=end,
            status="pickup_booked", updated_at=now))

    def pickup_refused(self, return_id: str, reason_zh: str, reason_en: str,
                       now: datetime) -> None:
        problem = route_exception("carrier_refused", detail=reason_en)
        self.conn.execute(sa.update(r).where(r.c.return_id == return_id).values(
            status="decision_required", decision_required=True,
            exception_reason=problem.reason,
            exception_zh=route_exception("carrier_refused", detail=reason_zh).message_zh,
            exception_en=problem.message_en, updated_at=now))

    def take_decision(self, return_id: str, centre: ReturnCentre | None, by: str, note: str,
                      now: datetime) -> bool:
        """A person decides a return that needs it: the centre they picked (its address
        becomes the route's), or routing again by the policy (``centre`` None: the route
        waits as ``rerouting``). One conditional update: of two clicks only the first finds
        the route still needing a decision (False for the second)."""
        values: dict[str, Any] = {
            "decision_required": False, "exception_reason": None, "exception_zh": None,
            "exception_en": None, "decided_by": by[:200], "decided_at": now,
            "decision_note": note[:500] or None, "updated_at": now}
        if centre is None:
            values |= {"decision": "retry", "status": "rerouting"}
        else:
            values |= {"decision": "centre", "status": "routed", "return_centre": centre.code,
                       "address": dict(centre.address), "policy_version": None,
                       "pickup_waybill": None, "pickup_start": None, "pickup_end": None,
                       "typed_address_matched": self._typed_matched(
                           return_id, self._route_copy(return_id), centre.address)}
        return bool(self.conn.execute(sa.update(r).where(
            r.c.return_id == return_id, r.c.decision_required.is_(True)).values(**values))
            .rowcount)

