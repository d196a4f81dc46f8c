"""Mail over SMTP (邮件): the Message-ID comes from the idempotency key.

SMTP is not HTTP, so it does not pass the outbound guard; its one server is the one set in
ORDERPILOT_SMTP_HOST (or the simulator's SMTP half).
"""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.smtp import simulator
from orderpilot.integrations.smtp.client import Mailer
from orderpilot.integrations.smtp.settings import SmtpSettings, configure


def client(s: SmtpSettings, out: OutboundContext) -> Mailer:
    return Mailer(s, out.timeout_s)


def no_origins(s: SmtpSettings) -> tuple[str, ...]:
    return ()


INTEGRATION = Integration(
    name="smtp", title_zh="邮件 (SMTP)", title_en="Mail (SMTP)",
    provides=frozenset({"message_channel"}), settings=SmtpSettings, configure=configure,
    client=client, simulator=Simulator(simulator.router), origins=no_origins,
    setup_hint="set ORDERPILOT_SMTP_HOST")
