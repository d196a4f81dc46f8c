"""What every connector returns or raises, and the masking that keeps run history safe.

    ConnectorError            a call did not do what was asked; carries what was sent
      TransientError          timeout, connection refused, 5xx, 429, provider throttling:
                              the same call (same idempotency key) may succeed later
      PermanentError          4xx, or the provider said no: retrying will not help
        HostNotAllowed        the URL is not plain http(s), or no allow-list entry covers its
                              scheme, host, port and path
          AddressNotAllowed   the host resolved to an address its entry does not permit
        Redirected            a 3xx answer: redirects are never followed nor taken as success
        ResponseTooLarge      the answer is longer than the hub will read

Run history keeps `stored_response`: the answer masked and cut to a size limit; `response`
stays whole (up to the read limit) for the caller's own parsing.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from orderpilot.adapters.logging import mask_address, mask_phone

SECRET_NAMES = ("authorization", "sign", "key", "x-orderpilot-signature")
SECRET_ENDINGS = ("token", "secret", "password", "signature")
ADDRESS_KEYS = ("address", "line1", "line2", "street", "district", "postal_code")
NAME_KEYS = ("name", "customer_name", "receiver", "receiver_name", "consignee", "contact",
             "contact_name", "buyer_name", "full_name", "recipient")
STORED_RESPONSE_BYTES = 16 * 1024
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


class ConnectorError(Exception):
    code = "connector.failed"

    def __init__(self, message: str, *, request: dict[str, Any] | None = None,
                 response: Any = None, status_code: int | None = None,
                 latency_ms: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.request = request or {}
        self.response = response
        self.status_code = status_code
        self.latency_ms = latency_ms
        self.store_limit = STORED_RESPONSE_BYTES

    @property
    def stored_response(self) -> Any:
        return stored(self.response, self.store_limit)


class TransientError(ConnectorError):
    code = "connector.transient"


class PermanentError(ConnectorError):
    code = "connector.permanent"


class HostNotAllowed(PermanentError):
    code = "connector.host_not_allowed"


class AddressNotAllowed(HostNotAllowed):
    code = "connector.address_not_allowed"


class Redirected(PermanentError):
    code = "connector.redirected"


class ResponseTooLarge(PermanentError):
    code = "connector.response_too_large"


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


def mask_url(url: httpx.URL) -> str:
    """The URL with secret query parameters (access_token, sign, key) replaced."""
    params = [(k, "***" if is_secret(k) else mask_phone(v)) for k, v in url.params.multi_items()]
    return str(url.copy_with(params=params)) if params else str(url)


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


def parse_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def failure_for_status(status: int) -> type[ConnectorError] | None:
    if status == 429 or status >= 500:
        return TransientError
    if status >= 400:
        return PermanentError
    return None


def send(client: httpx.Client, request: httpx.Request, record: dict[str, Any],
         what: str) -> tuple[httpx.Response, Any, float]:
    """Send REQUEST; returns (response, parsed body, latency ms) for a 2xx answer.

    Transport failures, refusals, redirects and error statuses raise with RECORD (the masked
    request) attached; WHAT names the call in messages ("helpdesk POST /api/tickets").
    """
    started = time.perf_counter()
    try:
        response = client.send(request)
    except ConnectorError as error:  # refused by the outbound guard, or the answer too long
        error.request = error.request or record
        error.latency_ms = _since(started)
        raise
    except httpx.TimeoutException as error:
        raise TransientError(f"{what}: timed out ({error.__class__.__name__})", request=record,
                             latency_ms=_since(started)) from error
    except httpx.TransportError as error:
        raise TransientError(f"{what}: cannot reach {request.url.host}: {error}", request=record,
                             latency_ms=_since(started)) from error
    latency = _since(started)
    body = parse_body(response)
    if response.is_redirect or 300 <= response.status_code < 400:
        location = _masked_location(response.headers.get("Location"))
        raise Redirected(f"{what}: HTTP {response.status_code} redirect to {location}; "
                         f"redirects are not followed: call the final URL (and allow it)",
                         request=record, response=body, status_code=response.status_code,
                         latency_ms=latency)
    failure = failure_for_status(response.status_code)
    if failure is not None:
        raise failure(f"{what}: HTTP {response.status_code}: {_short(mask(body))}",
                      request=record, response=body, status_code=response.status_code,
                      latency_ms=latency)
    return response, body, latency


def _masked_location(location: str | None) -> str:
    if not location:
        return "(no Location header)"
    try:
        return mask_url(httpx.URL(location)).replace("%2A", "*")  # 138****5678, readable
    except httpx.InvalidURL:
        return repr(mask_phone(location[:200]))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _short(body: Any, limit: int = 200) -> str:
    text = body if isinstance(body, str) else repr(body)
    return text if len(text) <= limit else text[:limit] + "…"
