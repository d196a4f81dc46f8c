"""The CRM (客户管理): customer tags pushed by rules, found again by key. Also a named HTTP
connector (`connector: crm`), and the rule action 降低客户等级 (``crm.lower_level``)."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.crm import simulator
from orderpilot.integrations.crm.action import ACTION
from orderpilot.integrations.crm.client import Crm
from orderpilot.integrations.crm.settings import CrmSettings, configure
from orderpilot.integrations.registry import Integration, Simulator


def client(s: CrmSettings, out: OutboundContext) -> Crm:
    return Crm(out.http)


INTEGRATION = Integration(
    name="crm", title_zh="客户管理 (CRM)", title_en="CRM",
    provides=frozenset({"http_connector", "rule_actions"}), settings=CrmSettings,
    configure=configure, client=client,
    simulator=Simulator(simulator.router, admin=simulator.admin_router), actions=(ACTION,),
    setup_hint="set ORDERPILOT_CRM_URL (and ORDERPILOT_CRM_TOKEN)")
