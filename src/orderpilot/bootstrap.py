"""The composition root: the one place that builds engines, settings, clocks and handlers."""

from __future__ import annotations

import importlib
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orderpilot.adapters.db import Database
from orderpilot.adapters.logging import configure_logging
from orderpilot.adapters.metrics import Metrics
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.config import Settings
from orderpilot.services.dispatch import Dispatcher, DispatchSettings
from orderpilot.services.handlers import HandlerRegistry, default_registry


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    """Everything an entrypoint needs, built once."""

    settings: Settings
    db: Database
    registry: HandlerRegistry
    clock: Callable[[], datetime]
    secret_key: str
    metrics: Metrics = field(default_factory=Metrics)
    dispatchers: list[Dispatcher] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def uow(self) -> SqlUnitOfWork:
        """A unit of work for commands; its commit wakes the embedded dispatcher."""
        return SqlUnitOfWork(self.db, after_commit=self._wake)

    def _wake(self) -> None:
        for d in self.dispatchers:
            d.wake()

    def dispatcher(self, name: str) -> Dispatcher:
        s = self.settings
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{name}"
        d = Dispatcher(lambda: SqlUnitOfWork(self.db), self.registry, self.clock, worker_id,
                       DispatchSettings(max_attempts=s.dispatch_max_attempts,
                                        idle_poll_seconds=s.dispatch_poll_seconds,
                                        one_transaction_per_batch=self.db.is_sqlite))
        d.stats.observers.append(lambda what, n: self.metrics.dispatch.labels(what).inc(n))
        d.stats.lag_observers.append(self.metrics.dispatch_lag.observe)
        self.dispatchers.append(d)
        return d

    def start_dispatchers(self, count: int) -> None:
        for i in range(count):
            d = self.dispatcher(f"t{i}")
            thread = threading.Thread(target=d.run_forever, args=(self._stop,),
                                      name=f"dispatcher-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        self._wake()
        for thread in self._threads:
            thread.join(timeout=10)
        self.db.dispose()


def load_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def bootstrap(settings: Settings | None = None, *, clock: Callable[[], datetime] = system_clock,
              registry: HandlerRegistry | None = None) -> Hub:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    registry = registry or default_registry()
    for module_path in filter(None, (p.strip() for p in settings.handler_plugins.split(","))):
        importlib.import_module(module_path).register(registry)
    return Hub(settings, db, registry, clock, load_secret(settings))
