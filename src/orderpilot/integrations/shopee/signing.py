"""Shopee Open Platform v2 signatures: API calls and pushes. Pure functions.

API call (https://open.shopee.com/developer-guide/16, "Signature calculation"): the base
string is the partner id, the API path without host, and the unix timestamp, followed for a
Shop API by the access token and the shop id (a Public API, e.g. v2.auth.access_token.get or
v2.push.get_lost_push_message, stops after the timestamp); ``sign`` is the lower-case hex
HMAC-SHA256 of that base string keyed with the partner key. The documented example base string
is ``2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711``.
The timestamp is valid for 5 minutes.

Push (https://open.shopee.com/developer-guide/18, "Push Authorization"): the
``Authorization`` header is the hex HMAC-SHA256, keyed with the partner key, of the callback
URL, ``|`` and the request body exactly as sent (the guide warns against re-serialising it).
"""

from __future__ import annotations

import hashlib
import hmac


def base_string(partner_id: str, path: str, timestamp: int, access_token: str = "",
                shop_id: str = "") -> str:
    """The text Shopee signs: partner_id + path + timestamp (+ access_token + shop_id for a
    Shop API; leave both empty for a Public API)."""
    return f"{partner_id}{path}{timestamp}{access_token}{shop_id}"


def sign(partner_key: str, partner_id: str, path: str, timestamp: int,
         access_token: str = "", shop_id: str = "") -> str:
    """The ``sign`` query parameter of one API call."""
    text = base_string(partner_id, path, timestamp, access_token, shop_id)
    return hmac.new(partner_key.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign_is_valid(given: str, partner_key: str, partner_id: str, path: str, timestamp: int,
                  access_token: str = "", shop_id: str = "") -> bool:
    expected = sign(partner_key, partner_id, path, timestamp, access_token, shop_id)
    return hmac.compare_digest(given.strip().lower().encode(), expected.encode())


def push_signature(partner_key: str, callback_url: str, body: bytes) -> str:
    """The ``Authorization`` header Shopee sends with a push to CALLBACK_URL."""
    message = callback_url.encode() + b"|" + body
    return hmac.new(partner_key.encode(), message, hashlib.sha256).hexdigest()


def push_is_authentic(authorization: str, partner_key: str, callback_urls: tuple[str, ...],
                      body: bytes) -> bool:
    """Whether AUTHORIZATION is Shopee's signature of BODY (the exact raw bytes) for one of
    CALLBACK_URLS (the URL configured in the console, and the one the request reached)."""
    if not authorization or not partner_key:
        return False
    given = authorization.strip().lower().encode()
    found = False
    for url in dict.fromkeys(u for u in callback_urls if u):
        # every candidate is compared, so the time taken does not say which one matched
        found |= hmac.compare_digest(given, push_signature(partner_key, url, body).encode())
    return found
