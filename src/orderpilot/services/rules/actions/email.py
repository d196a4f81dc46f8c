"""email.send: send an e-mail over SMTP. No look-up exists; the Message-ID comes from the
key."""

from __future__ import annotations

from typing import Any

from orderpilot.domain.rules.actions import ActionType, MessageKind, param
from orderpilot.services.rules.actions.base import (
    Answer,
    Output,
    Outside,
    RuleAction,
    SentMessage,
    StepCall,
)

TYPE = ActionType("email.send", "发送邮件", "Send an email", (
    param("to", "template", "收件人", "To", required=True),
    param("subject", "template", "主题", "Subject", required=True),
    param("body", "template", "正文", "Body")),
    external=True, internal=False, message=MessageKind("邮件", "E-mail"),
    default_step_id="email")


def send(outside: Outside, call: StepCall, hub_output: Output,
         hmac_secret: str | None) -> Answer:
    p = call.params
    return outside.send_email(str(p["to"]), str(p["subject"]), str(p.get("body", "")),
                              idempotency_key=call.key)


def read_sent(request: dict[str, Any]) -> SentMessage:
    inner = request.get("body")
    body: dict[str, Any] = inner if isinstance(inner, dict) else request
    return SentMessage(to=body.get("to", ""), text=body.get("subject", ""))


ACTION = RuleAction(
    TYPE, call=send, read_sent=read_sent,
    unchecked_resend="the Message-ID is derived from the key, so mail clients that thread or "
                     "de-duplicate by Message-ID show one message; SMTP itself may deliver "
                     "twice")
