"""A handler plugin that writes a line per run of its handler, for the reliability tests.

Load it with ``ORDERPILOT_HANDLER_PLUGINS=reliability.support.probe`` and name the file in
``ORDERPILOT_PROBE_FILE``. Each line is ``<event id> <pid> <thread>``, appended with O_APPEND (so
processes sharing the file never interleave) and fsync'd before the handler's transaction
commits: a kill in between leaves the line while the inbox mark is rolled back, so the event is
delivered again and written again. That is at-least-once delivery made visible.

With ``ORDERPILOT_PROBE_PER_PROCESS=1`` every process registers the handler under its own inbox
name, so the inbox no longer hides a second delivery to another process: an event claimed by two
workers shows up twice. ``ORDERPILOT_PROBE_DELAY_SECONDS`` makes each run that slow, so a
dispatcher is reliably in the middle of a batch when a test stops it. While the file named by
``ORDERPILOT_PROBE_STALL_FILE`` exists, a run stalls after writing its line, its transaction
still open: a test kills the process at exactly that point.
"""

from __future__ import annotations

import os
import threading
import time

from orderpilot.domain.events import OrderEvent
from orderpilot.services.handlers import HandlerRegistry
from orderpilot.services.unit_of_work import Clock, UnitOfWork


def register(registry: HandlerRegistry) -> None:
    path = os.environ["ORDERPILOT_PROBE_FILE"]
    per_process = os.environ.get("ORDERPILOT_PROBE_PER_PROCESS") == "1"
    name = f"probe.record.{os.getpid()}" if per_process else "probe.record"
    delay = float(os.environ.get("ORDERPILOT_PROBE_DELAY_SECONDS", "0"))
    stall_file = os.environ.get("ORDERPILOT_PROBE_STALL_FILE")

    def record(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
        line = f"{event.id} {os.getpid()} {threading.current_thread().name}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if delay:
            time.sleep(delay)
        stalled_until = time.monotonic() + 30
        while stall_file and os.path.exists(stall_file) and time.monotonic() < stalled_until:
            time.sleep(0.01)

    registry.on("order.placed", name, record)


def read_probe(path: os.PathLike[str] | str) -> list[tuple[str, int]]:
    """(event id, pid) per recorded run, in the order they were written."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as lines:
        return [(event_id, int(pid)) for event_id, pid, _thread in
                (line.split(" ", 2) for line in lines if line.strip())]
