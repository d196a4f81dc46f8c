"""PostgreSQL: a commit that appends events wakes the workers of another process at once
(LISTEN/NOTIFY), telling them the kind of work; a rolled-back one does not, and a listener
whose connection is killed reconnects by itself. On both databases, a unit of work tells its
own process which kinds of work it queued, and only those workers wake."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import require_pg
from conftest_pg import create_pg_database, drop_pg_database
from orderpilot.adapters import migrations
from orderpilot.adapters.pg_wake import RUNS, WEBHOOKS, WakeListener, notify
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.events import OrderEvent

pytestmark = pytest.mark.postgres


@contextmanager
def migrated_hub(tmp_path: Path, postgres: bool) -> Iterator[Hub]:
    url = None
    if postgres:
        require_pg()
        url = create_pg_database("wake")
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=url,
                             _env_file=None))  # type: ignore[call-arg]
    try:
        migrations.upgrade(hub.db)
        yield hub
    finally:
        hub.close()
        if url:
            drop_pg_database(url)


@pytest.fixture
def pg_hub(tmp_path: Path) -> Iterator[Hub]:
    with migrated_hub(tmp_path, postgres=True) as hub:
        yield hub



def append_event(hub: Hub, commit: bool = True) -> None:
    class Rollback(Exception):
        pass

    try:
        with hub.uow() as uow:
            uow.events.append([OrderEvent(None, "test.nudge", "test", hub.clock(), hub.clock(),
                                          {})])
            if not commit:
                raise Rollback
    except Rollback:
        pass


def test_a_commit_wakes_a_listener_and_a_lost_connection_comes_back(pg_hub: Hub) -> None:
    woken = threading.Event()
    kinds: list[str | None] = []

    def wake(kind: str | None) -> None:
        kinds.append(kind)
        woken.set()

    listener = WakeListener(pg_hub.db.url, wake, reconnect_seconds=0.1, check_seconds=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        assert listener.listening.wait(10)
        woken.wait(1)
        assert kinds == [None]  # every (re)connection wakes every kind of worker once
        woken.clear()
        kinds.clear()

        append_event(pg_hub, commit=False)
        assert not woken.wait(0.5), "a rolled-back append woke the workers"
        started = time.monotonic()
        append_event(pg_hub)
        assert woken.wait(2), "the commit did not wake the listener"
        assert time.monotonic() - started < 1.0  # not the polling interval
        assert kinds == ["events"]  # only the dispatchers need to look
        woken.clear()
        kinds.clear()
        with pg_hub.db.write() as conn:  # two kinds in one transaction: both told, once each
            notify(conn, RUNS)
            notify(conn, RUNS)
            notify(conn, WEBHOOKS)
        deadline = time.monotonic() + 2
        while len(kinds) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(k or "" for k in kinds) == ["runs", "webhooks"]

        with pg_hub.db.write() as conn:  # an administrator (or a failover) drops it
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE starts_with(query, 'LISTEN') AND pid <> pg_backend_pid() "
                "AND datname = current_database()")
        deadline = time.monotonic() + 10
        while listener.connections < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.connections >= 2, "the listener did not reconnect"
        assert listener.listening.wait(5)
        woken.clear()
        append_event(pg_hub)
        assert woken.wait(2), "no wake-up after the reconnection"
    finally:
        stop.set()
        thread.join(timeout=5)


@pytest.fixture(params=["sqlite", "postgres"])
def any_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    with migrated_hub(tmp_path, postgres=request.param == "postgres") as hub:
        yield hub


def test_a_unit_of_work_wakes_only_the_workers_of_what_it_queued(any_hub: Hub) -> None:
    told: list[frozenset[str]] = []

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(any_hub.db, wake=told.append)

    with uow() as work:  # nothing queued: nobody is woken
        work.orders.get("nobody")
    assert told == []
    with uow() as work:
        work.events.append([OrderEvent(None, "test.nudge", "test", any_hub.clock(),
                                       any_hub.clock(), {})])
    assert told == [frozenset({"events"})]
    told.clear()

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), uow() as work:
        notify(work.conn, RUNS)
        raise Rollback
    assert told == []
    with uow() as work:  # what the rolled-back transaction noted did not stay behind
        work.orders.get("nobody")
    assert told == []
    with uow() as work:
        notify(work.conn, RUNS)
        notify(work.conn, WEBHOOKS)
    assert told == [frozenset({"runs", "webhooks"})]
