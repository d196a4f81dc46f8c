"""The message Youzan pushes for a trade's current status (format: push.py)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from orderpilot.integrations.youzan import signing
from orderpilot.integrations.youzan.sim_orders import BEIJING, FMT

PUSH_TYPES = {"WAIT_BUYER_PAY": "trade_TradeCreate", "TRADE_PAID": "trade_TradePaid",
              "WAIT_CONFIRM": "trade_TradeBuyerPay", "WAIT_SELLER_SEND_GOODS":
              "trade_TradeBuyerPay", "WAIT_BUYER_CONFIRM_GOODS": "trade_TradeSellerShip",
              "TRADE_SUCCESS": "trade_TradeSuccess", "TRADE_CLOSED": "trade_TradeClose"}
WHOLE_ORDER = frozenset({"trade_TradeCreate", "trade_TradeBuyerPay", "trade_TradePaid"})


def message_for(order: dict[str, Any], *, client_id: str, client_secret: str, kdt_id: int,
                kdt_name: str, send_count: int = 1) -> tuple[bytes, dict[str, str]]:
    """Body bytes and headers: ``msg`` URL-encoded JSON, body ``sign`` =
    MD5(client_id + msg + secret), header ``Event-Sign`` = MD5(client_id + body + secret).
    A retry (SEND_COUNT + 1) keeps the msg_id."""
    info = order["full_order_info"]["order_info"]
    kind = PUSH_TYPES[info["status"]]
    content = order if kind in WHOLE_ORDER else {
        "tid": info["tid"], "status": info["status"], "update_time": info["update_time"]}
    msg = quote_plus(json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str))
    version = int(datetime.strptime(info["update_time"], FMT).replace(tzinfo=BEIJING)
                  .timestamp())
    body = {"client_id": client_id, "id": info["tid"], "kdt_id": kdt_id, "kdt_name": kdt_name,
            "mode": 1, "msg": msg,
            "msg_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{info['tid']}/{kind}/{version}")),
            "root_kdt_id": kdt_id, "sendCount": send_count,
            "sign": signing.legacy_sign(client_id, msg, client_secret), "status": info["status"],
            "test": False, "type": kind, "version": version}
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return raw, {"Content-Type": "application/json", "Client-Id": client_id, "Event-Type": kind,
                 "Event-Sign": signing.event_sign(client_id, raw, client_secret)}
