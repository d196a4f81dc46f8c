"""Youzan's push signatures: lower-case hex MD5 over client_id + text + client_secret.

* ``Event-Sign`` request header (current): MD5(client_id + the exact raw request body +
  client_secret); the ``Client-Id`` and ``Event-Type`` headers come beside it.
* ``sign`` body field (older, "不建议使用"): MD5(client_id + msg + client_secret), where msg
  is the body's ``msg`` field as sent (URL-encoded). Youzan's own forum answer describes the
  decoded msg instead, so both forms are accepted.

Sources: the push field descriptions generated from Youzan's message docs
(github.com/TsangJx/YouZanYunSDK Msg/TradeTradecreateData.cs: "防伪签名:
MD5(client_id+msg+client_secrect)。不建议使用此字段，可以用请求头中的Event-Sign进行防伪验证");
Youzan's forum answer https://bbs.youzan.com/thread-699870-1-1.html quoting the official demo
``MD5.digest(CLIENT_ID + entity + CLIENT_SECRET)`` compared with the Event-Sign header
(entity = the request body) and pointing at https://doc.youzanyun.com/resource/doc/3032.
No documented example signature exists; tests use hand-computed values.

API calls themselves are not signed: the access token travels in the query string
(see client.py).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote_plus


def md5_hex(client_id: str, text: bytes | str, client_secret: str) -> str:
    middle = text.encode() if isinstance(text, str) else text
    return hashlib.md5(client_id.encode() + middle + client_secret.encode()).hexdigest()


def event_sign(client_id: str, body: bytes, client_secret: str) -> str:
    """The ``Event-Sign`` header of a push with this exact BODY."""
    return md5_hex(client_id, body, client_secret)


def legacy_sign(client_id: str, msg: str, client_secret: str) -> str:
    """The body's ``sign`` field for this ``msg`` field (as sent, URL-encoded)."""
    return md5_hex(client_id, msg, client_secret)


def same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode())


def event_sign_ok(client_id: str, body: bytes, client_secret: str, given: str) -> bool:
    return bool(given) and same(event_sign(client_id, body, client_secret), given)


def legacy_sign_ok(client_id: str, msg: str, client_secret: str, given: str) -> bool:
    if not given:
        return False
    # Evaluate both forms (no early exit) so the time taken says nothing about which failed.
    as_sent = same(legacy_sign(client_id, msg, client_secret), given)
    decoded = same(legacy_sign(client_id, unquote_plus(msg), client_secret), given)
    return as_sent or decoded
