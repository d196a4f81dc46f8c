"""PostgreSQL: a commit that appends events wakes the workers of another process at once
(LISTEN/NOTIFY), a rolled-back one does not, and a listener whose connection is killed
reconnects by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require_pg
from conftest_pg import create_pg_database, drop_pg_database
from orderpilot.adapters import migrations
from orderpilot.adapters.pg_wake import WakeListener
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.events import OrderEvent

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_hub(tmp_path: Path) -> Iterator[Hub]:
    require_pg()
    url = create_pg_database("wake")
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=url,
                             _env_file=None))  # type: ignore[call-arg]
    try:
        migrations.upgrade(hub.db)
        yield hub
    finally:
        hub.close()
        drop_pg_database(url)



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
    listener = WakeListener(pg_hub.db.url, woken.set, reconnect_seconds=0.1,
                            check_seconds=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        assert listener.listening.wait(10)
        woken.wait(1)
        woken.clear()  # the wake-up every (re)connection gives

        append_event(pg_hub, commit=False)
        assert not woken.wait(0.5), "a rolled-back append woke the workers"
        started = time.monotonic()
        append_event(pg_hub)
        assert woken.wait(2), "the commit did not wake the listener"
        assert time.monotonic() - started < 1.0  # not the polling interval

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
