"""What the service layer needs from storage, as a protocol (the adapters implement it)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from orderpilot.domain.errors import ConcurrentUpdate
from orderpilot.services import repositories as repos
from orderpilot.services.back_office.store import BackOfficeStore
from orderpilot.services.carriers.repository import Shipments
from orderpilot.services.channels.ports import ChannelStore
from orderpilot.services.return_store import ReturnStore
from orderpilot.services.returns_routing.store import ReturnRoutingStore

if TYPE_CHECKING:
    from orderpilot.services.audit_trail import AuditLog
    from orderpilot.services.event_relay import RelayStore
    from orderpilot.services.exceptions.store import ExceptionStore
    from orderpilot.services.expectations import ExpectationStore
    from orderpilot.services.refused_reports import RefusedReports
    from orderpilot.services.webhooks import WebhookStore
    from orderpilot.services.wms_outbound import OutboundQueue

T = TypeVar("T")
Clock = Callable[[], datetime]


class SharedReads:
    """Configuration that every event of a claimed batch reads (which webhooks are active,
    which expectations watch an event type, the channel's stock strategy, the stock sources,
    the live promotions), read once for the batch instead of once an event: the dispatcher
    hands one to each of the batch's units of work (``UnitOfWork.share_reads``).

    Why this misses no change: every read happens after the batch was claimed, and an event
    can only be claimed once it is committed, so a subscription or setting committed before
    an event was recorded is always seen by that event. A change committed while a batch is
    being delivered is seen from the next batch on (at most one batch late), as if the
    batch's events had been delivered the moment they were claimed. A unit of work that
    writes one of these settings forgets them (``forget``).

    The ``lasting`` reads are kept from one batch to the next while the settings version
    stands: database triggers raise it with every change to their tables
    (adapters/tables_settings_version.py), and the dispatcher reads it after each claim
    (``new_batch``), so the argument above holds for them too. The others (the live
    promotions, whose counters move with every gift) are read again each batch."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, ...], Any] = {}
        self._lasting: set[tuple[str, ...]] = set()
        self._version: int | None = None

    def read(self, key: tuple[str, ...], read: Callable[[], T], *,
             lasting: bool = False) -> T:
        if key not in self._values:
            self._values[key] = read()
            if lasting:
                self._lasting.add(key)
        value: T = self._values[key]
        return value

    def new_batch(self, version: int | None) -> None:
        """A batch was claimed and the settings version read after the claim: every read of
        the last batch goes, but the lasting ones when VERSION is the one they were read
        under (None: no version, so nothing is kept)."""
        if version is None or version != self._version:
            self.forget()
        else:
            for key in [k for k in self._values if k not in self._lasting]:
                del self._values[key]
        self._version = version

    def forget(self) -> None:
        self._values.clear()
        self._lasting.clear()
        self._version = None


def shared_or_fresh(shared: SharedReads | None, key: tuple[str, ...],
                    read: Callable[[], T], *, lasting: bool = False) -> T:
    return read() if shared is None else shared.read(key, read, lasting=lasting)


class UnitOfWork(Protocol):
    """One transaction and the repositories working in it (read-only attributes: a
    protocol member that may be assigned would have to match the adapter's type exactly)."""

    @property
    def orders(self) -> repos.Orders: ...
    @property
    def events(self) -> repos.Events: ...
    @property
    def outbox(self) -> repos.Outbox: ...
    @property
    def inbox(self) -> repos.Inbox: ...
    @property
    def timers(self) -> repos.Timers: ...
    @property
    def stats(self) -> repos.Stats: ...
    @property
    def decision_tables(self) -> repos.DecisionTableVersions: ...
    @property
    def rules(self) -> repos.Rules: ...
    @property
    def runs(self) -> repos.Runs: ...
    @property
    def tickets(self) -> repos.Tickets: ...
    @property
    def customers(self) -> repos.Customers: ...
    @property
    def attributes(self) -> repos.Attributes: ...
    @property
    def sms_templates(self) -> repos.SmsTemplates: ...
    @property
    def inventory(self) -> repos.Inventory: ...
    @property
    def channels(self) -> ChannelStore: ...
    @property
    def back_office(self) -> BackOfficeStore: ...
    @property
    def shipments(self) -> Shipments: ...
    @property
    def wms_outbound(self) -> OutboundQueue: ...
    @property
    def expectations(self) -> ExpectationStore: ...
    @property
    def returns(self) -> ReturnStore: ...
    @property
    def return_routing(self) -> ReturnRoutingStore: ...
    @property
    def audit_log(self) -> AuditLog: ...
    @property
    def refused_reports(self) -> RefusedReports: ...
    @property
    def exceptions(self) -> ExceptionStore: ...
    @property
    def webhooks(self) -> WebhookStore: ...
    @property
    def nats_relay(self) -> RelayStore: ...
    @property
    def settings_version(self) -> repos.SettingsVersion: ...

    def __enter__(self) -> UnitOfWork: ...
    def autocommit(self) -> UnitOfWork:
        """Each statement commits on its own (PostgreSQL: no BEGIN/COMMIT round trips): for
        a claim or a poll of one statement, never for changes that must commit together."""
    def savepoint(self) -> AbstractContextManager[object]: ...
    def share_reads(self, shared: SharedReads) -> None: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


UowFactory = Callable[[], UnitOfWork]


def retrying(action: Callable[[], T], attempts: int = 6) -> T:
    """Run a whole command again when a concurrent writer got there first."""
    for attempt in range(attempts):
        try:
            return action()
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
