"""The demo simulator against a real server in a thread: untidy reports, a tidy outcome."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.cli.demo import ensure_logins, ensure_token
from orderpilot.simulators.demo_inventory import setup_demo_inventory
from orderpilot.simulators.demo_stream import DemoStream, StreamStats

# A return stops at received (inspected is a view): the refund is the finance staff's, in the
# console.
FINAL = {"completed", "after_sales_closed", "cancelled", "refunded", "return_received"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "data"


@pytest.fixture(scope="module")
def served(data_dir: Path) -> Iterator[tuple[Hub, str, str]]:
    hub = bootstrap(Settings(data_dir=data_dir, log_level="WARNING"))
    migrations.upgrade(hub.db)
    setup_demo_inventory(hub)
    token = ensure_token(hub, data_dir)
    hub.start_dispatchers(1)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub, with_console=False), host="127.0.0.1",
                                           port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield hub, f"http://127.0.0.1:{port}", token
    server.should_exit = True
    thread.join(timeout=10)
    hub.close()


@pytest.fixture(scope="module")
def played(served: tuple[Hub, str, str]) -> tuple[Hub, StreamStats]:
    hub, url, token = served
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=10) as client:
        stream = DemoStream(client, rate=15, seed=7, speed=25, report_every=None)
        stats = stream.run(threading.Event(), max_orders=45, drain=True)
    return hub, stats


def test_orders_play_out_to_the_end_without_server_errors(
        played: tuple[Hub, StreamStats]) -> None:
    hub, stats = played
    assert (stats.server_errors, stats.client_errors, stats.transport_errors) == (0, 0, 0)
    # The demo's stock runs short of one SKU on purpose: those orders wait, held out_of_stock.
    out_of_stock = (sa.select(t.holds.c.order_id).where(t.holds.c.reason == "out_of_stock",
                                                        t.holds.c.released_at.is_(None)))
    with hub.db.read() as conn:
        statuses = Counter(conn.execute(sa.select(t.orders.c.status)
                                        .where(t.orders.c.id.not_in(out_of_stock))).scalars())
        waiting = len(conn.execute(out_of_stock).all())
        held = conn.execute(sa.select(sa.func.count()).select_from(t.orders)
                            .where(t.orders.c.held.is_(True))).scalar_one()
    assert sum(statuses.values()) + waiting == stats.orders_sent == 45  # posted twice, once
    assert set(statuses) <= FINAL, statuses
    assert statuses["completed"] > 30 and waiting <= 5
    assert held == waiting and stats.holds_placed == stats.holds_released > 0


def test_duplicates_late_and_out_of_order_reports_are_recorded_once(
        played: tuple[Hub, StreamStats]) -> None:
    hub, stats = played
    assert stats.duplicates_sent > 0 and stats.duplicate_answers > 0
    assert stats.orders_reposted > 0 and stats.out_of_order_orders > 0
    ev = t.events
    with hub.db.read() as conn:
        per_source_id = Counter(conn.execute(
            sa.select(ev.c.source, ev.c.source_event_id)
            .where(ev.c.source_event_id.is_not(None), ev.c.type != "order.placed")).all())
        late_picks = conn.execute(sa.select(sa.func.count()).select_from(ev).where(
            ev.c.type == "wms.picked", ev.c.payload["outcome"].as_string() == "late")
        ).scalar_one()
        lags = [(r.recorded_at - r.occurred_at).total_seconds()
                for r in conn.execute(sa.select(ev.c.recorded_at, ev.c.occurred_at)
                                      .where(ev.c.source == "kingdee"))]
        bonded = conn.execute(sa.select(sa.func.count()).select_from(t.orders).where(
            t.orders.c.address_flags.contains("bonded_zone"))).scalar_one()
        held = set(conn.execute(sa.select(t.orders.c.external_id)
                                .where(t.orders.c.held.is_(True))).scalars())
    assert set(per_source_id) == {(s, i) for s, i in stats.recorded}
    assert max(per_source_id.values()) == 1
    # (an order still held out of stock refuses its reports, the first and the second)
    assert {d for d in stats.duplicated if d[1].rsplit(":", 1)[-1] not in held} <= \
        set(per_source_id)
    assert late_picks == len(stats.out_of_order - held) > 0
    assert max(lags) > 5  # some ERP reports arrive with an occurred_at well in the past
    assert bonded > 0


def test_demo_logins_are_created_once_and_kept(served: tuple[Hub, str, str],
                                               data_dir: Path) -> None:
    hub, _, token = served
    first = ensure_logins(hub, data_dir)
    assert set(first) == {"admin", "ops", "finance", "warehouse", "viewer"}
    assert all(p and len(p) >= 12 for p in first.values())
    assert ensure_logins(hub, data_dir) == first
    assert ensure_token(hub, data_dir) == token
    assert (data_dir / "demo-credentials.txt").stat().st_mode & 0o077 == 0


def test_the_erp_opens_a_receivable_after_booking_and_closes_it_on_payout(
        played: tuple[Hub, StreamStats]) -> None:
    hub, _ = played
    ev = t.events
    with hub.db.read() as conn:
        def amounts(event_type: str) -> dict[str, str]:
            return {r.order_id: r.payload["data"]["amount"] for r in conn.execute(
                sa.select(ev.c.order_id, ev.c.payload).where(ev.c.type == event_type))}
        opened, closed = amounts("erp.receivable_opened"), amounts("erp.receivable_closed")
        booked = set(conn.execute(sa.select(ev.c.order_id).where(ev.c.type == "erp.booked"))
                     .scalars())
        completed = set(conn.execute(sa.select(t.orders.c.id)
                                     .where(t.orders.c.status == "completed")).scalars())
        totals = {r.id: r.total_cents for r in conn.execute(
            sa.select(t.orders.c.id, t.orders.c.total_cents))}
    assert set(opened) == booked and completed <= set(closed) <= set(opened)
    assert all(round(float(amount) * 100) == totals[order_id]
               for order_id, amount in {**opened, **closed}.items())


def test_returns_are_requested_through_the_returns_api_and_received(
        played: tuple[Hub, StreamStats]) -> None:
    hub, stats = played
    with hub.db.read() as conn:
        returns = conn.execute(sa.select(t.returns)).all()
        shipped = [r.payload["data"] for r in conn.execute(
            sa.select(t.events.c.payload).where(t.events.c.type == "shipment.shipped"))]
    assert len(returns) == stats.returns_requested > 0
    assert {r.status for r in returns} <= {"requested", "approved", "in_transit", "received",
                                           "inspected"}
    assert any(r.status == "inspected" and r.restock_source == "HZ-DOMESTIC" for r in returns)
    assert all(r.source_event_id.startswith("RR-") and r.customer_address for r in returns)
    # The carriers SF / JD / ZTO, each scan naming its waybill and (mostly) the outlet.
    assert {d["carrier"] for d in shipped} == {"sf", "jd", "zto"}
    assert all(d["tracking_number"] for d in shipped)
    assert sum(1 for d in shipped if d.get("outlet_code")) > 0.8 * len(shipped)
