"""TikTok Shop signatures: the API request ``sign`` and the webhook ``Authorization`` header.

Request signing ("Sign your API request",
https://partner.tiktokshop.com/docv2/page/sign-your-api-request): take every query parameter
except ``sign`` and ``access_token``, sort the keys, concatenate ``{key}{value}``, put the
request path in front, append the exact request body unless the content type is
``multipart/form-data``, wrap the whole string with the app secret at both ends and take the
hex HMAC-SHA256 keyed with the app secret. The documented example (app secret ``e59af819cc``,
``/authorization/202309/shops``, ``app_key=29a39d``, ``timestamp=1623812664``) gives
``b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8``.

Webhook signing ("Webhooks overview",
https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview): the ``Authorization``
header is the hex HMAC-SHA256, keyed with the app secret, of the app key followed by the raw
body. The documented example (app key ``abcdef``, app secret ``123``) gives
``5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

UNSIGNED = frozenset({"sign", "access_token"})


def base_string(path: str, query: Mapping[str, str], body: bytes = b"",
                content_type: str = "application/json") -> bytes:
    """Path + sorted ``{key}{value}`` + body (unless multipart): what is wrapped and signed."""
    parts = [path.encode()]
    parts += [f"{key}{query[key]}".encode() for key in sorted(query) if key not in UNSIGNED]
    if content_type.split(";", 1)[0].strip().lower() != "multipart/form-data":
        parts.append(body)
    return b"".join(parts)


def request_sign(app_secret: str, path: str, query: Mapping[str, str], body: bytes = b"",
                 content_type: str = "application/json") -> str:
    """The ``sign`` query parameter of one API request."""
    secret = app_secret.encode()
    wrapped = secret + base_string(path, query, body, content_type) + secret
    return hmac.new(secret, wrapped, hashlib.sha256).hexdigest()


def request_sign_ok(app_secret: str, path: str, query: Mapping[str, str], body: bytes,
                    content_type: str = "application/json") -> bool:
    """Whether the request's own ``sign`` is right (constant-time compare)."""
    given = query.get("sign", "")
    expected = request_sign(app_secret, path, query, body, content_type)
    return hmac.compare_digest(given.lower().encode(), expected.encode())


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` header TikTok Shop sends with a webhook."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def webhook_signature_ok(app_key: str, app_secret: str, body: bytes, header: str) -> bool:
    """Whether HEADER signs BODY (the exact raw bytes) for this app."""
    if not app_key or not app_secret or not header:
        return False
    expected = webhook_signature(app_key, app_secret, body)
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())
