"""The K3Cloud WebAPI's signed headers (the SDK's mode without a login call).

Facts, from Kingdee's published Python SDK ``k3cloud_webapi_sdk`` (github.com/takewiki/
k3cloud_webapi_sdk: ``core/webapi_client.py`` ``BuildHeader``, ``util/hmac_util.py``,
``util/encode_util.py``, ``const/header_param.py``):

* every signature is ``base64(hex(HMAC-SHA256(key, message)))``: the lower-case hex digest's
  ASCII text, base64-encoded;
* ``X-Kd-Appkey`` = the app id, ``X-Kd-Appdata`` = base64 of ``"acct_id,username,lcid,org"``,
  ``X-Kd-Signature`` = that signature of ``app_id + appdata`` (the plain text) keyed by the
  app secret;
* the gateway headers ``X-Api-ClientID`` (the app id before ``_``), ``X-Api-Auth-Version``
  ``2.0``, ``x-api-timestamp`` and ``x-api-nonce`` (unix seconds), ``x-api-signheaders``
  ``x-api-timestamp,x-api-nonce`` and ``X-Api-Signature`` = the signature of
  ``"POST\\n" + url-encoded path + "\\n\\nx-api-nonce:N\\nx-api-timestamp:T\\n"`` keyed by the
  client secret; the client secret is the app id's part after ``_`` (32 base64 characters),
  decoded, XORed with the SDK's fixed pad and base64-encoded again.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import hmac
from urllib.parse import quote, urlsplit

AUTH_VERSION = "2.0"
SIGNED_HEADERS = "x-api-timestamp,x-api-nonce"
# The SDK's pad: the ROT13 of its four published 8-character parts, joined.
_PAD = codecs.encode("0054s397" "p6234378" "o09pn7q3" "r5qropr7", "rot13").encode()


def signature(message: str, key: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def app_data(acct_id: str, username: str, lcid: int, org_number: str) -> str:
    return f"{acct_id},{username},{lcid},{org_number or 0}"


def client_secret(app_id: str) -> str:
    """The gateway secret hidden in the app id (``<client id>_<32 characters>``); '' when the
    app id has no such part."""
    parts = app_id.split("_")
    if len(parts) != 2 or len(parts[1]) != 32:
        return ""
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return ""
    return base64.b64encode(bytes(b ^ _PAD[i] for i, b in enumerate(raw))).decode()


def hidden_secret(client_id: str, secret: str) -> str:
    """The app id that hides SECRET (the inverse of client_secret): what Kingdee issues; the
    simulator makes its test app id with it."""
    raw = base64.b64decode(secret)
    return f"{client_id}_" + base64.b64encode(
        bytes(b ^ _PAD[i] for i, b in enumerate(raw))).decode()


def path_of(url: str) -> str:
    return quote(urlsplit(url).path, safe="")


def gateway_message(url: str, timestamp: str, nonce: str) -> str:
    return (f"POST\n{path_of(url)}\n\nx-api-nonce:{nonce}\n"
            f"x-api-timestamp:{timestamp}\n")


def signed_headers(url: str, *, acct_id: str, username: str, app_id: str, app_secret: str,
                   lcid: int, org_number: str, timestamp: int) -> dict[str, str]:
    data = app_data(acct_id, username, lcid, org_number)
    stamp = str(timestamp)
    return {
        "X-Api-ClientID": app_id.split("_")[0],
        "X-Api-Auth-Version": AUTH_VERSION,
        "x-api-timestamp": stamp,
        "x-api-nonce": stamp,
        "x-api-signheaders": SIGNED_HEADERS,
        "X-Api-Signature": signature(gateway_message(url, stamp, stamp),
                                     client_secret(app_id)),
        "X-Kd-Appkey": app_id,
        "X-Kd-Appdata": base64.b64encode(data.encode()).decode(),
        "X-Kd-Signature": signature(app_id + data, app_secret),
    }


__all__ = ["app_data", "client_secret", "gateway_message", "hidden_secret", "signature",
           "signed_headers"]
