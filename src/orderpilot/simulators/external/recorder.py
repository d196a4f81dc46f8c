"""What every simulator shares: a record of what it received, idempotent answers, faults.

De-duplication by idempotency key is on by default, as a receiver that honours the key
would do; switched off (``POST /_sim/{name}/dedupe {"enabled": false}``) every request acts
and is recorded, so a test counts real sends, as with Aliyun or Tencent SMS, which document no
idempotent sending. Look-ups (``handle_look_up``) are counted apart and never act.

Each app gets its own `SimState` (one `Recorder` per simulator), so two simulator servers in
one process, as in tests, never see each other's requests.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.base import is_secret, mask

Answer = tuple[int, Any]


@dataclass(frozen=True)
class Fault:
    status: int | None
    delay_ms: int
    body: Any
    hold_ms: int = 0  # after acting and recording, before answering: the caller waits


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.records: list[dict[str, Any]] = []
        self.answers: dict[str, Answer] = {}
        self.faults: deque[Fault] = deque()
        self.data: dict[str, Any] = {}  # the simulated system's own state
        self.serial = itertools.count(1)
        self.lock = threading.Lock()
        self.dedupe = True
        self.look_ups: list[dict[str, Any]] = []

    def add_faults(self, status: int | None, times: int, delay_ms: int, body: Any,
                   hold_ms: int = 0) -> None:
        with self.lock:
            self.faults.extend(Fault(status, delay_ms, body, hold_ms) for _ in range(times))

    def take_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def once(self, key: str | None, entry: dict[str, Any], answer: Callable[[], Answer]) -> Answer:
        """The effect and its record, once per idempotency key; a repeat gets the first answer."""
        with self.lock:
            if self.dedupe and key is not None and key in self.answers:
                for record in self.records:
                    if record["idempotency_key"] == key:
                        record["deliveries"] += 1
                return self.answers[key]
            result = answer()
            self.records.append({**entry, "idempotency_key": key, "deliveries": 1,
                                 "status_code": result[0]})
            if key is not None:
                self.answers[key] = result
            return result

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.records]

    def sent_with(self, key: str) -> list[dict[str, Any]]:
        """The records of requests that acted under KEY (what a look-up can see)."""
        with self.lock:
            return [dict(r) for r in self.records
                    if r["idempotency_key"] == key and r["status_code"] < 300]

    def clear(self, everything: bool = False) -> None:
        with self.lock:
            self.records.clear()
            self.answers.clear()
            self.faults.clear()
            self.look_ups.clear()
            if everything:
                self.data.clear()
                self.serial = itertools.count(1)
                self.dedupe = True


class SimState:
    def __init__(self, names: Iterable[str]) -> None:
        self.recorders = {name: Recorder(name) for name in names}


def recorder_for(request: Request, name: str) -> Recorder:
    state: SimState = request.app.state.sim
    return state.recorders[name]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
    return raw.decode(errors="replace")


def entry_for(request: Request, body: Any) -> dict[str, Any]:
    query = {k: "***" if is_secret(k) else v for k, v in request.query_params.items()}
    headers = {k: "***" if is_secret(k) else v for k, v in request.headers.items()}
    return {"received_at": now_iso(), "method": request.method, "path": request.url.path,
            "query": query, "headers": mask(headers), "body": body}


async def _fail_as_told(fault: Fault | None, name: str) -> JSONResponse | None:
    """A taken fault's delay, then its error answer if it has one (the system is down)."""
    if fault is None:
        return None
    await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status is None:
        return None
    content = fault.body if fault.body is not None else {
        "error": f"simulated fault in {name}", "status": fault.status}
    return JSONResponse(content, fault.status)


async def handle(request: Request, name: str, *, body: Any, key: str | None,
                 reject: Callable[[], Answer | None], answer: Callable[[], Answer]) -> JSONResponse:
    """Faults first (the system is down), then REJECT (bad signature or input: no effect,
    no record), then the effect once per KEY."""
    recorder = recorder_for(request, name)
    fault = recorder.take_fault()
    failed = await _fail_as_told(fault, name)
    if failed is not None:
        return failed
    refused = reject()
    if refused is not None:
        return JSONResponse(refused[1], refused[0])
    status, content = recorder.once(key, entry_for(request, body), answer)
    if fault is not None and fault.hold_ms:  # done and recorded; the caller is kept waiting
        await asyncio.sleep(fault.hold_ms / 1000)
    return JSONResponse(content, status)


async def handle_look_up(request: Request, name: str, *, query: dict[str, Any],
                         reject: Callable[[], Answer | None],
                         answer: Callable[[], Answer]) -> JSONResponse:
    """A read by key: faults and REJECT as for ``handle``, then ANSWER; counted in
    ``look_ups``, never in the records of what acted."""
    recorder = recorder_for(request, name)
    fault = recorder.take_fault()
    failed = await _fail_as_told(fault, name)
    if failed is not None:
        return failed
    refused = reject()
    if refused is not None:
        return JSONResponse(refused[1], refused[0])
    status, content = answer()
    with recorder.lock:
        recorder.look_ups.append({"received_at": now_iso(), "path": request.url.path,
                                  "query": mask(query), "status_code": status})
    return JSONResponse(content, status)


async def read_body(request: Request) -> tuple[bytes, Any]:
    raw = await request.body()
    return raw, parse_body(raw, request.headers.get("content-type", ""))
