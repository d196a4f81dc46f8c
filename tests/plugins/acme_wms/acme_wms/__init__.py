"""ACME's in-house WMS: reserves stock for an order; adds the rule action acme_wms.reserve."""

from __future__ import annotations

from acme_wms import simulator
from acme_wms.actions import RESERVE
from acme_wms.client import AcmeWms
from acme_wms.settings import AcmeWmsSettings, configure
from orderpilot.adapters.connectors import OutboundContext
from orderpilot.integrations.registry import Integration, Simulator


def client(settings: AcmeWmsSettings, outbound: OutboundContext) -> AcmeWms:
    return AcmeWms(outbound.http)


INTEGRATION = Integration(
    name="acme_wms", title_zh="ACME 仓库系统", title_en="ACME warehouse system",
    provides=frozenset({"http_connector", "rule_actions"}),
    settings=AcmeWmsSettings, configure=configure, client=client,
    simulator=Simulator(simulator.router), actions=(RESERVE,),
    setup_hint="set ORDERPILOT_ACME_WMS_URL and ORDERPILOT_ACME_WMS_TOKEN")
