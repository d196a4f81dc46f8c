"""The Shopee simulator's state and answers: the simulated shop's credentials, its orders,
escrow details, tokens and lost pushes (in the app's Recorder), and Shopee's JSON answer
shape ``{"error", "message", "request_id", ...}``."""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import Response

from orderpilot.adapters.channels.base import dumps
from orderpilot.simulators.external.recorder import Recorder

NAME = "shopee"
SIM_CREDENTIALS: dict[str, str] = {
    "partner_id": "2001887", "partner_key": "shpk4f6c7a2e9b1d4c8e8a7f3b2c1d0e9f8a7b6c5d4e3f2a1b",
    "access_token": "59777174636562737266615546704c6d",
    "refresh_token": "4c7259534969484e71734d695a6e6d55"}
SIM_SHOP_ID = "14701711"
SIM_REGION = "SG"
TOKEN_LIFE_S = 14_400
Answer = tuple[int, dict[str, Any]]


def reset(recorder: Recorder) -> None:
    recorder.data.clear()
    state(recorder)


def state(recorder: Recorder) -> dict[str, Any]:
    """The simulated platform's data, created on first use (call with the recorder's lock)."""
    data = recorder.data
    if "orders" not in data:
        data.update(orders={}, escrow={}, lost=[], next_message=1, version=0, index={},
                    tokens={SIM_CREDENTIALS["access_token"]: time.time() + TOKEN_LIFE_S},
                    refresh_tokens={SIM_CREDENTIALS["refresh_token"]})
    return data


def error(status: int, name: str, message: str) -> Answer:
    return status, {"error": name, "message": message, "request_id": secrets.token_hex(16)}


def ok(content: dict[str, Any]) -> Answer:
    return 200, {"error": "", "message": "", "request_id": secrets.token_hex(16), **content}


def json_answer(answer: Answer) -> Response:
    return Response(dumps(answer[1]), answer[0], media_type="application/json")


def store(data: dict[str, Any], orders: list[dict[str, Any]]) -> list[str]:
    """Store or replace ORDERS (get_order_detail shape); an ``escrow_detail`` is kept apart,
    as Shopee serves it from another API."""
    ids = []
    for order in orders:
        order = dict(order)
        order_sn = str(order["order_sn"])
        escrow = order.pop("escrow_detail", None)
        if isinstance(escrow, dict):
            data["escrow"][order_sn] = escrow
        data["orders"][order_sn] = order
        ids.append(order_sn)
    data["version"] += 1
    return ids


def push_body(order: dict[str, Any]) -> bytes:
    """Shopee's order status push (code 3) for ORDER as it is now."""
    return dumps({"data": {"ordersn": order["order_sn"], "status": order["order_status"],
                           "completed_scenario": "", "update_time": order["update_time"]},
                  "shop_id": int(SIM_SHOP_ID), "code": 3,
                  "timestamp": int(time.time())}).encode()
