"""`serve` and `worker` move their start-up heap out of the garbage collector's reach, so a
full collection walks only what was made since (docs/performance.md, "Orders taken in
groups"): full collections of 80-215 ms in `serve` had stopped every thread."""

from __future__ import annotations

import gc
import inspect

from orderpilot.entrypoints.cli import main
from orderpilot.startup import settle_heap


def test_settle_heap_freezes_what_exists_and_leaves_new_objects_collectable() -> None:
    gc.unfreeze()
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # the interpreter, pytest and orderpilot's modules at least
        made_after = [[i] for i in range(100)]
        assert gc.get_freeze_count() == frozen  # new objects stay with the collector
        assert any(gc.is_tracked(x) for x in made_after)
    finally:
        gc.unfreeze()


def test_serve_and_worker_settle_their_heap_before_they_start_work() -> None:
    for command in (main.serve, main.worker):
        source = inspect.getsource(command)
        assert source.index("settle_heap()") < source.index(
            "uvicorn.run(" if command is main.serve else "hub.start_dispatchers(")
