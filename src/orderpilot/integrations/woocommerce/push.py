"""WooCommerce webhooks: verify over the exact raw bytes, then read.

Facts (plugins/woocommerce/includes/class-wc-webhook.php in woocommerce/woocommerce, and
woocommerce-rest-api-docs source/includes/wp-api-v3/_webhooks.md "Delivery/payload"):

* Headers: ``X-WC-Webhook-Signature`` (base64 HMAC-SHA256 of the body with the webhook's
  secret), ``X-WC-Webhook-Topic`` (order.created, order.updated, order.deleted,
  order.restored), ``X-WC-Webhook-Resource``, ``X-WC-Webhook-Event``, ``X-WC-Webhook-ID``,
  ``X-WC-Webhook-Delivery-ID`` (a hash of the webhook id and the time) and
  ``X-WC-Webhook-Source`` (the site URL).
* The body of order.created/updated/restored is the whole order, exactly as
  ``GET /wp-json/wc/v3/orders/<id>`` returns it; order.deleted (the order was trashed)
  carries only ``{"id": <id>}``; a custom ``action.*`` topic carries
  ``{"action", "arg"}``.
* When a webhook is saved WooCommerce posts the unsigned form body ``webhook_id=<id>`` and
  expects HTTP 200 (``deliver_ping``); five failed deliveries in a row disable the webhook.

``read_push`` sees the body only (the hub's contract), so the dedup key is the order id and
a hash of the exact body: a replayed delivery has the same key, a new state of the order a
new one (a Delivery-ID would tell two deliveries of one state apart, which the hub must
treat as one anyway).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orderpilot.adapters.channels.base import Account, Hook, read_json
from orderpilot.domain.channel_orders import PushNotice, ids_text, text, unmappable
from orderpilot.integrations.woocommerce.mapping import gmt
from orderpilot.integrations.woocommerce.signing import ping_webhook_id, signature_matches

ORDER_KEYS = ("line_items", "order_key")


def verify_push(account: Account, hook: Hook, body: bytes) -> bool:
    """The webhook signature over BODY with the account's webhook secret. The ping sent when
    the webhook is saved is unsigned and carries nothing but the webhook id: it passes (the
    hub answers 200 and records it as kind="other")."""
    signature = hook.headers.get("x-wc-webhook-signature", "")
    if not signature and ping_webhook_id(body) is not None:
        return True
    return signature_matches(account.secret("webhook_secret"), body, signature)


def read_push(body: bytes) -> list[PushNotice]:
    webhook_id = ping_webhook_id(body)
    if webhook_id is not None:
        return [PushNotice(external_id=f"webhook:{webhook_id}",
                           dedup_key=f"woocommerce:ping:{webhook_id}", kind="other")]
    payload = read_json(body, "body")
    if not isinstance(payload, dict):
        raise unmappable("body", "the webhook body is not a JSON object",
                         "Webhook 内容不是 JSON 对象")
    digest = hashlib.sha256(body).hexdigest()[:32]
    if "id" not in payload:
        return [PushNotice(external_id="", dedup_key=f"woocommerce:other:{digest}",
                           kind="other")]
    external_id = ids_text(payload.get("id"), "id")
    key = f"woocommerce:{external_id}:{digest}"
    if not any(k in payload for k in ORDER_KEYS):
        # order.deleted ({"id"} only: the order went to the trash) or another resource.
        return [PushNotice(external_id=external_id, dedup_key=key, kind="other",
                           status="trash" if len(payload) == 1 else "")]
    return [PushNotice(external_id=external_id, dedup_key=key,
                       status=text(payload.get("status"), 40),
                       update_time=_modified(payload), raw=payload)]


def _modified(payload: Mapping[str, Any]) -> Any:
    value = payload.get("date_modified_gmt")
    return gmt(value, "date_modified_gmt") if value else None
