"""A history with known discrepancies, built through the API (one order per class, clean
orders around them, one order outside the period), for the reconciliation tests."""

from __future__ import annotations

from typing import Any

from conftest import order_body

DAY = "2026-11-26"
CLEAN = 11  # clean orders C01..C11
# Every order in the period is 258.00 (2 x DIAPER-L at 129.00, order_body's default).
TOTAL = "258.00"


def report(api: Any, order_id: str, type_: str, source: str, ref: str, minute: int,
           **data: Any) -> None:
    answer = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": type_, "source": source, "source_event_id": ref,
        "occurred_at": f"{DAY}T11:{minute:02d}:00+08:00", "data": data})
    assert answer.status_code in (200, 201), answer.text


def place(api: Any, external_id: str, placed_at: str = f"{DAY}T10:00:00+08:00") -> str:
    answer = api.post("/api/v1/orders", json=order_body(external_id, placed_at=placed_at))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def flow(api: Any, oid: str, ref: str, *, booked: bool = True, packed: bool = True,
         shipped: bool = True, receivable: str | None = TOTAL) -> None:
    """The usual path: paid, booked in the ERP, released, packed, shipped, receivable opened."""
    report(api, oid, "payment.succeeded", "shopee", f"pay-{ref}", 1, amount=TOTAL)
    if booked:
        report(api, oid, "erp.booked", "kingdee", f"book-{ref}", 2, bill_no=ref)
    if shipped:
        report(api, oid, "wms.released", "wms", f"rel-{ref}", 3)
        if packed:
            report(api, oid, "wms.packed", "wms", f"pack-{ref}", 4)
        report(api, oid, "shipment.shipped", "sf", f"ship-{ref}", 5)
    if receivable is not None:
        report(api, oid, "erp.receivable_opened", "kingdee", f"AR-{ref}:opened", 6,
               bill_no=f"AR-{ref}", amount=receivable)


def build(api: Any) -> dict[str, str]:
    """External id -> hub id. Known: E1 missing in ERP, E2 missing in WMS, E3 amount mismatch
    (receivable 250.00), E5 shipped without receivable, E6 receivable without shipment
    (cancelled after booking), E7 returned with the receivable open, E8 two receivables,
    E9 returned and closed (clean), E4 clean in events (its quantity differs in the WMS file),
    OUT1 placed the next day (missing in ERP, outside the period)."""
    ids: dict[str, str] = {}
    for n in range(1, CLEAN + 1):
        ref = f"C{n:02d}"
        ids[ref] = place(api, ref)
        flow(api, ids[ref], ref)
    for ref in ("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"):
        ids[ref] = place(api, ref)
    report(api, ids["E1"], "payment.succeeded", "shopee", "pay-E1", 1, amount=TOTAL)
    flow(api, ids["E2"], "E2", packed=False)
    flow(api, ids["E3"], "E3", receivable="250.00")
    flow(api, ids["E4"], "E4")
    flow(api, ids["E5"], "E5", receivable=None)
    flow(api, ids["E6"], "E6", shipped=False)
    report(api, ids["E6"], "order.cancelled", "shopee", "cancel-E6", 7)
    flow(api, ids["E7"], "E7")
    report(api, ids["E7"], "return.requested", "shopee", "ret-E7", 8)
    flow(api, ids["E8"], "E8")
    report(api, ids["E8"], "erp.receivable_opened", "kingdee", "AR-E8-2:opened", 9,
           bill_no="AR-E8-2", amount=TOTAL)
    flow(api, ids["E9"], "E9")
    report(api, ids["E9"], "return.requested", "shopee", "ret-E9", 8)
    report(api, ids["E9"], "erp.receivable_closed", "kingdee", "AR-E9:closed", 9,
           bill_no="AR-E9", amount=TOTAL)
    ids["OUT1"] = place(api, "OUT1", placed_at="2026-11-27T10:00:00+08:00")
    report(api, ids["OUT1"], "payment.succeeded", "shopee", "pay-OUT1", 1, amount=TOTAL)
    return ids


IN_PERIOD = CLEAN + 9  # 20 orders placed on DAY
EVENT_COUNTS = {"missing_in_erp": 1, "missing_in_wms": 1, "amount_mismatch": 1,
                "quantity_mismatch": 0, "shipped_without_receivable": 1,
                "receivable_without_shipment": 1, "returned_but_receivable_open": 1,
                "duplicate_receivable": 1, "missing_in_storefront": 0, "unknown_to_hub": 0}
