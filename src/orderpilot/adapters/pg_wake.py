"""Waking the workers of every process on PostgreSQL with LISTEN/NOTIFY.

A transaction that appends outbox rows (or rule runs) also issues ``NOTIFY``; PostgreSQL
delivers it when, and only if, that transaction commits
(https://www.postgresql.org/docs/current/sql-notify.html). One listener thread per process
holds its own connection with ``LISTEN`` and wakes that process's dispatchers and runners.
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
from sqlalchemy.engine import Connection, make_url

log = structlog.get_logger("orderpilot.wake")
CHANNEL = "orderpilot_work"


def notify(conn: Connection) -> None:
    """Tell the listening workers, at this transaction's commit, that work is due.
    Several notifications in one transaction are folded into one by PostgreSQL."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


def libpq_url(sqlalchemy_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+psycopg://``) as a URL psycopg connects with."""
    return make_url(sqlalchemy_url).set(drivername="postgresql") \
        .render_as_string(hide_password=False)


class WakeListener:
    """A thread's body: LISTEN on the hub's channel and call ``wake`` for notifications."""

    def __init__(self, url: str, wake: Callable[[], None], *,
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
            self.wake()  # work committed while nobody listened is not lost, only late
            while not stop.is_set():
                woken = False
                for _ in conn.notifies(timeout=self.check_seconds):
                    woken = True
                    break  # one wake-up covers every notification queued behind it
                if woken:
                    self.wake()
