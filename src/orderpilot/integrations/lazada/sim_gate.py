"""The Lazada simulator's gate: faults, then Lazada's checks on every API call (app key, the
request signature, the timestamp window, the access token), in Lazada's error shape. Shared by
the order routes (simulator.py) and the reverse-order routes (sim_returns.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse

from orderpilot.integrations.lazada.signing import request_signed_right
from orderpilot.integrations.lazada.sim_state import NAME, SIM_CREDENTIALS, sim_data
from orderpilot.simulators.external.recorder import entry_for, recorder_for


def error(code: str, message: str, kind: str = "ISV", status: int = 200) -> JSONResponse:
    return JSONResponse({"type": kind, "code": code, "message": message,
                         "request_id": f"0ba2{time.time_ns() % 10**16:016d}"}, status)


def ok(content: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"code": "0", **content,
                         "request_id": f"0ba2{time.time_ns() % 10**16:016d}"})


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        params.update(parse_qsl((await request.body()).decode(errors="replace"),
                                keep_blank_values=True))
    return params


async def gate(request: Request, path: str, *, token: bool = True
                ) -> tuple[dict[str, str], JSONResponse | None]:
    """Faults, then Lazada's checks; the request is recorded when it passes the faults."""
    recorder = recorder_for(request, NAME)
    params = await _params(request)
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status == 429:
            return params, error("ApiCallLimit", "The request has exceeded the limit. "
                                  "This ban will last 1 seconds", status=429)
        if fault.status is not None:
            if fault.body is not None:
                return params, JSONResponse(fault.body, fault.status)
            return params, error("ServiceUnavailable", "The service is temporarily "
                                  "unavailable", "SYSTEM", fault.status)
    with recorder.lock:
        state = sim_data(recorder)
        recorder.records.append({**entry_for(request, None), "idempotency_key": None,
                                 "deliveries": 1, "status_code": 200})
    if params.get("app_key") != SIM_CREDENTIALS["app_key"]:
        return params, error("InvalidAppKey", "The app key is invalid")
    if not request_signed_right(path, params, SIM_CREDENTIALS["app_secret"]):
        return params, error("IncompleteSignature",
                              "The request signature does not conform to lazada standards")
    try:
        sent = int(params.get("timestamp", "0")) / 1000
    except ValueError:
        sent = 0
    if abs(time.time() - sent) > 7200:
        return params, error("InvalidTimestamp", "The timestamp is out of range")
    if token:
        given = params.get("access_token", "")
        if not given:
            return params, error("MISSING_PARAMETER", "missing required parameter: "
                                  "access_token")
        if not state["tokens"].get(given):
            return params, error("IllegalAccessToken",
                                  "The specified access token is invalid or expired")
    return params, None
