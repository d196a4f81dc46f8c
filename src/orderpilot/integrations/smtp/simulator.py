"""A mail server (aiosmtpd handler) that records each message once per Message-ID."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from fastapi import APIRouter

from orderpilot.simulators.external.recorder import Recorder, now_iso

NAME = "smtp"
router = APIRouter()  # no HTTP routes of its own: see GET /_sim/smtp/requests


class SmtpHandler:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault = self.recorder.take_fault()
        if fault is not None:
            await asyncio.sleep(fault.delay_ms / 1000)
            if fault.status is not None:
                return ("451 4.3.0 simulated outage" if fault.status >= 500 or fault.status == 429
                        else "550 5.7.1 simulated rejection")
        raw: bytes = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        entry = {"received_at": now_iso(), "method": "SMTP", "path": "DATA", "query": {},
                 "headers": {k: str(v) for k, v in message.items()},
                 "body": {"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                          "subject": str(message["Subject"] or ""),
                          "text": body.get_content() if isinstance(body, EmailMessage) else "",
                          "message_id": str(message["Message-ID"] or "")}}
        key = str(message["Message-ID"]) if message["Message-ID"] else None
        self.recorder.once(key, entry, lambda: (250, "OK"))
        return "250 Message accepted for delivery"
