"""The demo's outside world, streaming: channels post orders at a steady rate and the ERP
(kingdee), the WMS and the carriers (sf, yto) report on them over the hub's HTTP API.

Like real systems, reports come late, twice or out of order; the hub must take all of that.
Answers the hub gives on purpose (409: illegal step, on hold) are logged at debug and the
stream goes on; a report refused because of a hold is tried again a little later.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import structlog

from orderpilot.domain.times import SHANGHAI
from orderpilot.simulators.demo_channels import ChannelFeed
from orderpilot.simulators.demo_company import OrderPlan, Step, plan_order
from orderpilot.simulators.demo_returns_plan import inspection

RESTOCK_TO = "HZ-DOMESTIC"  # where restockable returned units go back (demo_inventory.py)

log = structlog.get_logger("orderpilot.demo")
HOLD_RETRY_SECONDS = 2.0
HOLD_RETRIES = 20


@dataclass
class StreamStats:
    orders_sent: int = 0
    orders_created: int = 0
    orders_reposted: int = 0
    reports_sent: int = 0
    reports_late: int = 0
    duplicates_sent: int = 0
    duplicate_answers: int = 0
    out_of_order_orders: int = 0
    holds_placed: int = 0
    holds_released: int = 0
    returns_requested: int = 0
    return_moves: int = 0
    conflicts: int = 0
    client_errors: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    recorded: set[tuple[str, str]] = field(default_factory=set)  # (source, source_event_id)
    duplicated: set[tuple[str, str]] = field(default_factory=set)
    out_of_order: set[str] = field(default_factory=set)  # the orders' external ids

    def line(self) -> str:
        return (f"{self.orders_created} orders, {self.reports_sent} reports "
                f"({self.reports_late} late, {self.duplicates_sent} sent twice, "
                f"{self.out_of_order_orders} orders out of order), {self.holds_placed} holds, "
                f"{self.returns_requested} returns, "
                f"{self.conflicts} conflicts (409), {self.server_errors} server errors")


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class DemoStream:
    """Single-threaded: one queue of due sends, so the sequence is reproducible from the seed."""

    def __init__(self, client: httpx.Client, *, rate: float = 3.0, seed: int = 7,
                 speed: float = 1.0, run_tag: str | None = None,
                 report_every: float | None = 15.0,
                 before_order: Callable[[dict[str, Any]], None] | None = None,
                 feed: ChannelFeed | None = None) -> None:
        """FEED: the shops' platform simulators; orders then arrive as the platforms push them
        (and the ERP books them by itself), and the stream plays the WMS and carriers."""
        if rate <= 0 or speed <= 0:
            raise ValueError("rate and speed must be positive")
        self.client = client
        self.rate = rate
        self.speed = speed
        self.rng = random.Random(seed)  # the orders and their scripts
        self.jitter = random.Random(seed + 1)  # delivery timing, so scripts do not depend on it
        # Order numbers carry the start time, so a re-run with the same seed adds new orders.
        self.run_tag = run_tag or datetime.now(SHANGHAI).strftime("%y%m%d%H%M%S")
        self.report_every = report_every
        self.stats = StreamStats()
        self._queue: list[_Due] = []
        self._seq = 0
        self.before_order = before_order  # e.g. the buyer registers with customs first
        self.feed = feed

    def run(self, stop: threading.Event, *, max_orders: int | None = None,
            drain: bool = False) -> StreamStats:
        """Post orders until ``stop`` (or ``max_orders``); with ``drain``, then play out every
        scheduled report before returning."""
        next_order = time.monotonic()
        next_report = next_order + (self.report_every or 0)
        placing = True
        while not stop.is_set():
            now = time.monotonic()
            if placing and now >= next_order:
                self._place(self.stats.orders_sent + 1)
                next_order = max(next_order + 1 / self.rate, now - 1.0)  # no burst after a stall
                placing = max_orders is None or self.stats.orders_sent < max_orders
            elif self._queue and self._queue[0].at <= now:
                heapq.heappop(self._queue).action()
            elif not placing and (not drain or not self._queue):
                break
            else:
                wake = min(next_order if placing else now + 0.5,
                           self._queue[0].at if self._queue else now + 0.5)
                stop.wait(min(max(wake - now, 0.0), 0.5))
            if self.report_every and now >= next_report:
                log.info("demo_stream", summary=self.stats.line())
                next_report = now + self.report_every
        return self.stats

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, _Due(time.monotonic() + delay, self._seq, action))

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            self.stats.transport_errors += 1
            log.debug("demo_send_failed", url=url, error=str(error))
            return None
        status = response.status_code
        if status >= 500:
            self.stats.server_errors += 1
            log.warning("demo_server_error", url=url, status=status, body=response.text[:300])
        elif status == 409:
            self.stats.conflicts += 1
            log.debug("demo_conflict", url=url, body=response.text[:300])
        elif status >= 400:
            self.stats.client_errors += 1
            log.warning("demo_refused", url=url, status=status, body=response.text[:300])
        return response

    def _place(self, number: int) -> None:
        placed_at = datetime.now(SHANGHAI).replace(microsecond=0)
        plan = plan_order(self.rng, number, self.run_tag, placed_at)
        self.stats.orders_sent += 1
        if self.feed is not None:
            made = self.feed.place(number)
            if made is not None:
                self._later(1.0, partial(self._resolve, plan, *made, 0))
            return
        if self.before_order is not None:
            self.before_order(plan.body)
        response = self._post_order(plan)
        if response is None or response.status_code not in (200, 201):
            return
        self.stats.orders_created += response.status_code == 201
        order_id = response.json()["id"]
        if plan.post_twice:  # the channel's connector retries after a timeout it imagined
            self._later(self.jitter.uniform(0.2, 1.5), lambda: self._repost(plan))
        self.stats.out_of_order_orders += plan.out_of_order
        if plan.out_of_order:
            self.stats.out_of_order.add(str(plan.body["external_id"]))
        state: dict[str, Any] = {"order_id": order_id, "external_id": plan.body["external_id"]}
        for step in plan.steps:
            self._later(step.at / self.speed, partial(self._do, state, step))

    def _resolve(self, plan: OrderPlan, platform: str, external_id: str, attempt: int) -> None:
        """Find the order the platform's push (or the catch-up pull) made, then play the
        warehouse's and carriers' part of its plan. The platform reports payment and the ERP
        books it by itself, so those steps are not sent."""
        response = self._send("GET", "/api/v1/orders",
                              params={"q": external_id, "channel": platform})
        found = response.json()["items"] if response is not None and \
            response.status_code == 200 else []
        if not found:
            if attempt < 40:  # a lost push waits for the pull (every minute)
                self._later(5.0, partial(self._resolve, plan, platform, external_id,
                                         attempt + 1))
            return
        self.stats.orders_created += 1
        state: dict[str, Any] = {"order_id": found[0]["id"], "external_id": external_id}
        for step in plan.steps:
            if step.type in ("payment.succeeded", "erp.booked"):
                continue
            self._later(step.at / self.speed, partial(self._do, state, step))

    def _post_order(self, plan: OrderPlan) -> httpx.Response | None:
        return self._send("POST", "/api/v1/orders", json=plan.body,
                          headers={"Idempotency-Key": plan.idempotency_key})

    def _repost(self, plan: OrderPlan) -> None:
        response = self._post_order(plan)
        if response is not None and response.status_code == 200:
            self.stats.orders_reposted += 1

    def _do(self, state: dict[str, Any], step: Step, attempt: int = 0) -> None:
        order_id = state["order_id"]
        if step.kind == "hold":
            response = self._send("POST", f"/api/v1/orders/{order_id}/holds",
                                  json={"reason": step.type, "note": step.data.get("note", "")})
            if response is not None and response.status_code == 201:
                state["hold_id"] = response.json()["id"]
                self.stats.holds_placed += 1
        elif step.kind == "release" and state.get("hold_id"):
            reason = step.data.get("release_reason", "verified_with_buyer")
            response = self._send("DELETE", f"/api/v1/orders/{order_id}/holds/{state['hold_id']}",
                                  json={"reason": reason, "note": step.data.get("note", "")})
            if response is not None and response.status_code == 200:
                self.stats.holds_released += 1
        elif step.kind == "return":
            self._request_return(state, step)
        elif step.kind == "return_move" and state.get("return_id"):
            move: dict[str, Any] = {"note": "demo"}
            if step.type == "inspect":
                verdict = inspection(state["return_lines"], state["external_id"])
                move |= {"stock_source": RESTOCK_TO, "lines": [
                    {"sku": sku, "restockable": r, "damaged": d}
                    for sku, (r, d) in verdict.items()]}
            response = self._send("POST", f"/api/v1/returns/{state['return_id']}/{step.type}",
                                  json=move)
            self.stats.return_moves += response is not None and response.status_code == 200
        elif step.kind == "event":
            occurred = datetime.now(UTC) - timedelta(seconds=step.late_by)
            source_event_id = f"{step.source}:{step.type}:{state['external_id']}"
            body: dict[str, Any] = {"type": step.type, "source": step.source, "data": step.data,
                                    "source_event_id": source_event_id,
                                    "occurred_at": occurred.isoformat()}
            self._report(state, step, body, attempt)
            if step.duplicate and attempt == 0:
                self.stats.duplicates_sent += 1
                self.stats.duplicated.add((step.source, source_event_id))
                self._later(self.jitter.uniform(0.2, 2.0),
                            lambda: self._report(state, step, body, -1))

    def _request_return(self, state: dict[str, Any], step: Step) -> None:
        """The buyer's return through the returns API, on the lines the order really has (the
        platform simulators make their own lines); mainland buyers only (the pickup SMS goes
        to mainland mobile numbers)."""
        found = self._send("GET", f"/api/v1/orders/{state['order_id']}")
        if found is None or found.status_code != 200 or found.json().get("currency") != "CNY":
            return
        planned, actual = step.data["lines"], found.json()["lines"]
        lines = [{"sku": ln["sku"], "quantity": max(1, min(int(want["quantity"]),
                                                           int(ln["quantity"])))}
                 for want, ln in zip(planned, actual, strict=False)]
        body = {**step.data, "lines": lines, "source": step.source,
                "source_event_id": f"RR-{state['external_id']}"}
        response = self._send("POST", f"/api/v1/orders/{state['order_id']}/returns", json=body)
        if response is not None and response.status_code in (200, 201):
            state["return_id"], state["return_lines"] = response.json()["id"], lines
            self.stats.returns_requested += response.status_code == 201
            self.stats.recorded.add((step.source, body["source_event_id"]))

    def _report(self, state: dict[str, Any], step: Step, body: dict[str, Any],
                attempt: int) -> None:
        self.stats.reports_sent += 1
        self.stats.reports_late += step.late_by > 0 and attempt == 0
        response = self._send("POST", f"/api/v1/orders/{state['order_id']}/events", json=body)
        if response is None:
            return
        if response.status_code in (200, 201):
            self.stats.recorded.add((step.source, body["source_event_id"]))
            self.stats.duplicate_answers += response.json().get("outcome") == "duplicate"
        elif (response.status_code == 409 and attempt >= 0 and attempt < HOLD_RETRIES
              and response.json().get("error", {}).get("code") == "order_on_hold"):
            self._later(HOLD_RETRY_SECONDS, lambda: self._do(state, step, attempt + 1))
