"""SF Express (顺丰速运): route query and route push as ``shipment.*`` events on the order
whose waybill it is, with the outlet (网点) recorded. A status feed, not a sales channel; for
returns it declares the rule actions 退货路由 and 预约退货上门取件 (return_actions.py)."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.sf_express import simulator
from orderpilot.integrations.sf_express.client import SfExpress
from orderpilot.integrations.sf_express.return_actions import ACTIONS
from orderpilot.integrations.sf_express.settings import SfSettings, configure


def client(s: SfSettings, out: OutboundContext) -> SfExpress:
    return SfExpress(s, out.http_client)  # its transport is the outbound guard


INTEGRATION = Integration(
    name="sf_express", title_zh="顺丰速运", title_en="SF Express",
    provides=frozenset({"status_feed", "rule_actions"}), settings=SfSettings,
    configure=configure, client=client, actions=ACTIONS,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    setup_hint="set ORDERPILOT_SF_PARTNER_ID and ORDERPILOT_SF_CHECKWORD; route pushes go to "
               "/hooks/carriers/sf")
