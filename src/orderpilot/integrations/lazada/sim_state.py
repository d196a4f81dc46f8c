"""The Lazada simulator's state: its test credentials, stored orders, issued tokens."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.lazada.mapping import lazada_time
from orderpilot.simulators.external.recorder import Recorder

NAME = "lazada"
SIM_CREDENTIALS: dict[str, str] = {
    "app_key": "100231", "app_secret": "sim-lazada-app-secret-0b7d",
    "access_token": "sim-lazada-access-token", "refresh_token": "sim-lazada-refresh-token"}
SIM_SHOP_ID = "1000165972"
SIM_REGION = "SG"


def reset(recorder: Recorder) -> None:
    recorder.data.clear()
    sim_data(recorder)


def sim_data(recorder: Recorder) -> dict[str, Any]:
    """ORDERS by id (header + order_items), UPDATED (id -> update time, epoch seconds),
    TOKENS (access token -> still valid), REFRESH (valid refresh tokens), ISSUED (a counter)."""
    data = recorder.data
    if "tokens" not in data:
        data.update(orders={}, updated={}, tokens={SIM_CREDENTIALS["access_token"]: True},
                    refresh={SIM_CREDENTIALS["refresh_token"]}, issued=0)
    return data


def moment(value: str, field: str) -> float:
    try:
        return lazada_time(value, field).timestamp()
    except MappingError:
        raise ValueError(field) from None


def header(order: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k != "order_items"}


def trade_order_push(order: Mapping[str, Any]) -> bytes:
    """Lazada's trade order message (message_type 0) for ORDER's current status."""
    items = order["order_items"]
    live = [i for i in items if i["status"] != "canceled"] or items
    seconds = int(moment(order.get("updated_at") or order["created_at"], "updated_at"))
    return json.dumps({
        "seller_id": SIM_SHOP_ID, "message_type": 0,
        "data": {"order_status": live[0]["status"], "trade_order_id": str(order["order_id"]),
                 "trade_order_line_id": str(live[0]["order_item_id"]),
                 "status_update_time": seconds},
        "timestamp": int(time.time() * 1000), "site": "lazada_sg"},
        separators=(",", ":")).encode()
