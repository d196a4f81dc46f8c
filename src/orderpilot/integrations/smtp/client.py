"""Email over SMTP; the Message-ID comes from the idempotency key so a retry is recognisable."""

from __future__ import annotations

import hashlib
import smtplib
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from orderpilot.adapters.connectors.base import (
    CallResult,
    ConnectorError,
    PermanentError,
    TransientError,
)
from orderpilot.integrations.smtp.settings import SmtpSettings


def message_id_for(idempotency_key: str) -> str:
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@orderpilot>"


def build_message(smtp: SmtpSettings, to: str, subject: str, body_text: str,
                  idempotency_key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, to, subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id_for(idempotency_key)
    message.set_content(body_text)
    return message


def send_email(smtp: SmtpSettings, to: str, subject: str, body_text: str, idempotency_key: str,
               timeout_s: float) -> CallResult:
    if "@" not in to:
        raise PermanentError(f"email: {to!r} is not an email address")
    message = build_message(smtp, to, subject, body_text, idempotency_key)
    record: dict[str, Any] = {"smtp": f"{smtp.host}:{smtp.port}", "from": smtp.sender,
                              "to": to, "subject": subject, "message_id": message["Message-ID"]}
    started = time.perf_counter()

    def failed(kind: type[ConnectorError], why: str, code: int | None = None) -> ConnectorError:
        latency = round((time.perf_counter() - started) * 1000, 2)
        return kind(f"email to {to} via {smtp.host}:{smtp.port}: {why}", request=record,
                    status_code=code, latency_ms=latency)

    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_s) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.user:
                server.login(smtp.user, smtp.password.get_secret_value() if smtp.password else "")
            refused = server.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        kind = TransientError if all(400 <= c < 500 for c in codes) else PermanentError
        raise failed(kind, f"recipient refused {error.recipients}", codes[0]) from error
    except smtplib.SMTPResponseException as error:
        kind = TransientError if 400 <= error.smtp_code < 500 else PermanentError
        text = error.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else text
        raise failed(kind, f"{error.smtp_code} {text}", error.smtp_code) from error
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, disconnected
        raise failed(TransientError, f"{error.__class__.__name__}: {error}") from error
    latency = round((time.perf_counter() - started) * 1000, 2)
    return CallResult(record, {"refused": refused}, 250, latency,
                      {"message_id": message["Message-ID"]})


class Mailer:
    def __init__(self, smtp: SmtpSettings, timeout_s: float) -> None:
        self.smtp, self.timeout_s = smtp, timeout_s

    def send(self, to: str, subject: str, body_text: str, idempotency_key: str) -> CallResult:
        return send_email(self.smtp, to, subject, body_text, idempotency_key, self.timeout_s)
