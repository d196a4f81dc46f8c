"""Request signing, as pure functions: the connectors sign with them, the simulators verify.

Aliyun RPC (SignatureVersion 1.0, HMAC-SHA1), Tencent Cloud API v3 (TC3-HMAC-SHA256), the
DingTalk robot's timestamp signature, and the hub's own body signature for plain webhooks.
The unit tests pin each one to the providers' published worked examples.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

TC3_ALGORITHM = "TC3-HMAC-SHA256"
HUB_SIGNATURE_HEADER = "X-Orderpilot-Signature"


def percent_encode(text: str) -> str:
    """Aliyun POP encoding: only A-Z a-z 0-9 - _ . ~ stay literal; space is %20, not +."""
    return quote(text, safe="~")


def aliyun_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(params[k])}"
                         for k in sorted(params) if k != "Signature")
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def aliyun_signature(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    # Aliyun keys the HMAC with the secret followed by "&" (the published example needs it).
    digest = hmac.new(f"{access_key_secret}&".encode(),
                      aliyun_string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def tc3_date(timestamp: int) -> str:
    """The credential date is the UTC day of the timestamp, never the local one."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def tc3_canonical_request(method: str, headers: Mapping[str, str], signed_headers: Sequence[str],
                          payload: bytes, uri: str = "/", query: str = "") -> str:
    lowered = {k.lower(): v.strip().lower() for k, v in headers.items()}
    names = sorted(h.lower() for h in signed_headers)
    canonical_headers = "".join(f"{name}:{lowered.get(name, '')}\n" for name in names)
    return "\n".join([method.upper(), uri, query, canonical_headers, ";".join(names),
                      hashlib.sha256(payload).hexdigest()])


def tc3_string_to_sign(timestamp: int, service: str, canonical_request: str) -> str:
    scope = f"{tc3_date(timestamp)}/{service}/tc3_request"
    hashed = hashlib.sha256(canonical_request.encode()).hexdigest()
    return f"{TC3_ALGORITHM}\n{timestamp}\n{scope}\n{hashed}"


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    def step(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    signing_key = step(step(step(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(secret_id: str, secret_key: str, service: str, timestamp: int,
                      headers: Mapping[str, str], signed_headers: Sequence[str],
                      payload: bytes) -> str:
    """The Authorization header for a POST to "/" signing SIGNED_HEADERS of HEADERS."""
    canonical = tc3_canonical_request("POST", headers, signed_headers, payload)
    signature = tc3_signature(secret_key, tc3_date(timestamp), service,
                              tc3_string_to_sign(timestamp, service, canonical))
    names = ";".join(sorted(h.lower() for h in signed_headers))
    return (f"{TC3_ALGORITHM} Credential={secret_id}/{tc3_date(timestamp)}/{service}/tc3_request,"
            f" SignedHeaders={names}, Signature={signature}")


def parse_tc3_authorization(value: str) -> dict[str, str]:
    """{"secret_id", "date", "service", "signed_headers", "signature"}; {} if malformed."""
    algorithm, _, rest = value.partition(" ")
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    scope = fields.get("Credential", "").split("/")
    if algorithm != TC3_ALGORITHM or len(scope) != 4 or scope[3] != "tc3_request":
        return {}
    return {"secret_id": scope[0], "date": scope[1], "service": scope[2],
            "signed_headers": fields.get("SignedHeaders", ""),
            "signature": fields.get("Signature", "")}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, "<timestamp ms>\\n<secret>")); URL-encode it in the query."""
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hub_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Orderpilot-Signature value: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_hub_signature(secret: str, header: str, body: bytes, now: float,
                         tolerance_s: int = 300) -> bool:
    fields = dict(part.partition("=")[::2] for part in header.split(","))
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(hub_signature(secret, timestamp, body), header.strip())
