"""Shopify's webhook signature: ``X-Shopify-Hmac-Sha256`` is the base64 of HMAC-SHA256 over
the exact raw request body, keyed with the webhook secret (the app's client secret, or the
key shown under Settings > Notifications > Webhooks for webhooks made in the admin).

Source: https://shopify.dev/docs/apps/build/webhooks/verify-deliveries (HMAC verification)
and https://shopify.dev/docs/apps/build/webhooks/delivery-structure (headers). Shopify signs
requests the app makes with nothing but the ``X-Shopify-Access-Token`` header, so there is no
request signing here (https://shopify.dev/docs/api/admin-rest, "Authentication").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SIGNATURE_HEADER = "x-shopify-hmac-sha256"


def webhook_signature(secret: str, body: bytes) -> str:
    """The value Shopify puts in X-Shopify-Hmac-Sha256 for BODY."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """HEADER is Shopify's signature of BODY under SECRET (compared in constant time, as raw
    digests, so the base64 spelling cannot matter)."""
    if not secret or not header:
        return False
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)
