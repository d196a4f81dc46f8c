"""What both SMS providers share: phone number forms, the rate limit and the bounded wait for a
send slot, and the two calls every provider implements (send, and the look-up by key).

Neither provider documents idempotent sending: a SendSms repeated with the same OutId /
SessionContext is a second message. Those fields are only echoed back in the providers' send
records, which is what the look-ups search (see ``lookups``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

import httpx

from orderpilot.adapters.connectors.base import (
    CallResult,
    ConnectorError,
    TransientError,
    mask,
)
from orderpilot.adapters.connectors.lookups import SentRecord
from orderpilot.adapters.connectors.ratelimit import RateLimited, TokenBucket


def national_number(phone: str) -> str:
    """138 1234 5678, +86 13812345678, 0086-138... all become 13812345678."""
    digits = re.sub(r"[\s\-()]", "", phone)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix):]
    return digits


def e164(phone: str) -> str:
    stripped = re.sub(r"[\s\-()]", "", phone)
    return stripped if stripped.startswith("+") and not stripped.startswith("+86") \
        else "+86" + national_number(phone)


def provider_error(error: type[ConnectorError], message: str, record: dict[str, Any], body: Any,
          status: int, latency: float) -> ConnectorError:
    return error(message, request=record, response=mask(body), status_code=status,
                 latency_ms=latency)


class SmsProvider(ABC):
    """Shared by both providers: the rate limit and the bounded wait for a send slot."""

    name = "sms"

    def __init__(self, client: httpx.Client, base_url: str, rate_per_second: float,
                 timeout_s: float) -> None:
        self.client, self.base_url, self.timeout_s = client, base_url, timeout_s
        self.bucket = TokenBucket(rate_per_second)

    def wait_for_slot(self, record: dict[str, Any]) -> None:
        try:
            self.bucket.acquire(max_wait_s=self.timeout_s)
        except RateLimited as error:  # refused here, before sending: a known outcome
            raise TransientError(f"{self.name}: {error}", request=record,
                                 status_code=429) from error

    @abstractmethod
    def send(self, phone: str, template_code: str, params: dict[str, str], sign_name: str,
             idempotency_key: str) -> CallResult:
        """Send one templated SMS, the key in the provider's own correlation field."""

    @abstractmethod
    def find_sent(self, phone: str, idempotency_key: str, since: datetime) -> SentRecord:
        """Whether an SMS to PHONE carrying the key was sent since SINCE (a look-up that
        fails raises TransientError: the caller asks again later, it never resends blindly)."""
