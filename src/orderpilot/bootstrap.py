"""The composition root: the one place that builds engines, settings, clocks and handlers."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from orderpilot import background
from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.adapters.audit_files import AuditFileWriter
from orderpilot.adapters.audit_runs import SqlAuditRuns
from orderpilot.adapters.channels.gateway import ChannelGateway
from orderpilot.adapters.channels.journal import PushJournal
from orderpilot.adapters.connectors import Connectors, HostNotAllowed
from orderpilot.adapters.db import UNAVAILABLE, Database
from orderpilot.adapters.decision_tables import TableEngine, ZenExpressionChecker, reading
from orderpilot.adapters.expressions import ExpressionEngine
from orderpilot.adapters.logging import configure_logging
from orderpilot.adapters.metrics import Metrics
from orderpilot.adapters.pg_wake import CHANNEL_JOBS, EVENTS, RUNS, WEBHOOKS, WakeListener
from orderpilot.adapters.quarantine import keep_in_quarantine
from orderpilot.adapters.rule_files import read_rule_file
from orderpilot.adapters.runs import RunRepository
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.adapters.walkthrough import SqlHistory
from orderpilot.adapters.walkthrough_live import (
    BillQuery,
    CarrierRoutes,
    ChannelDetail,
    ErpReceivable,
    ErpSaleOrder,
    RouteQuery,
)
from orderpilot.adapters.webhook_http import GuardedPoster
from orderpilot.config import Settings
from orderpilot.domain.channel_orders import Account
from orderpilot.domain.currency_rates import CurrencyRates
from orderpilot.domain.errors import PermanentError
from orderpilot.domain.shipments import CarrierEvent
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.sf_express.client import SfError
from orderpilot.services import handlers, refused_reports, webhooks
from orderpilot.services.back_office.booking import BookingSettings, Erp, ErpBookingWorker
from orderpilot.services.carriers.route_poller import PollerSettings, RoutePoller, RouteSource
from orderpilot.services.channels.hooks import AccountCache, PushBatcher
from orderpilot.services.channels.worker import ChannelWorker, WorkerSettings
from orderpilot.services.dispatch import Dispatcher, DispatchSettings
from orderpilot.services.event_relay import EventRelay
from orderpilot.services.handlers import HandlerRegistry
from orderpilot.services.order_intake import OrderIntake
from orderpilot.services.rules.actions import ActionTable
from orderpilot.services.rules.authoring import RulesService
from orderpilot.services.rules.book import RuleBook
from orderpilot.services.rules.decision_tables import DecisionTables
from orderpilot.services.rules.resend import ResendPolicy
from orderpilot.services.rules.runner import ActionRunner, RunnerSettings
from orderpilot.services.rules.triggers import RuleTriggers
from orderpilot.services.walkthrough import LiveLookup, Walkthrough
from orderpilot.services.webhooks import SenderSettings, WebhookSender
from orderpilot.startup import load_secret, stop_at, system_clock


@dataclass
class Hub:
    """Everything an entrypoint needs, built once."""

    settings: Settings
    db: Database
    registry: HandlerRegistry
    clock: Callable[[], datetime]
    secret_key: str
    engine: ExpressionEngine
    connectors: Connectors
    integrations: IntegrationRegistry
    book: RuleBook
    rules: RulesService
    # Decision tables and their zen engine: one per process, so its cache is shared.
    decision_tables: DecisionTables
    actions: ActionTable  # every rule action the hub offers, by id
    channels: ChannelGateway  # the sales-channel platforms, a client per shop
    channel_accounts: AccountCache  # accounts by code, for pushes
    push_batcher: PushBatcher  # group commit of pushes
    push_journal: PushJournal | None  # SQLite: pushes land in their own file first
    metrics: Metrics = field(default_factory=Metrics)
    intake: OrderIntake = field(init=False)  # group commit of the orders the API takes
    dispatchers: list[Dispatcher] = field(default_factory=list)
    runners: list[ActionRunner] = field(default_factory=list)
    channel_workers: list[ChannelWorker] = field(default_factory=list)
    webhook_senders: list[WebhookSender] = field(default_factory=list)
    pulls_stock: bool = False  # an inventory puller thread runs in this process
    wake_listener: WakeListener | None = None  # PostgreSQL: LISTEN for other processes' work
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _snapshot: Snapshot | None = None
    _snapshot_lock: threading.Lock = field(default_factory=threading.Lock)
    _closing: list[Callable[[], None]] = field(default_factory=list)

    def uow(self) -> SqlUnitOfWork:
        """A unit of work (for commands and for the background workers): its commit wakes
        this process's workers of the kinds of work it queued, at once (pg_wake.KINDS)."""
        return SqlUnitOfWork(self.db, wake=self._wake_for)

    def wake_channel_workers(self) -> None:
        for w in self.channel_workers:
            w.wake()

    def _wake_dispatch(self) -> None:
        for d in self.dispatchers:
            d.wake()

    def _wake_for(self, kinds: frozenset[str] | None) -> None:
        """Wake the workers of the kinds of work a commit queued (None: all of them)."""
        if kinds is None or EVENTS in kinds:
            self._wake_dispatch()
        if kinds is None or RUNS in kinds:
            for r in self.runners:
                r.wake()
        if kinds is None or WEBHOOKS in kinds:
            for w in self.webhook_senders:
                w.wake()
        if kinds is None or CHANNEL_JOBS in kinds:
            self.wake_channel_workers()

    def wake_for_kind(self, kind: str | None) -> None:
        self._wake_for(None if kind is None else frozenset((kind,)))

    def dispatcher(self, name: str) -> Dispatcher:
        s = self.settings
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{name}"
        d = Dispatcher(self.uow,
                       self.registry, self.clock, worker_id,
                       DispatchSettings(max_attempts=s.dispatch_max_attempts,
                                        idle_poll_seconds=s.dispatch_poll_seconds,
                                        one_transaction_per_batch=self.db.is_sqlite,
                                        commit_chunk=s.dispatch_commit_chunk))
        d.stats.observers.append(lambda what, n: self.metrics.dispatch.labels(what).inc(n))
        d.stats.lag_observers.append(self.metrics.dispatch_lag.observe)
        self.dispatchers.append(d)
        return d

    def _runs_due(self, now: datetime) -> bool:
        with self.db.read() as conn:
            return RunRepository(conn).any_due(now)

    def runner(self, name: str) -> ActionRunner:
        """A rule action runner (tests call ``run_once`` on one directly)."""
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{name}"
        r = ActionRunner(self.uow, self.book, self.connectors,
                         self.clock, worker_id,
                         RunnerSettings(hmac_secret=self.settings.http_hmac_secret,
                                        lease=timedelta(seconds=self.settings.rule_lease_seconds),
                                        resend=ResendPolicy(
                                            timedelta(seconds=self.settings
                                                      .rule_lookup_grace_seconds),
                                            timedelta(seconds=self.settings
                                                      .rule_lookup_backoff_seconds)),
                                        stop_at=stop_at(self.settings.test_stop_at),
                                        strike_limit=self.settings.rule_strike_limit,
                                        concurrency=self.settings.rule_call_concurrency),
                         # PostgreSQL: a claim that finds nothing costs what asking does
                         any_due=self._runs_due if self.db.is_sqlite else None,
                         reader=lambda: SqlUnitOfWork(self.db, read_only=True).autocommit(),
                         actions=self.actions)
        r.stats.observers.append(
            lambda action, lag: self.metrics.rule_action_lag.labels(action).observe(lag))
        self.runners.append(r)
        return r

    def channel_worker(self, name: str) -> ChannelWorker:
        """A channel worker (tests call ``run_once`` / ``run_schedule`` on one directly)."""
        worker = ChannelWorker(self.uow,
                               self.channels, self.clock,
                               f"{socket.gethostname()}:{os.getpid()}:{name}",
                               WorkerSettings(schedule_every_seconds=self.settings
                                              .channel_schedule_seconds),
                               journal=self.push_journal)
        self.channel_workers.append(worker)
        return worker

    def webhook_sender(self, name: str) -> WebhookSender:
        """An outbound webhook sender (tests call ``run_once`` on one directly)."""
        sender = WebhookSender(self.uow,
                               GuardedPoster(self.connectors.http_client,
                                             self.connectors.check_url),
                               self.clock, f"{socket.gethostname()}:{os.getpid()}:{name}",
                               SenderSettings(
                                   timeout_s=self.settings.webhook_timeout_seconds,
                                   lease=timedelta(seconds=self.settings.webhook_lease_seconds)))
        self.webhook_senders.append(sender)
        return sender

    def event_relay(self) -> EventRelay | None:
        """The NATS JetStream relay when ORDERPILOT_NATS_RELAY_URL is set (tests call
        ``run_once`` on it)."""
        s = self.settings
        if not s.nats_relay_url:
            return None
        from orderpilot.adapters.nats_jetstream import JetStreamPublisher  # the nats extra

        publisher = JetStreamPublisher(s.nats_relay_url, s.nats_relay_stream,
                                       f"{s.nats_relay_subject_prefix}.>")
        self._closing.append(publisher.close)
        return EventRelay(self.uow, publisher, self.clock)

    def start_dispatchers(self, count: int, runners: int | None = None) -> None:
        """Dispatcher threads, and threads for the other workers beside them (background.py)."""
        for target, name in background.workers(self, count, runners):
            thread = threading.Thread(target=target, args=(self._stop,), name=name,
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def erp_worker(self, name: str = "erp") -> ErpBookingWorker | None:
        """The ERP booking worker when Kingdee is configured (tests call run_once on it)."""
        try:
            erp = self.connectors.client("kingdee")
        except PermanentError:
            return None
        s = self.settings
        return ErpBookingWorker(
            self.uow, cast(Erp, erp), self.clock,
            f"{socket.gethostname()}:{os.getpid()}:{name}",
            BookingSettings(batch_size=s.kingdee_batch_size,
                            receivables_every=timedelta(minutes=s.kingdee_receivables_minutes)),
            stop_at=stop_at(s.test_stop_at))

    def route_poller(self) -> RoutePoller | None:
        """SF Express's route poller, when SF is configured."""
        settings = self.connectors.configured.get("sf_express")
        if settings is None:
            return None

        def keep(events: Sequence[CarrierEvent], reason: str) -> None:
            keep_in_quarantine(self, "sf", "sf-route-poller", reason, "tracking_number",
                               json.dumps([{"tracking_number": e.tracking_number,
                                            "type": e.type, "occurred_at":
                                            e.occurred_at.isoformat(), "data": e.data}
                                           for e in events], ensure_ascii=False))

        source = cast(RouteSource, self.connectors.client("sf_express"))
        return RoutePoller("sf", source,
                           self.uow, self.clock, keep,
                           PollerSettings(every=timedelta(
                               minutes=getattr(settings, "poll_minutes", 30))))

    def analytics(self, refresh: bool = True) -> Snapshot:
        """The columnar snapshot of the history (adapters/analytics/snapshot.py), brought up to
        date unless REFRESH is false. One per process, kept in
        ``<data_dir>/analytics/snapshot.duckdb``; when another process holds that file (a CLI
        command beside ``serve``), this one works on a copy in memory."""
        with self._snapshot_lock:
            if self._snapshot is None:
                path = self.settings.data_dir / "analytics" / "snapshot.duckdb"
                try:
                    self._snapshot = Snapshot(self.db, path)
                except Exception:  # duckdb.IOException: the file is locked by another process
                    self._snapshot = Snapshot(self.db, None)
            snapshot = self._snapshot
        if refresh:
            snapshot.refresh()
        return snapshot

    def walkthrough(self) -> Walkthrough:
        """The walkthrough audit (S12a), with a live look-up for every connected system that
        is configured: Kingdee's sale orders and receivables, the shops' channel accounts,
        SF Express routes (adapters/walkthrough_live.py); the rest from their last reports."""
        lookups: list[LiveLookup] = [ChannelDetail(self.db, self.channels)]
        try:
            erp = self.connectors.client("kingdee")
        except PermanentError:
            erp = None
        if erp is not None:
            query = cast(BillQuery, getattr(erp, "client", erp))
            lookups += [ErpSaleOrder(query), ErpReceivable(query)]
        if self.connectors.configured.get("sf_express") is not None:
            lookups.append(CarrierRoutes(self.db, "sf", cast(RouteQuery, self.connectors
                                                              .client("sf_express")),
                                         errors=(SfError, ValueError)))
        return Walkthrough(SqlHistory(self.db), SqlAuditRuns(self.db), AuditFileWriter(),
                           self.clock, lookups,
                           lag_target_seconds=self.settings.walkthrough_lag_target_seconds,
                           files_root=self.settings.data_dir / "audits")

    def close(self) -> None:
        self.intake.close()  # the orders already handed over are placed first
        self._stop.set()
        self._wake_for(None)
        for thread in self._threads:
            thread.join(timeout=10)
        for close in self._closing:
            close()
        self.connectors.close()
        if self._snapshot is not None:
            self._snapshot.close()
        if self.push_journal is not None:
            self.push_journal.dispose()
        self.db.dispose()


def bootstrap(settings: Settings | None = None, *, clock: Callable[[], datetime] = system_clock,
              registry: HandlerRegistry | None = None,
              integrations: IntegrationRegistry | None = None) -> Hub:
    """INTEGRATIONS: the outside systems (default: the built-in ones and every installed
    package in the entry-point group ``orderpilot.integrations``)."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url, synchronous=settings.sqlite_synchronous)
    engine = ExpressionEngine(budget_seconds=settings.rule_evaluation_budget_ms / 1000)
    integrations = integrations or IntegrationRegistry.discover()
    connectors = Connectors.from_settings(settings, integrations=integrations)
    tables = DecisionTables(lambda: SqlUnitOfWork(db), lambda: reading(db), clock,
                            TableEngine(), ZenExpressionChecker())
    actions = ActionTable(extra=integrations.actions())
    book = RuleBook(engine, tables=tables.traced_lookup, actions=actions.types(),
                    rates=CurrencyRates(settings.currency_rates))
    triggers = RuleTriggers(book, strike_limit=settings.rule_strike_limit)
    registry = handlers.complete(registry or handlers.default_registry(), triggers, [
        p.strip() for p in settings.handler_plugins.split(",") if p.strip()])
    if settings.nats_relay_url:  # the optional JetStream relay (docs/webhooks.md)
        registry.add(handlers.relay_handlers(settings.nats_relay_subject_prefix))
    registry.on_timer(refused_reports.SWEEP_TIMER,
                      refused_reports.sweeper(settings.refused_reports_keep_days))
    registry.on_timer(webhooks.SWEEP_TIMER,
                      webhooks.sweeper(settings.webhook_deliveries_keep_days))

    def check_url(url: str) -> str | None:
        try:
            connectors.check_url(url)
        except HostNotAllowed as error:
            return error.message
        return None

    rules = RulesService(lambda: SqlUnitOfWork(db), clock, book, check_url, tables.outputs,
                         reader=lambda: SqlUnitOfWork(db, read_only=True),
                         rule_files=read_rule_file,
                         connectors=connectors.connector_names(), actions=actions)
    gateway = ChannelGateway(integrations.channels(), connectors.http_client, clock,
                             connectors.check_url)

    def load_account(code: str) -> Account | None:
        with SqlUnitOfWork(db, read_only=True) as uow:
            return uow.channels.account(code)

    # Pushes commit through the hub's unit of work, whose commit wakes the channel workers.
    journal = PushJournal(settings.data_dir / "channel_pushes.db") if db.is_sqlite else None
    hub = Hub(settings, db, registry, clock, load_secret(settings), engine, connectors,
              integrations, book, rules, tables, actions, gateway, AccountCache(load_account),
              PushBatcher(lambda: hub.uow(), clock, journal=journal,
                          after_journal=lambda: hub.wake_channel_workers()), journal)
    hub.intake = OrderIntake(hub.uow, clock, observe=hub.metrics.intake_batch.observe,
                             unavailable=lambda error: isinstance(error, UNAVAILABLE))
    hub.metrics.watch_statements(db.statements)
    if db.is_sqlite:
        hub.metrics.watch_sqlite_writer(db.writer_time)
    return hub
