"""Kingdee as the hub's ERP: the field mapping and the WebAPI client behind the booking
worker's ``Erp`` protocol (services/back_office/booking.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from orderpilot.domain.channel_orders import MappingError
from orderpilot.domain.erp import FAILED, BillResult, Receivable
from orderpilot.domain.order import Order
from orderpilot.integrations.kingdee.client import KingdeeClient
from orderpilot.integrations.kingdee.mapping import (
    default_document,
    parse_mapping,
)
from orderpilot.integrations.kingdee.sale_order import sale_order_model


class KingdeeErp:
    name = "kingdee"

    def __init__(self, client: KingdeeClient, *, auto_audit: bool = True,
                 org_number: str = "100") -> None:
        self.client, self.auto_audit, self.org_number = client, auto_audit, org_number

    def default_mapping(self) -> dict[str, Any]:
        return default_document(self.org_number)

    def book(self, orders: Sequence[Order],
             mapping: dict[str, Any] | None) -> list[BillResult]:
        """Each order as a SAL_SaleOrder, in one BatchSave; an order the mapping cannot
        express fails on its own (permanently) without holding the others back."""
        field_mapping = parse_mapping(mapping if mapping is not None
                                      else self.default_mapping())
        refused: dict[str, BillResult] = {}
        models = []
        for order in orders:
            try:
                models.append(sale_order_model(order, field_mapping))
            except MappingError as error:
                refused[order.external_id] = BillResult(
                    order.external_id, FAILED, error=f"{error.message} / {error.message_zh}")
        saved = {r.bill_no: r for r in (
            self.client.save_sale_orders(models, auto_audit=self.auto_audit) if models else [])}
        return [refused.get(o.external_id) or saved.get(o.external_id)
                or BillResult(o.external_id, "unknown", error="not in the ERP's answer")
                for o in orders]

    def find(self, bill_nos: Sequence[str]) -> dict[str, str]:
        return self.client.find_bills(bill_nos)

    def receivables(self, since: datetime) -> list[Receivable]:
        return self.client.receivables(since)
