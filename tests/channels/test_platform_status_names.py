"""A status a sales platform reported is shown by its name from the platform's status table
(the order page's system views), in Chinese and English, never as the platform's raw code."""

from __future__ import annotations

from pathlib import Path

from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.console.render import Console


def test_platform_statuses_by_name(tmp_path: Path) -> None:
    hub = bootstrap(Settings(data_dir=tmp_path, _env_file=None))  # type: ignore[call-arg]
    try:
        console = Console(hub)
        zh = console.templates["zh_CN"].env.filters["system_status"]
        en = console.templates["en"].env.filters["system_status"]
        assert zh("paid/unfulfilled", "shopify") == "已付款，未发货"
        assert en("paid/unfulfilled", "shopify") == "Paid, unfulfilled"
        assert zh("WAIT_SELLER_SEND_GOODS", "youzan") != "WAIT_SELLER_SEND_GOODS"
        assert zh("allocated", "hub") == "已分配库存"  # a lifecycle node, by its name
        assert zh("SOMETHING_NEW", "youzan") == "SOMETHING_NEW"  # unknown: as reported
        # a status that is the reporting event's own: by that event's name
        assert zh("closed", "kingdee", "erp.receivable_closed") == "应收已核销"
        assert en("closed", "kingdee", "erp.receivable_closed") == "Receivable closed"
        assert zh("closed", "helpdesk", "ticket.updated") == "closed"  # not its own: as is
    finally:
        hub.close()
