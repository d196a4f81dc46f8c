"""The simulated WooCommerce store's state and answers, shared by its API routes
(simulator.py) and its admin routes (sim_admin.py)."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from orderpilot.adapters.channels.base import dumps
from orderpilot.simulators.external.recorder import Recorder

NAME = "woocommerce"
SIM_CREDENTIALS = {"consumer_key": "ck_4f1b0c2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
                   "consumer_secret": "cs_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
                   "webhook_secret": "orderpilot-woocommerce-webhook-secret"}
SIM_SHOP_ID = "woo-demo-store"
SIM_REGION = ""  # WooCommerce has no regions: every store is its own site
WEBHOOK_ID = 7


def reset(recorder: Recorder) -> None:
    recorder.data.update(orders={}, next_id=1000, version=0)


def orders_of(recorder: Recorder) -> dict[int, dict[str, Any]]:
    if "orders" not in recorder.data:
        reset(recorder)
    orders: dict[int, dict[str, Any]] = recorder.data["orders"]
    return orders


def changed(recorder: Recorder) -> None:
    recorder.data["version"] = recorder.data.get("version", 0) + 1


def answer(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(content), status, headers=headers, media_type="application/json")


def wp_error(status: int, code: str, message: str, **data: Any) -> Response:
    return answer({"code": code, "message": message, "data": {"status": status, **data}}, status)

