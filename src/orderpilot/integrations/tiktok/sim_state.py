"""The loopback TikTok Shop's state: credentials, orders, tokens, answers in TikTok's shape."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.base import is_secret
from orderpilot.integrations.tiktok.statuses import EVENT_OF
from orderpilot.simulators.external.channel_contract import deliver as send
from orderpilot.simulators.external.recorder import Recorder, now_iso, recorder_for

NAME = "tiktok"
SIM_CREDENTIALS: dict[str, str] = {
    "app_key": "6a6simtts01", "app_secret": "sim-tiktok-app-secret",
    "access_token": "TTP_sim-access-0", "shop_cipher": "ROW_simShopCipher01"}
SIM_REFRESH_TOKEN = "TTP_sim-refresh-0"  # the account's tokens.refresh_token for the sim
SIM_SHOP_ID = "7494049642642441621"
SIM_REGION = "MY"
ORDER_STATUSES = tuple(s for s in EVENT_OF if s != "CANCEL")


def reset(recorder: Recorder) -> None:
    recorder.data.clear()
    state_of(recorder)


def state_of(recorder: Recorder) -> dict[str, Any]:
    data = recorder.data
    if "orders" not in data:
        data.update(orders={}, version=0, sorted={},
                    tokens={SIM_CREDENTIALS["access_token"]: True},
                    refresh={SIM_REFRESH_TOKEN}, issued=0, pushes=0)
    return data


def error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "data": None, "message": message,
                         "request_id": _request_id()}, status)


def ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"code": 0, "data": data, "message": "Success",
                         "request_id": _request_id()})


def _request_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:18].upper()


async def fault_answer(recorder: Recorder) -> JSONResponse | None:
    fault = recorder.take_fault()
    if fault is None:
        return None
    await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status is None:
        return None
    if fault.status == 429:
        return error(429, 36009002, "Too many requests. Please try again later.")
    if fault.body is not None:
        return JSONResponse(fault.body, fault.status)
    return error(fault.status, 36009003, "Internal error. Please try again.")


def sorted_keys(state: dict[str, Any], field: str, order: str) -> list[tuple[int, str, int]]:
    """(sort value, id, update_time) of every order, cached until the orders change."""
    cached = state["sorted"].get((field, order))
    if cached is None or cached[0] != state["version"]:
        keys = sorted(((int(o[field]), oid, int(o["update_time"]))
                       for oid, o in state["orders"].items()), reverse=order == "DESC")
        cached = (state["version"], keys)
        state["sorted"][(field, order)] = cached
    keys_out: list[tuple[int, str, int]] = cached[1]
    return keys_out


def page_token(key: tuple[int, str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps([key[0], key[1]]).encode()).decode()


def read_cursor(token: str) -> tuple[int, str] | None:
    if not token:
        return None
    value, order_id = json.loads(base64.urlsafe_b64decode(token.encode()))
    return int(value), str(order_id)


def store(recorder: Recorder, orders: list[dict[str, Any]]) -> list[str]:
    with recorder.lock:
        state = state_of(recorder)
        for order in orders:
            state["orders"][str(order["id"])] = order
        state["version"] += 1
    return [str(o["id"]) for o in orders]




def noted(request: Request, response: JSONResponse) -> JSONResponse:
    """RESPONSE, with the call counted in the simulator's look-ups (a test counts fetches)."""
    recorder = recorder_for(request, NAME)
    query = {k: "***" if is_secret(k) or k == "app_secret" else v
             for k, v in request.query_params.items()}
    with recorder.lock:
        recorder.look_ups.append({"received_at": now_iso(), "path": request.url.path,
                                  "query": query, "status_code": response.status_code})
    return response


def deliver(url: str, body: bytes, headers: dict[str, str], times: int) -> dict[str, Any]:
    """BODY posted TIMES to URL; the hub's last answer and how long it took."""
    return send(url, body, {"content-type": "application/json", **headers}, times)
