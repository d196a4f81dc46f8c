"""Lazada Open Platform signatures: API requests and push notifications (pure functions).

Request signature (https://open.lazada.com/apps/doc/doc?nodeId=10450&docId=108068, the same
text at https://open.alitrip.com/docs/doc.htm?articleId=108068&docType=1&treeId=499, worked
example at articleId=108069): every request parameter except ``sign`` (system ones included:
``app_key``, ``access_token``, ``timestamp`` in milliseconds, ``sign_method=sha256``) sorted by
name in ASCII order, concatenated as ``name + value``, prefixed with the API path
(``/orders/get``), HMAC-SHA256 with the app secret as key, upper-case hex. The documented
example: secret ``helloworld`` over
``/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000``
gives ``4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A``. Empty values are
left out (the official SDKs skip them: ``areNotEmpty(key, value)`` in the documented Java sample).

Push signature (Lazada Push Mechanism, https://open.lazada.com/apps/doc/doc?nodeId=29526&docId=120168;
the Chinese text at https://open.alitrip.com/docs/doc.htm?articleId=119493&docType=1&treeId=735):
header ``Authorization`` = HEX(HMAC-SHA256(key=app secret, message=app key + the exact body
received)). The documented sample header is lower-case hex; we compare case-insensitively.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_METHOD = "sha256"


def string_to_sign(api_path: str, params: Mapping[str, str]) -> str:
    """The API path followed by every non-empty parameter (``sign`` excepted) as name+value,
    sorted by name."""
    return api_path + "".join(f"{name}{params[name]}" for name in sorted(params)
                              if name != "sign" and params[name] != "")


def sign_request(api_path: str, params: Mapping[str, str], app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), string_to_sign(api_path, params).encode(),
                      hashlib.sha256)
    return digest.hexdigest().upper()


def request_signed_right(api_path: str, params: Mapping[str, str], app_secret: str) -> bool:
    """Whether PARAMS carry the right ``sign`` for API_PATH (constant-time compare)."""
    given = params.get("sign", "")
    return hmac.compare_digest(given.upper().encode(),
                               sign_request(api_path, params, app_secret).encode())


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def push_signed_right(app_key: str, app_secret: str, body: bytes, authorization: str) -> bool:
    """Whether the push's Authorization header is Lazada's signature over app key + BODY."""
    if not app_key or not app_secret or not authorization:
        return False
    expected = push_signature(app_key, app_secret, body)
    return hmac.compare_digest(authorization.strip().lower().encode(), expected.encode())
