"""The hub's background work in one process: the workers that `serve` and `worker` run in
threads beside the dispatchers, in the order they start."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from orderpilot.adapters.pg_wake import WakeListener
from orderpilot.services.exceptions import sweep as exception_sweep
from orderpilot.services.inventory.pull import InventoryPuller
from orderpilot.services.wms_checks import HttpWmsStatus, WmsChecker
from orderpilot.services.wms_outbound import OutboundPusher

if TYPE_CHECKING:
    from orderpilot.bootstrap import Hub


Work = Callable[[threading.Event], None]  # a worker's run_forever(stop)


def workers(hub: Hub, count: int, runners: int | None = None) -> list[tuple[Work, str]]:
    """COUNT dispatchers; with at least one, the rule runners (RUNNERS, default from the
    settings), channel workers, the inventory puller, the WMS and carrier workers, the webhook
    senders, the NATS relay, the ERP worker and, on PostgreSQL, the wake listener: each
    worker's loop and its thread's name."""
    runners = hub.settings.rule_runner_threads if runners is None else runners
    workers: list[tuple[Work, str]] = [
        (hub.dispatcher(f"t{i}").run_forever, f"dispatcher-{i}") for i in range(count)]
    workers += [(hub.runner(f"r{i}").run_forever, f"rule-runner-{i}")
                for i in range(runners if count else 0)]
    workers += [(hub.channel_worker(f"c{i}").run_forever, f"channel-worker-{i}")
                for i in range(hub.settings.channel_worker_threads if count else 0)]
    if count:  # the inventory puller calls the WMS outside any transaction (issue 4)
        puller = InventoryPuller(hub.uow, hub.connectors, hub.clock,
                                 f"{socket.gethostname()}:{os.getpid()}:puller")
        workers.append((puller.run_forever, "inventory-puller"))
        hub.pulls_stock = True
        if hub.connectors.endpoints.url_for("wms"):  # outbound orders (issue 10)
            pusher = OutboundPusher(hub.uow, hub.connectors,
                                    hub.clock)
            workers.append((pusher.run_forever, "wms-outbound-pusher"))
            # Lost WMS callbacks: ask the WMS about orders the carrier shipped (issue 14)
            checker = WmsChecker(hub.uow,
                                 HttpWmsStatus(hub.connectors), hub.clock)
            workers.append((checker.run_forever, "wms-status-checker"))
        route_poller = hub.route_poller()
        if route_poller is not None:  # SF routes: a lost push is caught up (issue 10)
            workers.append((route_poller.run_forever, "sf-route-poller"))
    # Outbound webhooks (docs/webhooks.md): sent outside any transaction (issue 15)
    workers += [(hub.webhook_sender(f"w{i}").run_forever, f"webhook-sender-{i}")
                for i in range(hub.settings.webhook_sender_threads if count else 0)]
    relay = hub.event_relay() if count else None
    if relay is not None:
        workers.append((relay.run_forever, "nats-relay"))
    if count:  # failed pushes, quarantine, dead letters into the workbench (issue 14)
        exception_sweep.ensure_sweeper(hub.uow, hub.clock)
    erp = hub.erp_worker() if count else None  # the ERP (issue 10, kingdee)
    if erp is not None:
        workers.append((erp.run_forever, "erp-booking"))
    if count and not hub.db.is_sqlite:  # other processes' commits wake these workers
        hub.wake_listener = WakeListener(hub.db.url, hub.wake_for_kind)
        workers.append((hub.wake_listener.run_forever, "wake-listener"))
    return workers

