"""Lost WMS callbacks, recovered by asking the WMS (S11's breakpoint: the warehouse picked and
packed an order, its callbacks never reached the hub, and only the carrier's scan came).

When the carrier's ``shipment.shipped`` is handled, the order's status check is queued (an
insert-if-absent, in the event's transaction), due CHECK_AFTER later so a callback on its way
has time to land. The :class:`WmsChecker` claims due checks with a lease and, outside any
transaction:

* the order's WMS view already says picked, packed or shipped: nothing to ask (``complete``);
* otherwise it asks the WMS for the outbound order's events (our WMS contract, the simulator in
  integrations/wms/simulator.py implements it: ``GET <wms>/api/outbound-orders/{order_id}`` ->
  ``{"order_id", "status", "events": [{"event_id", "type", "occurred_at"}]}``) and reports each
  ``wms.released`` / ``wms.picked`` / ``wms.packed`` through ``ordering.report_event`` as the
  WMS's own (source ``wms``, the WMS's event id, ``data.recovered_by: status_check``): a
  callback that arrives after all is then a duplicate, and a check run twice records nothing
  twice (``recovered``, or ``complete`` when the WMS had nothing the hub lacked);
* the WMS does not know the order (404): ``unknown_at_wms`` (the reconciliation keeps showing
  it missing in the WMS, for people);
* no answer: asked again with backoff, at most MAX_ATTEMPTS times (``gave_up``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from orderpilot.domain.commands import ReportEvent
from orderpilot.domain.errors import ConnectorError, OrderpilotError
from orderpilot.domain.events import OrderEvent
from orderpilot.services import ordering
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory
from orderpilot.services.wms_outbound import PATH, WMS, WmsFeed

log = structlog.get_logger("orderpilot.wms")
CHECK_AFTER = timedelta(minutes=30)
RECOVERABLE = ("wms.released", "wms.picked", "wms.packed")
TOLD = ("picked", "packed", "shipped")  # a WMS view that says the WMS told us its outbound
RECOVERED_BY = "status_check"


class WmsStatus(Protocol):
    """The WMS's own record of an outbound order: its events, or None when it has no such
    order; raises ConnectorError when it cannot answer."""

    def outbound_events(self, order_id: str) -> list[dict[str, Any]] | None: ...


class HttpWmsStatus:
    """The WMS over HTTP (the ``wms`` connector)."""

    def __init__(self, feed: WmsFeed) -> None:
        self.feed = feed

    def outbound_events(self, order_id: str) -> list[dict[str, Any]] | None:
        try:
            answer = self.feed.http_call("GET", connector=WMS, path=f"{PATH}/{order_id}",
                                         idempotency_key=f"wms-status:{order_id}")
        except ConnectorError as error:
            if error.status_code == 404:
                return None
            raise
        body = answer.response
        events = body.get("events") if isinstance(body, dict) else None
        return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def check_when_shipped(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """The carrier's scan: check the WMS's side a while later (the WMS's own shipped report
    says it told us)."""
    if event.order_id is not None and event.system != "wms":
        uow.wms_outbound.check_due(event.order_id, clock() + CHECK_AFTER)


@dataclass(frozen=True)
class CheckerSettings:
    lease: timedelta = timedelta(minutes=2)
    batch_size: int = 50
    max_attempts: int = 6
    first_backoff: timedelta = timedelta(minutes=5)
    idle_poll_seconds: float = 30.0


class WmsChecker:
    def __init__(self, uow_factory: UowFactory, wms: WmsStatus, clock: Clock,
                 settings: CheckerSettings | None = None) -> None:
        self.uow_factory, self.wms, self.clock = uow_factory, wms, clock
        self.settings = settings or CheckerSettings()

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                done = self.run_once()
            except Exception:
                log.exception("wms_check_cycle_failed")
                done = 0
            if done == 0:
                stop.wait(self.settings.idle_poll_seconds)

    def run_once(self) -> int:
        """Settle every due check once; returns how many it tried."""
        s = self.settings
        with self.uow_factory() as uow:
            claimed = uow.wms_outbound.claim_checks(self.clock(), s.lease, s.batch_size)
        for order_id, attempts in claimed:
            self.check(order_id, attempts)
        return len(claimed)

    def check(self, order_id: str, attempts: int) -> str:
        with self.uow_factory() as uow:
            order = uow.orders.get(order_id)
        view = order.views.get("wms") if order is not None else None
        if order is None or (view is not None and view.status in TOLD):
            return self._done(order_id, "complete", 0)
        try:
            events = self.wms.outbound_events(order_id)
        except ConnectorError as error:
            if attempts + 1 >= self.settings.max_attempts:
                return self._done(order_id, "gave_up", 0, error.message)
            with self.uow_factory() as uow:
                uow.wms_outbound.check_again(
                    order_id, self.clock() + self.settings.first_backoff * (2 ** attempts),
                    error.message)
            return "again"
        if events is None:
            return self._done(order_id, "unknown_at_wms", 0)
        recovered = self._report(order_id, events)
        return self._done(order_id, "recovered" if recovered else "complete", recovered)

    def _report(self, order_id: str, events: Sequence[dict[str, Any]]) -> int:
        recovered = 0
        for item in sorted(events, key=lambda e: str(e.get("occurred_at") or "")):
            type_, event_id = item.get("type"), item.get("event_id")
            if type_ not in RECOVERABLE or not isinstance(event_id, str) or not event_id:
                continue
            try:
                occurred_at = datetime.fromisoformat(str(item.get("occurred_at")))
                answer = ordering.report_event(ReportEvent(
                    order_id, str(type_), WMS, occurred_at, source_event_id=event_id,
                    data={"recovered_by": RECOVERED_BY}), self.uow_factory, self.clock)
            except (ValueError, OrderpilotError) as error:  # refused reports are kept
                log.warning("wms_check_report_refused", order_id=order_id, type=type_,
                            error=str(error))
                continue
            recovered += answer.outcome != "duplicate"
        return recovered

    def _done(self, order_id: str, outcome: str, recovered: int, error: str = "") -> str:
        with self.uow_factory() as uow:
            uow.wms_outbound.check_done(order_id, self.clock(), outcome, recovered)
        if error:
            log.warning("wms_check_gave_up", order_id=order_id, error=error)
        return outcome
