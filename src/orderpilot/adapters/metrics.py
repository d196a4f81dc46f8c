"""Prometheus metrics. One registry per hub, so tests can build several apps."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from orderpilot.adapters.db import StatementCount, WriterTime
from orderpilot.adapters.views.operations import OperationsState


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.orders_placed = Counter("orderpilot_orders_placed_total",
                                     "Orders accepted, by channel and whether new",
                                     ["channel", "result"], registry=r)
        self.events_reported = Counter("orderpilot_events_reported_total",
                                       "System reports, by type and outcome",
                                       ["type", "outcome"], registry=r)
        self.channel_pushes = Counter("orderpilot_channel_pushes_total",
                                      "Platform pushes to /hooks, by outcome (taken, duplicate, "
                                      "quarantined, refused)", ["outcome"], registry=r)
        self.quarantined = Counter("orderpilot_quarantined_total",
                                   "Payloads kept in quarantine", ["endpoint"], registry=r)
        self.dispatch = Counter("orderpilot_dispatch_total",
                                "Dispatcher outcomes (delivered, failed, dead, timers_fired)",
                                ["outcome"], registry=r)
        self.http_latency = Histogram("orderpilot_http_request_seconds", "HTTP latency",
                                      ["method", "route", "status"], registry=r,
                                      buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5))
        self.dispatch_lag = Histogram(
            "orderpilot_dispatch_lag_seconds", "From recording an event to its handlers' effects",
            registry=r, buckets=(.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300))
        self.rule_action_lag = Histogram(
            "orderpilot_rule_action_lag_seconds",
            "From recording the triggering event to a rule's external action", ["action"],
            registry=r, buckets=(.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300))
        self.intake_batch = Histogram(
            "orderpilot_order_intake_batch_orders",
            "Orders taken over the API that were committed together in one transaction",
            registry=r, buckets=(1, 2, 4, 8, 16, 32, 64, 100))
        self.backlog = Gauge("orderpilot_backlog", "Outbox and timer backlog", ["queue"],
                             registry=r)
        # Read from the shared database when /metrics is scraped (adapters/views/operations.py)
        self.backlog_age = Gauge(
            "orderpilot_backlog_oldest_age_seconds",
            "How long the oldest event due for delivery (outbox) or timer due to fire (timers) "
            "has waited", ["queue"], registry=r)
        self.dead_letters = Gauge("orderpilot_dead_letters",
                                  "Dead-lettered events and timers waiting for a person",
                                  ["kind"], registry=r)
        self.pulls_failing = Gauge(
            "orderpilot_pulls_failing",
            "Channel accounts / stock sources whose last pull failed", ["kind"], registry=r)

    def watch_sqlite_writer(self, spent: WriterTime) -> None:
        """Export how busy this process kept SQLite's one writer (read when scraped)."""
        self.registry.register(_WriterCollector(spent))

    def watch_statements(self, count: StatementCount) -> None:
        """Export how many SQL statements this process sent (read when scraped)."""
        self.registry.register(_StatementCollector(count))

    def record_state(self, state: OperationsState) -> None:
        for queue, age in state.backlog_age_seconds.items():
            self.backlog_age.labels(queue).set(age)
        for kind, count in state.dead_letters.items():
            self.dead_letters.labels(kind).set(count)
        for kind, count in state.pulls_failing.items():
            self.pulls_failing.labels(kind).set(count)


class _WriterCollector(Collector):
    """The embedded database's single writer: `rate(busy[5m])` near 1 means write
    transactions queue behind each other (docs/performance.md, "Where the CPU goes")."""

    def __init__(self, spent: WriterTime) -> None:
        self.spent = spent

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "orderpilot_sqlite_writer_busy_seconds",
            "Seconds this process's write transactions held the SQLite writer",
            value=self.spent.held_s)
        yield CounterMetricFamily(
            "orderpilot_sqlite_writer_wait_seconds",
            "Seconds this process's write transactions waited for the SQLite writer",
            value=self.spent.waited_s)
        yield CounterMetricFamily(
            "orderpilot_sqlite_write_transactions",
            "Write transactions this process ran on SQLite", value=self.spent.transactions)


class _StatementCollector(Collector):
    """SQL statements this process sent: divided by `orderpilot_orders_placed_total` (or
    the events dispatched), what an order costs in round trips to the database."""

    def __init__(self, count: StatementCount) -> None:
        self.count = count

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily("orderpilot_sql_statements",
                                  "SQL statements this process sent to the database",
                                  value=self.count.sent)
