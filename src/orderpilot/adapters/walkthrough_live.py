"""Live look-ups for the walkthrough (services/walkthrough.py ``LiveLookup``): each connected
system asked for its current view of one order through the integration the hub already uses.

* ERP sale order and receivable: Kingdee ``ExecuteBillQuery`` (integrations/kingdee/client.py
  ``query``) on ``SAL_SaleOrder`` by ``FBillNo`` (the bill number is the platform order number,
  domain/erp.py) and on ``AR_receivable`` by ``FORDERNUMBER`` (the sale order it came from),
  the fields the hub already reads (``FALLAMOUNTFOR`` 价税合计, ``FWRITTENOFFSTATUS`` 核销状态,
  Kingdee's AR_receivable form; see integrations/kingdee/client.py for the sources).
* Sales channel: the platform's order detail (``ChannelClient.get_orders``) through the hub's
  ``ChannelGateway`` for the order's shop account, mapped by the platform's own mapping.
* Carrier: SF Express route query (``search_routes``) for the waybills the hub keeps.

bootstrap.py (``Hub.walkthrough``) builds the look-ups of the systems that are configured.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol

import httpx
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.channel_store import ChannelStore
from orderpilot.adapters.channels.gateway import ChannelGateway
from orderpilot.adapters.db import Database
from orderpilot.domain import lifecycle
from orderpilot.domain.channel_orders import Account, ChannelError
from orderpilot.domain.errors import ConnectorError, TransientError
from orderpilot.domain.shipments import CarrierEvent
from orderpilot.domain.walkthrough import HubOrder, SystemView
from orderpilot.domain.walkthrough_reports import address_text

SALE_ORDER_FORM = "SAL_SaleOrder"
RECEIVABLE_FORM = "AR_receivable"
# Kingdee's document status: A created, B submitted, C audited, D re-audit, Z temporary.
DOCUMENT_STATUS = {"A": "created", "B": "submitted", "C": "audited", "D": "reauditing",
                   "Z": "temporary"}


@contextmanager
def _asking(system: str) -> Iterator[None]:
    """A platform's or the network's own error as the hub's TransientError, so the
    walkthrough falls back to the last reports and says why."""
    try:
        yield
    except (ChannelError, httpx.HTTPError) as error:
        raise TransientError(f"{system} look-up failed: {error}",
                             zh=f"{system} 实时查询失败：{error}") from error


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class BillQuery(Protocol):
    """Kingdee's ExecuteBillQuery (KingdeeClient.query)."""

    def query(self, form_id: str, fields: Sequence[str], filter_string: str, *,
              order: str = "", page_size: int = 2000,
              limit: int = 100_000) -> list[list[Any]]: ...


class ErpSaleOrder:
    """Does the ERP hold the order's sale order? Only asked once the hub recorded it booked."""

    system = "erp"

    def __init__(self, erp: BillQuery) -> None:
        self.erp = erp

    def look_up(self, order: HubOrder, passed: frozenset[str]) -> SystemView | None:
        if "erp_booked" not in passed:
            return None
        with _asking(self.system):
            rows = self.erp.query(SALE_ORDER_FORM, ("FBillNo", "FDocumentStatus"),
                                  f"FBillNo = {_quoted(order.external_id)}", limit=10)
        row = next((r for r in rows if len(r) >= 2 and str(r[0]) == order.external_id), None)
        if row is None:
            return SystemView(self.system, "live", False)
        status = str(row[1] or "")
        return SystemView(self.system, "live", True, "erp_booked",
                          DOCUMENT_STATUS.get(status, status), reference=str(row[0]))


class ErpReceivable:
    """The receivables of the order's sale order: their amount against the hub's total."""

    system = "erp_receivable"

    def __init__(self, erp: BillQuery) -> None:
        self.erp = erp

    def look_up(self, order: HubOrder, passed: frozenset[str]) -> SystemView | None:
        with _asking(self.system):
            rows = self.erp.query(RECEIVABLE_FORM, ("FBillNo", "FALLAMOUNTFOR",
                                                    "FWRITTENOFFSTATUS"),
                                  f"FORDERNUMBER = {_quoted(order.external_id)}", limit=100)
        rows = [r for r in rows if len(r) >= 3 and r[0]]
        if not rows:
            return None  # no receivable yet: the hub's last reports say what it knows
        amount = sum((Decimal(str(r[1] or 0)) for r in rows), Decimal("0"))
        closed = all(str(r[2] or "") == "C" for r in rows)
        return SystemView(self.system, "live", True, None, "closed" if closed else "open",
                          amount, reference=",".join(str(r[0]) for r in rows))


class ChannelDetail:
    """The platform's order detail, for orders whose shop has an account in the hub."""

    system = "storefront"

    def __init__(self, db: Database, gateway: ChannelGateway) -> None:
        self.db, self.gateway = db, gateway

    def _account(self, order: HubOrder) -> Account | None:
        if order.channel not in self.gateway.platforms():
            return None
        with self.db.read() as conn:
            store = ChannelStore(conn)
            code = store.shop_taken(order.channel, order.shop_id, "")
            return store.account(code) if code else None

    def look_up(self, order: HubOrder, passed: frozenset[str]) -> SystemView | None:
        account = self._account(order)
        if account is None:
            return None
        platform = self.gateway.platform(order.channel)
        with _asking(self.system):
            raws = self.gateway.open(account).get_orders([order.external_id])
        if not raws:
            return SystemView(self.system, "live", False)
        mapped = platform.map_order(raws[0], account)
        event_of = {row.status: row.event_type for row in platform.statuses}
        kind = lifecycle.EVENT_TYPES.get(event_of.get(mapped.status, ""))
        quantities: dict[str, int] = {}
        for line in mapped.lines:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity \
                - line.cancelled_quantity
        return SystemView(self.system, "live", True, kind.node if kind else None,
                          mapped.status, mapped.paid_total, quantities,
                          address_text(mapped.address) or None, mapped.external_id)


class RouteQuery(Protocol):
    def search_routes(self, waybills: Sequence[str]) -> list[CarrierEvent]: ...


class CarrierRoutes:
    """The carrier's route for the order's waybills: its latest node."""

    system = "carrier"

    def __init__(self, db: Database, carrier: str, routes: RouteQuery,
                 errors: tuple[type[Exception], ...] = ()) -> None:
        self.db, self.carrier, self.routes, self.errors = db, carrier, routes, errors

    def look_up(self, order: HubOrder, passed: frozenset[str]) -> SystemView | None:
        s = t.shipments.c
        with self.db.read() as conn:
            waybills = [r[0] for r in conn.execute(
                sa.select(s.tracking_number).where(s.order_id == order.id,
                                                   s.carrier == self.carrier)
                .order_by(s.tracking_number).limit(10))]
        if not waybills:
            return None
        try:
            with _asking(self.system):
                events = self.routes.search_routes(waybills)
        except ConnectorError:
            raise
        except self.errors as error:
            raise TransientError(f"{self.carrier} route query failed: {error}",
                                 zh=f"{self.carrier} 路由查询失败：{error}") from error
        nodes = [e for e in events if lifecycle.EVENT_TYPES.get(e.type)
                 and lifecycle.EVENT_TYPES[e.type].node]
        if not nodes:
            return SystemView(self.system, "live", True, None, "no route",
                              reference=",".join(waybills))
        last = max(nodes, key=lambda e: e.occurred_at)
        return SystemView(self.system, "live", True, lifecycle.EVENT_TYPES[last.type].node,
                          last.type, reference=",".join(waybills))


__all__ = ["BillQuery", "CarrierRoutes", "ChannelDetail", "ErpReceivable", "ErpSaleOrder",
           "RouteQuery"]
