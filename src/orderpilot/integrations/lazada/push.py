"""Lazada Push Mechanism: checking and reading a push.

Body (https://open.lazada.com/apps/doc/doc?nodeId=29526&docId=120168 and "Webhook API Trade
Order Notifications", https://open.lazada.com/apps/doc/doc?nodeId=29538&docId=120196; copies at
https://open.alitrip.com/docs/doc.htm?articleId=120196&docType=1&treeId=499):
``{"seller_id": "1234567", "message_type": 0, "data": {"order_status": "unpaid",
"trade_order_id": "260422900198363", "trade_order_line_id": "260422900298363",
"status_update_time": 1603698638}, "timestamp": 1603766859530, "site": "lazada_vn"}``.
``message_type`` 0 is a trade order message (``trade_order_id`` maps to ``order_id`` in the
API; ``status_update_time`` in seconds); a return/refund carries ``reverse_order_id`` too.
Message type 10 (reverse order, "Webhook API Reverse Order Update", articleId=120232) also
names ``trade_order_id``, with ``reverse_order_id`` and ``reverse_order_line_id`` (the fields
public consumers of this message read: ``order_status``, ``reverse_order_id``,
``reverse_order_line_id``, ``status_update_time``, ``trade_order_id``,
``trade_order_line_id``); it gives an order notice (the order may have moved) and a notice of
kind ``return`` naming the reverse order. Other types (8 token expiry, 12 category tree,
13 seller status...) are not about an order. The push names one order line and a status: the
hub fetches the whole order. Lazada retries an unanswered push 12 times, 30 minutes apart;
the answer it expects is HTTP 200 (the 500 ms deadline is the issue's; we could not find it in
the public text).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orderpilot.adapters.channels.base import Account, Hook, read_json
from orderpilot.domain.channel_orders import PushNotice, from_unix, ids_text, text, unmappable
from orderpilot.integrations.lazada.signing import push_signed_right

TRADE_ORDER = 0
REVERSE_ORDER = 10


def verify_push(account: Account, hook: Hook, body: bytes) -> bool:
    return push_signed_right(account.secret("app_key"), account.secret("app_secret"), body,
                             hook.headers.get("authorization", ""))


def read_push(body: bytes) -> list[PushNotice]:
    message = read_json(body, "push")
    if not isinstance(message, Mapping):
        raise unmappable("push", "the push is not a JSON object", "推送不是 JSON 对象")
    digest = hashlib.sha256(body).hexdigest()
    kind = message.get("message_type")
    found = message.get("data")
    data: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    if kind not in (TRADE_ORDER, REVERSE_ORDER, str(TRADE_ORDER), str(REVERSE_ORDER)):
        return [PushNotice(external_id="", dedup_key=f"lazada:{digest}", kind="other")]
    order_id = ids_text(data.get("trade_order_id"), "data.trade_order_id")
    seconds = data.get("status_update_time")
    moment = from_unix(seconds, "data.status_update_time") if seconds not in (None, "") \
        else None
    status = text(data.get("order_status") or "", 40)
    notices = [PushNotice(external_id=order_id, dedup_key=f"lazada:{digest}:{order_id}",
                          status=status, update_time=moment)]
    if kind in (REVERSE_ORDER, str(REVERSE_ORDER)) and data.get("reverse_order_id"):
        # The reverse order itself is fetched (GetReverseOrderDetail): the push names one
        # line and a status, the return needs all its lines.
        return_id = ids_text(data.get("reverse_order_id"), "data.reverse_order_id")
        line_id = text(data.get("reverse_order_line_id") or "", 40)
        notices.append(PushNotice(
            external_id=return_id, kind="return", status=status, update_time=moment,
            dedup_key=f"lazada:return:{return_id}:{line_id}:{status}:{seconds or ''}"))
    return notices
