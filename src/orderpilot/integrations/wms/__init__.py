"""The in-house WMS (仓库管理系统): stock levels by warehouse, pulled on each source's
schedule by the inventory puller through the named HTTP connector `wms`
(services/inventory/pull.py reads its answer)."""

from __future__ import annotations

from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.wms import simulator
from orderpilot.integrations.wms.settings import WmsSettings, configure

INTEGRATION = Integration(
    name="wms", title_zh="仓库管理系统 (WMS)", title_en="Warehouse system (WMS)",
    provides=frozenset({"stock_source", "http_connector"}), settings=WmsSettings,
    configure=configure,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    setup_hint='set ORDERPILOT_HTTP_CONNECTORS={"wms": "https://..."}')
