"""The unit of work: one transaction, the repositories on it, and after-commit hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, NestedTransaction

from orderpilot.adapters.audit_log import AuditLogRepository
from orderpilot.adapters.back_office import BackOfficeRepository
from orderpilot.adapters.channel_store import ChannelStore
from orderpilot.adapters.db import Database
from orderpilot.adapters.decision_tables import DecisionTableRepository
from orderpilot.adapters.exceptions import ExceptionRepository
from orderpilot.adapters.expectations import ExpectationRepository
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.adapters.outbox import EventLog, Inbox, Outbox, Timers
from orderpilot.adapters.pg_wake import take_queued
from orderpilot.adapters.refused_reports import RefusedReportLog
from orderpilot.adapters.repository import OrderRepository
from orderpilot.adapters.return_routing import ReturnRoutingRepository
from orderpilot.adapters.returns import ReturnRepository
from orderpilot.adapters.rules import RuleRepository, SmsTemplateRepository
from orderpilot.adapters.runs import RunRepository
from orderpilot.adapters.settings_version import SettingsVersionRepository
from orderpilot.adapters.shipments import ShipmentRepository
from orderpilot.adapters.stats import StatsRepository
from orderpilot.adapters.tickets import AttributeRepository, CustomerRepository, TicketRepository
from orderpilot.adapters.webhooks import RelayQueue, WebhookRepository
from orderpilot.adapters.wms_outbound import WmsOutboundRepository
from orderpilot.domain.errors import ConcurrentUpdate
from orderpilot.services.unit_of_work import SharedReads, UnitOfWork


class SqlUnitOfWork:
    """``with uow:`` opens a write transaction; leaving the block without error commits it."""

    conn: Connection
    orders: OrderRepository
    events: EventLog
    outbox: Outbox
    inbox: Inbox
    timers: Timers
    stats: StatsRepository
    decision_tables: DecisionTableRepository
    rules: RuleRepository
    runs: RunRepository
    tickets: TicketRepository
    customers: CustomerRepository
    attributes: AttributeRepository
    sms_templates: SmsTemplateRepository
    inventory: InventoryRepository
    channels: ChannelStore
    back_office: BackOfficeRepository
    shipments: ShipmentRepository
    wms_outbound: WmsOutboundRepository
    expectations: ExpectationRepository
    returns: ReturnRepository
    return_routing: ReturnRoutingRepository
    audit_log: AuditLogRepository
    refused_reports: RefusedReportLog
    exceptions: ExceptionRepository
    webhooks: WebhookRepository
    nats_relay: RelayQueue
    settings_version: SettingsVersionRepository

    def __init__(self, db: Database, *, read_only: bool = False,
                 wake: Callable[[frozenset[str]], None] | None = None) -> None:
        """``wake`` runs after a commit that queued work, told its kinds (``pg_wake.KINDS``),
        so only the workers of those kinds wake."""
        self.db = db
        self._wake = wake
        self._read_only = read_only
        self._autocommit = False
        self._stack: ExitStack | None = None
        self._shared: SharedReads | None = None
        self._made: list[str] = []  # the repositories made in this transaction

    def __enter__(self) -> SqlUnitOfWork:
        self._stack = ExitStack()
        # read_only: a snapshot that never takes the write lock (backtests, trying a rule);
        # it is rolled back at the end, so nothing written in it would stay
        self.conn = self._stack.enter_context(
            self.db.autocommit(reading=self._read_only) if self._autocommit
            else self.db.read() if self._read_only else self.db.write())
        take_queued(self.conn)  # what an earlier user of this driver connection left
        while self._made:  # a unit of work entered again starts with fresh repositories
            del self.__dict__[self._made.pop()]
        return self

    def autocommit(self) -> SqlUnitOfWork:
        """This unit of work with each statement committed on its own (Database.autocommit):
        for a claim or a poll of one statement, not for changes that must commit together."""
        self._autocommit = True
        return self

    def __getattr__(self, name: str) -> Any:
        """A repository is made when first used in the transaction: most transactions use two
        or three of them, and making all of them cost 70 us an order placed."""
        make = _REPOSITORIES.get(name)
        if make is None or "conn" not in self.__dict__:
            raise AttributeError(name)
        repository = make(self.conn)
        if name in _SHARING and self._shared is not None:
            repository.shared = self._shared
        setattr(self, name, repository)
        self._made.append(name)
        return repository

    def share_reads(self, shared: SharedReads) -> None:
        """Read the batch's configuration through SHARED (see SharedReads)."""
        self._shared = shared
        for name in _SHARING:
            if name in self.__dict__:
                self.__dict__[name].shared = shared

    def _forget_reads(self) -> None:
        if "orders" in self.__dict__:
            self.orders.forget_all()
        if self._shared is not None:
            self._shared.forget()

    @contextmanager
    def savepoint(self) -> Iterator[NestedTransaction]:
        """A nested transaction: an error inside rolls back only what happened inside. A lost
        lock race inside (a deadlock victim, a unique-key race, a lock timeout) comes out as
        ConcurrentUpdate, so a caller that batched several commands can retry them apart."""
        try:
            with self.conn.begin_nested() as nested:
                yield nested
        except BaseException as error:
            self._forget_reads()  # they may hold what the rollback undid
            if not isinstance(error, sa_exc.IntegrityError | sa_exc.OperationalError):
                raise
            converted = _retryable(error)
            if converted is error:
                raise
            raise converted from error

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._stack is not None
        queued = take_queued(self.conn)
        if exc_type is not None:
            self._forget_reads()
        try:
            self._stack.__exit__(exc_type, exc, tb)
        except (sa_exc.IntegrityError, sa_exc.OperationalError) as error:
            self._stack = None
            raise _retryable(error) from error
        self._stack = None
        if isinstance(exc, sa_exc.IntegrityError | sa_exc.OperationalError):
            raise _retryable(exc) from exc
        if exc_type is None and queued and self._wake is not None:
            self._wake(queued)


_REPOSITORIES: dict[str, Callable[[Connection], Any]] = {
    "orders": OrderRepository, "events": EventLog, "outbox": Outbox, "inbox": Inbox,
    "timers": Timers, "stats": StatsRepository, "decision_tables": DecisionTableRepository,
    "rules": RuleRepository, "runs": RunRepository, "tickets": TicketRepository,
    "customers": CustomerRepository, "attributes": AttributeRepository,
    "sms_templates": SmsTemplateRepository, "inventory": InventoryRepository,
    "channels": ChannelStore, "back_office": BackOfficeRepository,
    "shipments": ShipmentRepository, "wms_outbound": WmsOutboundRepository,
    "expectations": ExpectationRepository, "returns": ReturnRepository,
    "return_routing": ReturnRoutingRepository, "audit_log": AuditLogRepository,
    "refused_reports": RefusedReportLog, "exceptions": ExceptionRepository,
    "webhooks": WebhookRepository, "nats_relay": RelayQueue,
    "settings_version": SettingsVersionRepository}
# The repositories that read the batch's configuration through SharedReads.
_SHARING = ("expectations", "webhooks", "inventory")


def _retryable(error: BaseException) -> BaseException:
    """A unique-key race or a lock timeout: the service layer retries the whole command."""
    text = str(error).lower()
    if isinstance(error, sa_exc.IntegrityError) or "deadlock" in text or "lock" in text \
            or "serializ" in text:
        return ConcurrentUpdate("a concurrent write got there first; try again",
                                code="concurrent_update",
                                zh="另一个并发写入先完成了，请重试")
    return error


def unit_of_work(db: Database, *, read_only: bool = False,
                 wake: Callable[[frozenset[str]], None] | None = None) -> UnitOfWork:
    """A SqlUnitOfWork seen as the service layer's UnitOfWork (mypy checks that it is one)."""
    return SqlUnitOfWork(db, read_only=read_only, wake=wake)
