"""Two `orderpilot worker` processes on one PostgreSQL database share the outbox, never an event.

Claims take rows with FOR UPDATE SKIP LOCKED, so no event goes to both workers. The probe is
registered under a per-process inbox name here, so a double claim would not be hidden by the
inbox: it would show up as the same event id written by two pids.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.schemas import OrderIn
from orderpilot.services import ordering
from reliability.support.backends import Backend
from reliability.support.orders import canonical_order
from reliability.support.probe import read_probe
from reliability.support.processes import Child, orderpilot_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ORDERS = 2000


def place_orders(hub: Hub, count: int) -> None:
    """Through the service layer, with no dispatcher running: the outbox only fills up."""
    def place(n: int) -> None:
        body = canonical_order(n, "WORK")
        ordering.place_order(OrderIn.model_validate(body).to_command(f"work-{n}", body),
                             hub.uow, hub.clock)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(place, range(count)))


def outbox_rows(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one())


def last_errors(hub: Hub) -> list[str]:
    with hub.db.read() as conn:
        return list(conn.scalars(sa.select(t.outbox.c.last_error)
                                 .where(t.outbox.c.last_error.is_not(None)).limit(2)))


def test_two_workers_share_the_outbox_without_handling_an_event_twice(
        pg_backend: Backend, tmp_path: Path) -> None:
    hub = bootstrap(Settings(data_dir=pg_backend.data_dir, database_url=pg_backend.database_url,
                             _env_file=None))
    try:
        migrations.upgrade(hub.db)
        place_orders(hub, ORDERS)
        assert outbox_rows(hub) == ORDERS

        probe = tmp_path / "probe.log"
        env = orderpilot_env(pg_backend.data_dir, pg_backend.database_url, probe,
                             probe_per_process="1")
        env["ORDERPILOT_LOG_LEVEL"] = "INFO"  # a chunk delivered again says why
        workers = [Child(env, ["worker", "--threads", "2"], tmp_path / f"worker-{i}.log")
                   for i in range(2)]
        try:
            deadline = time.monotonic() + 60
            while (left := outbox_rows(hub)) > 0:
                for worker in workers:
                    assert worker.process.poll() is None, f"a worker died:\n{worker.log_tail()}"
                assert time.monotonic() < deadline, \
                    f"{left} events left after 60 s; handler errors: {last_errors(hub)}"
                time.sleep(0.2)
        finally:
            exit_codes = [worker.terminate() for worker in workers]
        assert exit_codes == [0, 0], \
            f"workers did not stop cleanly on SIGTERM: {[w.log_tail() for w in workers]}"

        with hub.db.read() as conn:
            placed = set(conn.scalars(sa.select(t.events.c.id)
                                      .where(t.events.c.type == "order.placed")))
            counted = conn.scalar(sa.select(sa.func.sum(t.channel_daily_stats.c.orders)))
    finally:
        hub.close()

    runs = read_probe(probe)
    handled_twice = {event_id: n for event_id, n in Counter(e for e, _ in runs).items() if n > 1}
    pids = {event_id: {pid for e, pid in runs if e == event_id} for event_id in handled_twice}
    by_both = [event_id for event_id, both in pids.items() if len(both) > 1]
    # The same worker twice is a chunk rolled back and delivered again (at least once, as
    # designed, but a lost lock race nothing here should cause: the worker logs say which)
    assert not handled_twice, (
        f"{len(handled_twice)} events handled twice, {len(by_both)} of them by both workers: "
        f"{list(handled_twice)[:10]}; worker logs: {[w.log_tail() for w in workers]}")
    assert {event_id for event_id, _ in runs} == placed
    by_worker = Counter(pid for _, pid in runs)
    assert set(by_worker) == {worker.pid for worker in workers}, \
        f"one worker did all the work: {dict(by_worker)}"
    assert counted == ORDERS
