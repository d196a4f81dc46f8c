"""What the hub and its ERP say to each other about bills, whatever the ERP (Kingdee today).

A sale order is *booked* once the ERP holds a bill whose number is the platform's order number
(the channel order's ``external_id``): that number is the idempotency key of every send, so a
bill is looked up by it before any resend and the ERP itself refuses a second bill with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

BOOKED, FAILED, UNKNOWN = "booked", "failed", "unknown"
OPEN, CLOSED = "open", "closed"


@dataclass(frozen=True)
class BillResult:
    """What the ERP said about one bill of a batch.

    OUTCOME: ``booked`` (the ERP holds it; ERP_ID is its internal id), ``failed`` (refused:
    ERROR says why; TRANSIENT when it may pass, e.g. a lock or a rate limit; DUPLICATE when the
    bill number is taken, which the hub checks with a look-up), or ``unknown`` (the answer did
    not name the bill: look it up before sending it again)."""

    bill_no: str
    outcome: str
    erp_id: str | None = None
    error: str | None = None
    transient: bool = False
    duplicate: bool = False


@dataclass(frozen=True)
class Receivable:
    """One receivable bill (应收单) as the ERP reports it.

    ORDER_NO is the sale order's bill number it came from (= the platform order number);
    STATE is ``open`` until it is completely written off (核销) and ``closed`` after."""

    bill_no: str
    order_no: str
    amount: Decimal
    state: str
    written_off: str  # the ERP's own write-off status, as sent
    changed_at: datetime
    erp_id: str = ""


__all__ = ["BOOKED", "CLOSED", "FAILED", "OPEN", "UNKNOWN", "BillResult", "Receivable"]
