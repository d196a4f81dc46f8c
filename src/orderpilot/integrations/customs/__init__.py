"""The customs cross-border buyer check (海关跨境购买人资格): a named HTTP connector with one rule
action of its own, 海关资质核验 (``customs.check_qualification``, action.py)."""

from __future__ import annotations

from orderpilot.integrations.customs import simulator
from orderpilot.integrations.customs.action import ACTION
from orderpilot.integrations.customs.settings import CustomsSettings, configure
from orderpilot.integrations.registry import Integration, Simulator

INTEGRATION = Integration(
    name="customs", title_zh="海关资格校验", title_en="Customs buyer check",
    provides=frozenset({"http_connector", "rule_actions"}), settings=CustomsSettings,
    configure=configure, simulator=Simulator(simulator.router, admin=simulator.admin_router),
    actions=(ACTION,),
    setup_hint="set ORDERPILOT_CUSTOMS_URL")
