"""The push journal of the embedded default: a small SQLite file beside the main one.

SQLite has one writer per database. A platform's push must be answered fast (Lazada within
500 ms; the bench's target is 50 ms at the 99th percentile) while the main database's writer is
busy applying orders and delivering events; so on SQLite a verified push is committed here
(WAL, ``synchronous=FULL``: durable before the answer), in its own file with its own writer,
and the channel worker moves it into the main database (channel_pushes and channel_jobs) in
one transaction, then marks it moved. A crash between the two moves it again, which changes
nothing (the main database knows the push by its key). The journal also answers "seen
before?" for replays; moved rows are kept for a week for that.

On PostgreSQL there is no journal: writers lock rows, not the database, and a push is written
straight into channel_pushes and channel_jobs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters.channels.base import dumps, read_json
from orderpilot.domain.channel_orders import PushNotice
from orderpilot.services.channels.ports import JournalRow

_SCHEMA = """
CREATE TABLE IF NOT EXISTS push_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    push_key TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    notices TEXT NOT NULL,
    moved INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, push_key)
)"""
KEEP_MOVED = timedelta(days=7)


class PushJournal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.engine = sa.create_engine(f"sqlite:///{path}", hide_parameters=True,
                                       connect_args={"check_same_thread": False,
                                                     "timeout": 30})

        @sa.event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # an acknowledged push survives a power cut
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        self._lock = threading.Lock()
        with self.engine.connect() as conn:
            conn.exec_driver_sql(_SCHEMA)
            conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_push_journal_moved "
                                 "ON push_journal (moved, seq)")

    def write(self, pushes: Sequence[tuple[str, str, str, Sequence[PushNotice]]],
              now: datetime) -> list[bool]:
        """(account, push_key, body, notices) each, in one transaction; True where the push
        is new, False where this account sent this push before."""
        fresh: list[bool] = []
        with self._lock, self.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                for account, key, body, notices in pushes:
                    inserted = conn.exec_driver_sql(
                        "INSERT INTO push_journal (account, push_key, received_at, body, "
                        "notices) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
                        (account, key, now.isoformat(), body.replace("\x00", "\\u0000"),
                         _notices_text(notices))).first()
                    fresh.append(inserted is not None)
                conn.exec_driver_sql("COMMIT")
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
        return fresh

    def unmoved(self, limit: int) -> list[JournalRow]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT seq, account, push_key, received_at, body, notices FROM push_journal "
                "WHERE moved = 0 ORDER BY seq LIMIT ?", (limit,)).all()
        return [JournalRow(r[0], r[1], r[2], datetime.fromisoformat(r[3]), r[4],
                           _notices_of(r[5])) for r in rows]

    def mark_moved(self, seqs: Sequence[int], now: datetime) -> None:
        if not seqs:
            return
        with self._lock, self.engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            marks = ",".join("?" * len(seqs))
            conn.exec_driver_sql(f"UPDATE push_journal SET moved = 1 WHERE seq IN ({marks})",
                                 tuple(seqs))
            conn.exec_driver_sql("DELETE FROM push_journal WHERE moved = 1 AND received_at < ?",
                                 ((now - KEEP_MOVED).isoformat(),))
            conn.exec_driver_sql("COMMIT")

    def dispose(self) -> None:
        self.engine.dispose()


def _notices_text(notices: Sequence[PushNotice]) -> str:
    return json.dumps([{"external_id": n.external_id, "dedup_key": n.dedup_key,
                        "status": n.status, "kind": n.kind,
                        "update_time": n.update_time.isoformat() if n.update_time else None,
                        "raw": None if n.raw is None else dumps(n.raw)} for n in notices],
                      ensure_ascii=False)


def _notices_of(text: str) -> tuple[PushNotice, ...]:
    return tuple(PushNotice(
        external_id=n["external_id"], dedup_key=n["dedup_key"], status=n.get("status") or "",
        update_time=datetime.fromisoformat(n["update_time"]) if n.get("update_time") else None,
        raw=None if n.get("raw") is None else read_json(n["raw"], "journal.raw"),
        kind=n.get("kind") or "order") for n in json.loads(text))
