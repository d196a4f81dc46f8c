"""The in-house WMS (仓库管理系统): stock levels by warehouse, pulled on each source's
schedule by the inventory puller (services/inventory/pull.py reads its answer). Its base URL
is the `wms` entry of ORDERPILOT_HTTP_CONNECTORS, yet it is no connector a rule's http.call
may name: it is a stock source."""

from __future__ import annotations

from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.wms import simulator
from orderpilot.integrations.wms.settings import WmsSettings, configure

INTEGRATION = Integration(
    name="wms", title_zh="仓库管理系统 (WMS)", title_en="Warehouse system (WMS)",
    provides=frozenset({"stock_source"}), settings=WmsSettings,
    configure=configure,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    setup_hint='set ORDERPILOT_HTTP_CONNECTORS={"wms": "https://..."}')
