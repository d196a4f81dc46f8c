"""SF Express (顺丰丰桥) digital signature, ``msgDigest``.

Documented recipe (SF open platform, 数字签名认证说明, https://open.sf-express.com/developSupport/976720
and /developSupport/195960; the same text in English in the SF-Express API overview kept at
find_string id 204237361, "Signature Sign"): concatenate the msgData text, the timestamp and the
checkword (客户校验码), URL-encode the result as Java's ``URLEncoder.encode(s, "UTF-8")`` does,
MD5 the encoded bytes and Base64 the 16-byte digest.

Documented example (the same page): msgData ``{"language":"zh-CN","orderId":"QIAO-20200618-004"}``,
timestamp ``12312334453453``, checkword ``fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci`` ->
``IIKJtuLVzoFTu4kHI8M8vA==`` (tests/back_office/test_sf_express.py checks it).

Java's URLEncoder writes a space as ``+`` and leaves only ``A-Z a-z 0-9 . - * _`` unescaped,
unlike Python's ``quote_plus``, which keeps ``~``; the A1006 error text of the same overview
warns that other languages must treat ``*``, space and ``-`` as Java does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_")


def java_url_encode(text: str) -> str:
    """``java.net.URLEncoder.encode(text, "UTF-8")``."""
    return "".join(chr(b) if b in _KEPT else "+" if b == 0x20 else f"%{b:02X}"
                   for b in text.encode("utf-8"))


def msg_digest(msg_data: str, timestamp: str | int, checkword: str) -> str:
    encoded = java_url_encode(f"{msg_data}{timestamp}{checkword}")
    return base64.b64encode(hashlib.md5(encoded.encode("utf-8")).digest()).decode("ascii")


def digest_matches(msg_data: str, timestamp: str | int, checkword: str, given: str) -> bool:
    return hmac.compare_digest(msg_digest(msg_data, timestamp, checkword).encode(),
                               given.strip().encode())
