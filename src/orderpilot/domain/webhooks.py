"""Outbound webhooks (docs/webhooks.md): which events a subscription may name, how a delivery
is signed, when a failed one is tried again, and when it is given up (dead-lettered).

A delivery is signed the way Stripe and Shopify sign theirs: HMAC-SHA256, keyed with the
subscription's secret, over ``<timestamp>.<raw body>``
(https://docs.stripe.com/webhooks#verify-manually,
https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import timedelta

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.lifecycle import EVENT_TYPES

# Headers of every delivery (documented in docs/webhooks.md).
SIGNATURE_HEADER = "X-Orderpilot-Signature"  # t=<unix seconds>,v1=<hex HMAC-SHA256>
TIMESTAMP_HEADER = "X-Orderpilot-Timestamp"  # the same unix seconds
EVENT_HEADER = "X-Orderpilot-Event"  # the event type
DELIVERY_HEADER = "X-Orderpilot-Delivery"  # the delivery id: receivers dedupe on it

# Events the hub records itself, besides the lifecycle reports (domain/lifecycle.py).
HUB_EVENTS = ("order.placed", "hold.placed", "hold.released", "order.address_changed",
              "order.lines_cancelled", "inventory.released", "inventory.reservation_expired",
              "expectation.breached", "promotion.claimed")
EVERY_EVENT = "*"
KNOWN_EVENTS = frozenset({*EVENT_TYPES, *HUB_EVENTS})

MAX_ATTEMPTS = 8  # then the delivery is dead-lettered (replayable)
FIRST_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(hours=1)
STORED_RESPONSE_CHARS = 2000  # how much of the receiver's answer the delivery log keeps
MIN_SECRET_LENGTH = 16


def check_events(events: Sequence[str]) -> list[str]:
    """The subscription's event types, each once; InvalidInput naming the first unknown one."""
    if not events:
        raise InvalidInput("name at least one event type (or \"*\" for every event)",
                           field="events", zh="请至少填写一个事件类型（或用 \"*\" 表示全部事件）")
    chosen: list[str] = []
    for i, name in enumerate(events):
        if name != EVERY_EVENT and name not in KNOWN_EVENTS:
            raise InvalidInput(f"unknown event type {name!r}; known: "
                               f"{', '.join(sorted(KNOWN_EVENTS))} or \"*\"",
                               field=f"events[{i}]", zh=f"未知的事件类型 {name!r}")
        if name not in chosen:
            chosen.append(name)
    return chosen


def wants(events: Sequence[str], event_type: str) -> bool:
    return EVERY_EVENT in events or event_type in events


def check_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidInput(f"the secret must be at least {MIN_SECRET_LENGTH} characters",
                           field="secret", zh=f"密钥至少需要 {MIN_SECRET_LENGTH} 个字符")
    return secret


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Orderpilot-Signature value: ``t=<timestamp>,v1=<hex HMAC-SHA256>`` of
    ``<timestamp>.<body>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def retry_after(attempts: int) -> timedelta | None:
    """How long to wait after ATTEMPTS failed attempts (1, 2, ...): 10 s, 20 s, 40 s ... up to
    an hour; None once MAX_ATTEMPTS have failed (dead letter)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    wait: timedelta = FIRST_BACKOFF * (2 ** (attempts - 1))
    return min(wait, MAX_BACKOFF)


def succeeded(status: int) -> bool:
    return 200 <= status < 300
