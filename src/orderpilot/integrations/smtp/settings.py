"""Mail settings, read from ORDERPILOT_SMTP_* (see config.Settings)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from orderpilot.config import Settings
from orderpilot.integrations.registry import sim_base


class SmtpSettings(BaseModel):
    host: str
    port: int
    user: str | None = None
    password: SecretStr | None = None
    sender: str = "orderpilot@localhost"
    starttls: bool = False


def configure(s: Settings) -> SmtpSettings | None:
    """With the simulator: its host, and its port + 1 (its SMTP half) unless set."""
    sim = sim_base(s)
    if sim:
        parts = urlsplit(sim)
        host = s.smtp_host or parts.hostname or "127.0.0.1"
        port = s.smtp_port or (parts.port or 80) + 1
    elif s.smtp_host:
        host, port = s.smtp_host, s.smtp_port or 25
    else:
        return None
    return SmtpSettings(host=host, port=port, user=s.smtp_user,
                        password=SecretStr(s.smtp_password) if s.smtp_password else None,
                        sender=s.smtp_from, starttls=s.smtp_starttls)
