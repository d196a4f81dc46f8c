"""structlog set-up. Phone numbers and addresses never reach a log line unmasked."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

_PHONE = re.compile(r"(?<!\d)(\+?\d{3})\d{4,}(\d{4})(?!\d)")
SENSITIVE_KEYS = ("phone", "mobile", "address", "line1", "customer_phone", "shipping_address")


def mask_phone(text: str) -> str:
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def mask_address(text: str) -> str:
    return text[:6] + "***" if len(text) > 6 else "***"


def mask_value(key: str, value: Any) -> Any:
    lowered = key.lower()
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(key, v) for v in value]
    if not isinstance(value, str):
        return value
    if "address" in lowered or lowered in ("line1", "shipping_address"):
        return mask_address(value)
    return mask_phone(value)


def _mask_processor(_logger: Any, _name: str,
                    event_dict: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: mask_value(k, v) for k, v in event_dict.items()}


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if json_lines
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.format_exc_info, _mask_processor, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)),
        cache_logger_on_first_use=True,
    )
