"""What the DingTalk and WeCom group-robot actions share: how a sent message reads back."""

from __future__ import annotations

from typing import Any

from orderpilot.services.rules.actions.base import SentMessage


def read_sent(request: dict[str, Any]) -> SentMessage:
    inner = request.get("body")
    body: dict[str, Any] = inner if isinstance(inner, dict) else request
    text = body.get("text")
    return SentMessage(text=text.get("content", "") if isinstance(text, dict) else "",
                       to_group=True)
