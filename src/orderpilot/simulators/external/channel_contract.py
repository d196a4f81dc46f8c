"""What every sales-platform simulator's admin routes take (docs/channels/README.md,
"Simulators"), and sending a signed push to the hub as a platform does.

The request models are the contract the bench, the demo and the end-to-end tests rely on:
``POST /_sim/<platform>/orders``, ``/generate``, ``/status``, ``/push`` and ``/push_raw``.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from pydantic import BaseModel, Field


class StoredOrders(BaseModel):
    orders: list[dict[str, Any]]


class Generate(BaseModel):
    count: int = Field(1, ge=0, le=200_000)
    seed: int = 0
    start: str | None = None  # ISO time of the first order; default now
    spread_seconds: int = Field(3600, ge=0)


class StatusMove(BaseModel):
    external_id: str
    status: str
    at: str | None = None


class Push(BaseModel):
    hook_url: str
    external_id: str
    times: int = Field(1, ge=1, le=100)  # more than once: the platform's retry (a replay)


class RawPush(BaseModel):
    hook_url: str
    body: str
    headers: dict[str, str] = Field(default_factory=dict)


def deliver(url: str, body: bytes, headers: dict[str, str], times: int = 1,
            keep: int = 2000) -> dict[str, Any]:
    """BODY posted TIMES to URL (a retried delivery: the same bytes and headers); the hub's
    last answer, status 0 when it could not be reached, and how long that answer took."""
    status, answer, elapsed = 0, "", 0.0
    with httpx.Client(timeout=10) as http:
        for _ in range(max(times, 1)):
            began = time.perf_counter()
            try:
                response = http.post(url, content=body, headers=headers)
                status, answer = response.status_code, response.text[:keep]
            except httpx.HTTPError as failure:  # the hub is down: the platform retries later
                status, answer = 0, f"{type(failure).__name__}: {failure}"
            elapsed = (time.perf_counter() - began) * 1000
    return {"status": status, "body": answer, "elapsed_ms": round(elapsed, 2)}
