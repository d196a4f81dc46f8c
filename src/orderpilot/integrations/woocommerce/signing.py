"""WooCommerce request authentication and webhook signatures: pure functions.

* REST API over HTTPS: HTTP Basic with the REST API consumer key as user name and the consumer
  secret as password, or (for servers that drop the Authorization header) the same two values
  as the ``consumer_key`` / ``consumer_secret`` query parameters
  (woocommerce/woocommerce-rest-api-docs source/includes/wp-api-v3/_authentication.md,
  "Authentication over HTTPS"; plugins/woocommerce/includes/class-wc-rest-authentication.php).
* Webhooks: ``X-WC-Webhook-Signature`` is ``base64(HMAC-SHA256(secret, body))`` over the body
  exactly as sent, after JSON encoding (plugins/woocommerce/includes/class-wc-webhook.php,
  ``generate_signature``; _webhooks.md "Delivery/payload").
* The ping WooCommerce sends when a webhook is saved is the form body ``webhook_id=<id>``,
  posted without any signature header (class-wc-webhook.php, ``deliver_ping``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

PING = re.compile(rb"webhook_id=(\d{1,20})")


def basic_auth_header(consumer_key: str, consumer_secret: str) -> str:
    """The Authorization header value for HTTP Basic with the REST API keys."""
    pair = f"{consumer_key}:{consumer_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def query_auth(consumer_key: str, consumer_secret: str) -> dict[str, str]:
    """The query-string alternative to the Authorization header (HTTPS only)."""
    return {"consumer_key": consumer_key, "consumer_secret": consumer_secret}


def read_basic_auth(header: str) -> tuple[str, str] | None:
    """(key, secret) from an ``Authorization: Basic ...`` value; None when it is not one."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    key, sep, secret = decoded.partition(":")
    return (key, secret) if sep else None


def webhook_signature(secret: str, body: bytes) -> str:
    """``X-WC-Webhook-Signature`` for BODY: base64 of the raw HMAC-SHA256 digest."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(secret: str, body: bytes, signature: str) -> bool:
    """Whether SIGNATURE is BODY's signature under SECRET (constant-time compare)."""
    if not secret or not signature:
        return False
    expected = webhook_signature(secret, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def ping_webhook_id(body: bytes) -> str | None:
    """The webhook id of a WooCommerce ping body (``webhook_id=12``); None otherwise."""
    found = PING.fullmatch(body.strip())
    return found.group(1).decode() if found else None
