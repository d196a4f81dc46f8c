"""TikTok Shop webhooks: verifying the ``Authorization`` header and reading the body.

Facts (https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview and
https://partner.tiktokshop.com/docv2/page/1-order-status-change): the body is
``{"type", "tts_notification_id", "shop_id", "timestamp", "data"}``; type 1 is the order
status change with ``data = {"order_id", "order_status", "is_on_hold_order",
"update_time"}`` (``update_time`` in unix seconds; the status list there spells cancelled
``CANCEL``). The signature is in the ``Authorization`` header (see ``signing.py``). Webhooks
are not guaranteed: TikTok asks apps to pull orders on a schedule as well.

Type 3 (recipient address update, ``data = {"order_id", "update_time"}``, shape as in
github.com/phamkhanhminhman97/shopee-tiktok-lazada-api
src/module/tiktokshops/dto/response/webhook.response.ts) also means the order changed, so it
is read as an order notice too. That number comes from public client code, not from a
documentation page read here (unverified). Every other type is recorded as
``kind="other"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orderpilot.adapters.channels.base import Account, Hook, read_json
from orderpilot.domain.channel_orders import PushNotice, from_unix, ids_text, text, unmappable
from orderpilot.integrations.tiktok.signing import webhook_signature_ok

ORDER_STATUS_CHANGE = 1
RECIPIENT_ADDRESS_UPDATE = 3
ORDER_TYPES = frozenset({ORDER_STATUS_CHANGE, RECIPIENT_ADDRESS_UPDATE})


def verify_push(account: Account, hook: Hook, body: bytes) -> bool:
    """The ``Authorization`` header is HMAC-SHA256(app_secret, app_key + raw body), hex."""
    return webhook_signature_ok(account.secret("app_key"), account.secret("app_secret"),
                                body, hook.headers.get("authorization", ""))


def read_push(body: bytes) -> list[PushNotice]:
    """What one webhook says; MappingError when it cannot be read."""
    push = read_json(body, "webhook")
    if not isinstance(push, Mapping):
        raise unmappable("webhook", "the webhook body is not a JSON object",
                         "推送内容不是 JSON 对象")
    kind = push.get("type")
    data = push.get("data")
    if not isinstance(data, Mapping):
        data = {}
    digest = hashlib.sha256(body).hexdigest()[:32]
    notification = text(push.get("tts_notification_id"))
    if kind not in ORDER_TYPES:
        order_id = text(data.get("order_id"))
        return [PushNotice(external_id=order_id, kind="other",
                           dedup_key=f"tiktok:{notification or digest}:{kind}:{order_id}")]
    order_id = ids_text(data.get("order_id"), "data.order_id")
    update = data.get("update_time")
    return [PushNotice(
        external_id=order_id,
        dedup_key=f"tiktok:{notification or digest}:{order_id}",
        status=text(data.get("order_status")) if kind == ORDER_STATUS_CHANGE else "",
        update_time=from_unix(update, "data.update_time") if update not in (None, "") else None,
        raw=None, kind="order")]


def push_body(notification_id: str, shop_id: str, order_id: str, status: str,
              update_time: int, timestamp: int) -> dict[str, Any]:
    """An order status change webhook as TikTok Shop sends it (the simulator uses it)."""
    return {"type": ORDER_STATUS_CHANGE, "tts_notification_id": notification_id,
            "shop_id": shop_id, "timestamp": timestamp,
            "data": {"order_id": order_id,
                     "order_status": "CANCEL" if status == "CANCELLED" else status,
                     "is_on_hold_order": False, "update_time": update_time}}
