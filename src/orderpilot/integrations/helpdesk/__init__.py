"""The helpdesk (工单系统): tickets opened by rules, found again by the key they were opened
with. Also a named HTTP connector (`connector: helpdesk`)."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.helpdesk import simulator
from orderpilot.integrations.helpdesk.client import Helpdesk
from orderpilot.integrations.helpdesk.settings import HelpdeskSettings, configure
from orderpilot.integrations.registry import Integration, Simulator


def client(s: HelpdeskSettings, out: OutboundContext) -> Helpdesk:
    return Helpdesk(out.http)


INTEGRATION = Integration(
    name="helpdesk", title_zh="工单系统", title_en="Helpdesk",
    provides=frozenset({"http_connector"}), settings=HelpdeskSettings, configure=configure,
    client=client, simulator=Simulator(simulator.router),
    setup_hint="set ORDERPILOT_HELPDESK_URL (and ORDERPILOT_HELPDESK_TOKEN)")
