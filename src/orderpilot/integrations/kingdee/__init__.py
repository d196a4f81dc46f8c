"""Kingdee Cloud Galaxy (金蝶云星空), the ERP: paid orders booked as SAL_SaleOrder through the
K3Cloud WebAPI, receivables (AR_receivable) read back as order events; after a return, the
receivable credited and replenishment requested by rule actions (actions.py)."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.kingdee import simulator
from orderpilot.integrations.kingdee.actions import ACTIONS
from orderpilot.integrations.kingdee.client import KingdeeClient
from orderpilot.integrations.kingdee.erp import KingdeeErp
from orderpilot.integrations.kingdee.settings import KingdeeSettings, configure
from orderpilot.integrations.registry import Integration, Simulator


def client(s: KingdeeSettings, out: OutboundContext) -> KingdeeErp:
    return KingdeeErp(KingdeeClient(
        out.http_client, s.base_url, acct_id=s.acct_id, username=s.username,
        app_id=s.app_id, app_secret=s.app_secret.get_secret_value(), lcid=s.lcid,
        org_number=s.org_number, auth_mode=s.auth_mode,
        timeout_s=max(out.timeout_s, 30.0)), auto_audit=s.auto_audit, org_number=s.org_number)


INTEGRATION = Integration(
    name=simulator.NAME, title_zh="金蝶云星空", title_en="Kingdee Cloud Galaxy (K3Cloud)",
    provides=frozenset({"status_feed", "rule_actions"}), settings=KingdeeSettings,
    configure=configure, actions=ACTIONS,
    client=client, simulator=Simulator(simulator.router, simulator.admin_router,
                                       simulator.reset),
    setup_hint="set ORDERPILOT_KINGDEE_URL, ORDERPILOT_KINGDEE_ACCT_ID, "
               "ORDERPILOT_KINGDEE_USERNAME, ORDERPILOT_KINGDEE_APP_ID and "
               "ORDERPILOT_KINGDEE_APP_SECRET")
