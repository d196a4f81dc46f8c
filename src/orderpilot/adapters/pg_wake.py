"""Waking the workers of every process on PostgreSQL with LISTEN/NOTIFY.

A transaction that queues work (outbox rows, rule runs, webhook deliveries, channel jobs) issues
``NOTIFY`` with the kind of work as payload; PostgreSQL delivers it when, and only if, that
transaction commits (https://www.postgresql.org/docs/current/sql-notify.html). One listener
thread per process holds its own connection with ``LISTEN`` and wakes only that process's
workers of that kind: a dispatcher's commit that queued no rule run wakes no rule runner.
The same kinds are noted on the connection (:func:`take_queued`), so the unit of work wakes
its own process's workers at the commit without waiting for the notification.
Notifications are a hint, never the record: polling stays as the fallback, and a listener that
loses its connection reconnects and wakes everyone once, for what it may have missed.
PostgreSQL serialises the commits of notifying transactions on one queue lock; at the hub's
rates (hundreds of commits a second) that costs little beside the commit's own fsync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import structlog
from sqlalchemy import exc
from sqlalchemy.engine import Connection, make_url

log = structlog.get_logger("orderpilot.wake")
CHANNEL = "orderpilot_work"
# The kinds of queued work, each woken separately: outbox rows (dispatchers), rule runs
# (rule runners), webhook deliveries (webhook senders), channel fetch jobs (channel workers).
EVENTS, RUNS, WEBHOOKS, CHANNEL_JOBS = "events", "runs", "webhooks", "channel_jobs"
KINDS = frozenset({EVENTS, RUNS, WEBHOOKS, CHANNEL_JOBS})
_QUEUED = "orderpilot_queued"  # key in the connection's info dict


def notify(conn: Connection, kind: str) -> None:
    """Tell the listening workers, at this transaction's commit, that work of ``kind`` is due.
    Identical notifications in one transaction are folded into one by PostgreSQL."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of work {kind!r}")
    conn.info.setdefault(_QUEUED, set()).add(kind)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}, '{kind}'")


def take_queued(conn: Connection) -> frozenset[str]:
    """The kinds of work queued on ``conn`` since the last call, cleared (the info dict lives
    as long as the pooled driver connection, so every transaction must take it)."""
    try:
        info = conn.info
    except exc.SQLAlchemyError:  # the connection was lost mid-transaction: nothing commits
        return frozenset()
    return frozenset(info.pop(_QUEUED, ()))


def libpq_url(sqlalchemy_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+psycopg://``) as a URL psycopg connects with."""
    return make_url(sqlalchemy_url).set(drivername="postgresql") \
        .render_as_string(hide_password=False)


class WakeListener:
    """A thread's body: LISTEN on the hub's channel and call ``wake`` with the kind of work
    each notification names (``None``: every kind, after a (re)connection)."""

    def __init__(self, url: str, wake: Callable[[str | None], None], *,
                 reconnect_seconds: float = 1.0, check_seconds: float = 1.0) -> None:
        self.url = libpq_url(url)
        self.wake = wake
        self.reconnect_seconds = reconnect_seconds
        self.check_seconds = check_seconds  # how soon a stop request is noticed
        self.connections = 0  # how many times it (re)connected: tests watch it
        self.listening = threading.Event()

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._listen(stop)
            except psycopg.Error as error:
                self.listening.clear()
                log.warning("wake_listener_lost", error=str(error).splitlines()[0])
                stop.wait(self.reconnect_seconds)

    def _listen(self, stop: threading.Event) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.connections += 1
            self.listening.set()
            self.wake(None)  # work committed while nobody listened is not lost, only late
            while not stop.is_set():
                for note in conn.notifies(timeout=self.check_seconds):
                    self.wake(note.payload if note.payload in KINDS else None)
