"""The buyer's fields of a Youzan trade, decrypted with youzan.cloud.secret.decrypt.batch.

Format facts and their sources:

* Youzan returns the receiver's and the buyer's personal fields as ciphertext "$<base64>$1$"
  (address_info.receiver_name, receiver_tel, delivery_address; buyer_info.buyer_phone,
  fans_nickname): a real trade in github.com/inNovationGG/petnote_admin_server test.js, and
  "手机号、身份证、银行卡号、收货人信息…默认返回密文" in github.com/cesing/youzanyun-doc
  docs/guide/encryption.md (quoting https://doc.youzanyun.com/resource/doc/3020). The key is
  the shop's: the same phone in one shop has one ciphertext (receiver_tel == buyer_phone in
  that real trade), another shop's differs.
* ``POST {host}/api/youzan.cloud.secret.decrypt.batch/1.0.0?access_token=...`` with
  ``{"sources": [ciphertext, ...]}``; the answer's ``data`` maps each ciphertext to its plain
  text: github.com/inNovationGG/petnote_admin_server services/youzanService.js
  (batchYouzanDecrypt) and crontab/youzan/order.js (reads ``data[cipher]``). The same file
  says "一次最大请求不能超过10000条" (at most 10,000 per call) and that an empty string among
  the sources fails the call with code 10500 系统异常 (so none is sent).
* The token must be the same app (client_id) and shop (kdt_id) as the one that fetched the
  order: youzan.cloud.secret.decrypt.single doc https://doc.youzanyun.com/detail/content/
  API/0/2630 (场景说明). Decryption needs a permission granted in the Youzan Cloud console
  ("解密需申请权限", encryption.md above).
* youzan.cloud.secret.decrypt.single 1.0.0 takes ``{"source": ciphertext}`` and answers the
  plain text as ``data``; a value that is not ciphertext comes back as it is (encryption.md).
  The batch call is used here (fewer calls).

Not verified (no public answer shows them): the error a shop without the decryption
permission gets (read here as any gateway or business error whose message speaks of 权限 /
授权 / permission, or HTTP 403); the answer when a ciphertext cannot be decrypted (read as the
ciphertext missing from ``data`` or mapped to itself); whether ``order_info.order_extra``
fields are encrypted too (not read by the mapping, so not decrypted).

What the hub does (docs/channels/youzan.md): the plain values are mapped and stored (masked
for roles without pii.read as any buyer's data); the raw trade kept for audit stays as Youzan
sent it. A shop not allowed to decrypt still gets its orders, with these fields set to
withheld.NOT_AUTHORISED ("有赞加密，未授权解密") and the reason on the channel's health; any
other lasting refusal gives withheld.NOT_DECRYPTED. Transient failures raise, so the fetch is
retried like any other outside failure.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from orderpilot.domain.channel_orders import PlatformError, Revealed
from orderpilot.domain.withheld import NOT_AUTHORISED, NOT_DECRYPTED

DECRYPT_API, DECRYPT_VERSION = "youzan.cloud.secret.decrypt.batch", "1.0.0"
MAX_SOURCES = 10_000  # per call, as documented
CIPHER = re.compile(r"^\$[A-Za-z0-9+/=_-]+\$\d+\$$")
FIELDS = (("address_info", "receiver_name"), ("address_info", "receiver_tel"),
          ("address_info", "delivery_address"), ("buyer_info", "buyer_phone"),
          ("buyer_info", "fans_nickname"))
PERMISSION_WORDS = ("权限", "授权", "permission", "unauthori", "not allowed", "forbidden")


class Decrypter(Protocol):
    def decrypt(self, sources: Sequence[str]) -> dict[str, str]: ...


def is_cipher(value: object) -> bool:
    return isinstance(value, str) and bool(CIPHER.match(value))


def ciphers_of(trades: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every distinct ciphertext among the buyer's fields of TRADES, in order."""
    found: dict[str, None] = {}
    for trade in trades:
        full = _full(trade)
        for part, key in FIELDS:
            section = full.get(part)
            value = section.get(key) if isinstance(section, Mapping) else None
            if is_cipher(value):
                found[str(value)] = None
    return list(found)


def decrypt_all(client: Decrypter, sources: Sequence[str]) -> dict[str, str]:
    """SOURCES decrypted in calls of at most MAX_SOURCES each."""
    plain: dict[str, str] = {}
    for at in range(0, len(sources), MAX_SOURCES):
        plain.update(client.decrypt(sources[at:at + MAX_SOURCES]))
    return plain


def reveal(client: Decrypter, trades: Sequence[Mapping[str, Any]]) -> Revealed:
    """TRADES with their encrypted buyer fields in plain text (copies; TRADES are untouched).
    Transient errors, rate limits and expired tokens propagate (the caller retries)."""
    sources = ciphers_of(trades)
    if not sources:
        return Revealed(readable=tuple(trades))
    problem = None
    try:
        plain = decrypt_all(client, sources)
        fallback = NOT_DECRYPTED
    except PlatformError as error:
        if error.transient:
            raise
        plain = {}
        fallback = NOT_AUTHORISED if _permission(error) else NOT_DECRYPTED
        problem = (f"{DECRYPT_API}: {error.message}"
                   + (" (the app is not authorised to decrypt this shop's data: apply for "
                      "the decryption permission in the Youzan Cloud console)"
                      if fallback == NOT_AUTHORISED else ""))
    unread = [s for s in sources if not _readable(plain.get(s), s)]
    if unread and problem is None:
        problem = f"{DECRYPT_API}: {len(unread)} of {len(sources)} values were not decrypted"
    return Revealed(readable=tuple(_with_plain(t, plain, fallback) for t in trades),
                    problem=problem)


def _permission(error: PlatformError) -> bool:
    message = error.message.lower()
    return error.status_code == 403 or any(word in message for word in PERMISSION_WORDS)


def _readable(value: str | None, source: str) -> bool:
    return value is not None and value != source and not is_cipher(value)


def _full(trade: Mapping[str, Any]) -> Mapping[str, Any]:
    data = trade if "full_order_info" in trade else trade.get("data")
    full = data.get("full_order_info") if isinstance(data, Mapping) else None
    return full if isinstance(full, Mapping) else {}


def _with_plain(trade: Mapping[str, Any], plain: Mapping[str, str],
                fallback: str) -> Mapping[str, Any]:
    copied: dict[str, Any] = copy.deepcopy(dict(trade))
    full = _full(copied)
    for part, key in FIELDS:
        section = full.get(part)
        if isinstance(section, dict) and is_cipher(section.get(key)):
            value = plain.get(section[key])
            section[key] = value if _readable(value, section[key]) else fallback
    return copied
