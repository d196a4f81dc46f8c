"""Shopify webhooks: verify the signature over the exact raw body, read what they tell.

An ``orders/*`` webhook (orders/create, orders/updated, orders/paid, orders/cancelled,
orders/fulfilled, orders/partially_fulfilled, orders/edited ...) carries the whole order as
the REST Order JSON, so the notice carries it too (``raw``) and the hub fetches nothing. A
``refunds/create`` webhook carries the refund with its ``order_id``: a notice about that
order without the order (the hub fetches it), and, when the refund belongs to a return, a
notice of kind ``return`` carrying the refund (it maps to that return, refunded). A
``returns/*`` webhook (a Return, see returns.py) is a notice of kind ``return`` naming it,
without the body: the hub reads the return (its SKUs and refunds) through the API. Anything
else (products, customers, app uninstalled) is ``kind="other"``. Shopify answers a delivery
a 200 within five seconds or retries it, with the same ``X-Shopify-Webhook-Id`` and the same
body.

Sources: https://shopify.dev/docs/apps/build/webhooks/delivery-structure (the body is the
full REST resource of the topic; headers X-Shopify-Topic, X-Shopify-Hmac-Sha256,
X-Shopify-Shop-Domain, X-Shopify-API-Version, X-Shopify-Webhook-Id, X-Shopify-Triggered-At,
X-Shopify-Event-Id), https://shopify.dev/docs/apps/build/webhooks/verify-deliveries
(HMAC, duplicates, respond quickly), https://shopify.dev/docs/api/webhooks (topics).

The dedup key: ``read_push`` sees only the body, so it is ``shopify:<order id>:<sha256 of
the body>``: a retried delivery (same webhook id, same bytes) has the same key, a new change
of the order a new one. :func:`dedup_key_of` gives ``shopify:<X-Shopify-Webhook-Id>`` for a
hub that passes the headers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orderpilot.adapters.channels.base import Account, Hook, read_json
from orderpilot.domain.channel_orders import (
    MappingError,
    PushNotice,
    ids_text,
    iso,
    text,
    unmappable,
)
from orderpilot.integrations.shopify.returns import is_refund, is_return, refund_return_id
from orderpilot.integrations.shopify.signing import SIGNATURE_HEADER, signature_matches
from orderpilot.integrations.shopify.statuses import status_of

WEBHOOK_ID_HEADER = "x-shopify-webhook-id"


def verify_push(account: Account, hook: Hook, body: bytes) -> bool:
    """The push is signed with this account's webhook secret, over exactly BODY."""
    header = {k.lower(): v for k, v in hook.headers.items()}.get(SIGNATURE_HEADER)
    return signature_matches(account.secret("webhook_secret"), body, header)


def read_push(body: bytes) -> list[PushNotice]:
    """The notices one verified Shopify webhook body carries (MappingError on bad JSON)."""
    payload = read_json(body, "webhook body")
    if not isinstance(payload, dict):
        raise unmappable("webhook body", "the webhook body is not a JSON object",
                         "推送内容不是 JSON 对象")
    digest = hashlib.sha256(body).hexdigest()
    if _is_order(payload):
        order_id = ids_text(payload.get("id"), "id")
        updated = payload.get("updated_at")
        return [PushNotice(external_id=order_id, dedup_key=f"shopify:{order_id}:{digest}",
                           status=_status_text(payload),
                           update_time=iso(updated, "updated_at") if updated else None,
                           raw=payload)]
    if is_refund(payload):  # refunds/create: the order moved; a return's refund to record
        order_id = ids_text(payload.get("order_id"), "order_id")
        created = payload.get("processed_at") or payload.get("created_at")
        moment = iso(created, "created_at") if created else None
        notices = [PushNotice(external_id=order_id, dedup_key=f"shopify:{order_id}:{digest}",
                              update_time=moment)]
        return_id = refund_return_id(payload)
        if return_id is not None:
            refund_id = ids_text(payload.get("id"), "id")
            notices.append(PushNotice(
                external_id=return_id, kind="return", raw=payload, status="refunded",
                dedup_key=f"shopify:refund:{refund_id}", update_time=moment))
        return notices
    if is_return(payload):  # returns/request, /approve, /decline, /cancel, /close
        return_id = ids_text(payload.get("id"), "id")
        status = text(payload.get("status"), 40)
        return [PushNotice(external_id=return_id, kind="return",
                           dedup_key=f"shopify:return:{return_id}:{status}", status=status)]
    other_id = str(payload.get("id") or "")
    return [PushNotice(external_id=other_id, dedup_key=f"shopify:other:{digest}",
                       kind="other")]


def dedup_key_of(hook: Hook, notice: PushNotice) -> str:
    """Shopify's own delivery id as the key, when the hub has the headers."""
    webhook_id = {k.lower(): v for k, v in hook.headers.items()}.get(WEBHOOK_ID_HEADER)
    return f"shopify:{webhook_id}:{notice.external_id}" if webhook_id else notice.dedup_key


def _is_order(payload: Mapping[str, Any]) -> bool:
    return "line_items" in payload and "financial_status" in payload and "id" in payload


def _status_text(payload: Mapping[str, Any]) -> str:
    try:
        return status_of(payload)
    except MappingError:  # the mapping quarantines it with the reason; the notice still counts
        return ""
