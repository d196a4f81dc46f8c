"""An outside call's outcome as the service layer sees it, and the masking that keeps run
history safe: ``stored_response`` is the answer masked and cut to a size limit; ``response``
stays whole (up to the read limit) for the caller's own parsing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.masking import mask_address
from orderpilot.domain.masking import mask_phones_in as mask_phone

SECRET_NAMES = ("authorization", "sign", "key", "x-orderpilot-signature")
SECRET_ENDINGS = ("token", "secret", "password", "signature")
ADDRESS_KEYS = ("address", "line1", "line2", "street", "district", "postal_code")
NAME_KEYS = ("name", "customer_name", "receiver", "receiver_name", "consignee", "contact",
             "contact_name", "buyer_name", "full_name", "recipient")
STORED_RESPONSE_BYTES = 16 * 1024  # how much of an answer run history keeps
_TRAILING_DIGITS = re.compile(r"[+\d][\d -]*$")

@dataclass
class CallResult:
    request: dict[str, Any]
    response: Any
    status_code: int | None
    latency_ms: float
    output: dict[str, Any]
    store_limit: int = STORED_RESPONSE_BYTES  # how much of the answer run history keeps

    @property
    def stored_response(self) -> Any:
        return stored(self.response, self.store_limit)


def is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_NAMES or lowered.endswith(SECRET_ENDINGS)


def mask(value: Any, key: str = "") -> Any:
    """A copy fit for run history: secrets replaced, phone numbers cut to 138****5678,
    names and addresses (found by their keys) cut to their first characters."""
    lowered = key.lower()
    if key and is_secret(key) and isinstance(value, str | bytes):
        return "***"
    if isinstance(value, str) and lowered in ADDRESS_KEYS:
        return mask_address(value)
    if isinstance(value, str) and lowered in NAME_KEYS and value:
        return value[:1] + "*" * max(len(value) - 1, 1)
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, key) for v in value]
    if isinstance(value, str):
        return mask_phone(value)
    return value


def stored(body: Any, limit: int = STORED_RESPONSE_BYTES) -> Any:
    """BODY as run history keeps it: masked, and when longer than LIMIT bytes, its beginning
    as text. Only the kept part is walked, so a long answer costs no more than a short one."""
    if body is None:
        return None
    kept, whole = _within(body, limit)
    masked = mask(kept)
    if whole:
        return masked
    text = masked if isinstance(masked, str) else _json(masked)
    cut = _TRAILING_DIGITS.sub("", text.encode()[:limit].decode(errors="ignore"))
    return f"{cut}… [cut: the answer is longer than {limit} bytes]"


def _within(value: Any, budget: int) -> tuple[Any, bool]:
    """A copy of VALUE's beginning about BUDGET bytes long as JSON, and whether it is whole.
    A cut string loses its trailing digits: half a phone number is still a phone number."""
    if isinstance(value, str):
        if len(value) * 4 <= budget or len(value.encode()) <= budget:
            return value, True
        return _TRAILING_DIGITS.sub("", value[:budget]), False
    if not isinstance(value, dict | list):
        return value, True
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    kept: list[tuple[Any, Any]] = []
    for key, item in pairs:
        if budget <= 0:
            return _like(value, kept), False
        small, whole = _within(item, budget)
        kept.append((key, small))
        budget -= len(_json(small).encode()) + len(str(key)) + 4
        if not whole:
            return _like(value, kept), False
    return _like(value, kept), budget >= 0


def _like(value: Any, pairs: list[tuple[Any, Any]]) -> Any:
    return dict(pairs) if isinstance(value, dict) else [item for _, item in pairs]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
