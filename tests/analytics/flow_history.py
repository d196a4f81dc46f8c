"""A history with known lags and known faults, built through the API, for the lifecycle board.

Five Shopee orders (shop SG-01, DIAPER-L) placed 2026-11-26 10:00 Beijing time, one Lazada order
(shop LZ-01, MILK-01) placed a day later. Every report's occurrence and its arrival at the hub
(the clock when it is posted) are chosen here:

- payment (shopee, 5 s lag) 60, 120, 180, 240, 300 s after placing; the Lazada one after 600 s;
- ERP booking (kingdee) 600, 660, 720, 780, 840 s after payment, lags 30, 60, 90, 120, 150 s;
- WMS release 1800 s after booking, 10 s lag; except order 5: released 60 s after booking
  with a 5 s lag, so its booking (150 s lag) arrives after the release: one late report;
- order 3: WMS picked (+300 s, 100 s lag) and then packed (+200 s, 300 s lag): the packing
  happened before the picking it followed, one out-of-order report (the board, drawn by
  occurrence, shows released -> packed -> picked);
- duplicates: shopee re-sends order 1's payment once, kingdee re-sends order 2's booking twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import FakeClock, order_body

BASE = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 Beijing
NEXT_DAY = BASE + timedelta(days=1)
PAY = [60, 120, 180, 240, 300]
BOOK = [600, 660, 720, 780, 840]
BOOK_LAG = [30, 60, 90, 120, 150]


def _post(api: Any, clock: FakeClock, at: datetime, url: str, body: dict[str, Any]) -> Any:
    clock.now = at
    answer = api.post(url, json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def build(api: Any, clock: FakeClock) -> list[str]:
    """Posts the history in arrival order; returns the order ids (Shopee 1-5, Lazada)."""
    reports: list[tuple[datetime, int, str, str, datetime, str]] = []
    for i in range(5):
        paid = BASE + timedelta(seconds=PAY[i])
        booked = paid + timedelta(seconds=BOOK[i])
        released = booked + timedelta(seconds=60 if i == 4 else 1800)
        reports.append((paid + timedelta(seconds=5), i, "payment.succeeded", "shopee", paid,
                        f"pay-{i}"))
        reports.append((booked + timedelta(seconds=BOOK_LAG[i]), i, "erp.booked", "kingdee",
                        booked, f"book-{i}"))
        reports.append((released + timedelta(seconds=5 if i == 4 else 10), i, "wms.released",
                        "wms", released, f"rel-{i}"))
        if i == 2:
            reports.append((released + timedelta(seconds=400), i, "wms.picked", "wms",
                            released + timedelta(seconds=300), "pick-2"))
            reports.append((released + timedelta(seconds=500), i, "wms.packed", "wms",
                            released + timedelta(seconds=200), "pack-2"))
    # duplicates: the same source and reference again, later
    reports.append((BASE + timedelta(hours=2), 0, "payment.succeeded", "shopee",
                    BASE + timedelta(seconds=PAY[0]), "pay-0"))
    for n in range(2):
        reports.append((BASE + timedelta(hours=2, minutes=1 + n), 1, "erp.booked", "kingdee",
                        BASE + timedelta(seconds=PAY[1] + BOOK[1]), "book-1"))
    clock.now = BASE
    ids = [api.post("/api/v1/orders", json=order_body(f"FLOW-{i}")).json()["id"]
           for i in range(5)]
    for at, i, type_, source, occurred, ref in sorted(reports, key=lambda r: r[0]):
        _post(api, clock, at, f"/api/v1/orders/{ids[i]}/events", {
            "type": type_, "source": source, "source_event_id": ref,
            "occurred_at": occurred.isoformat()})
    lazada = _post(api, clock, NEXT_DAY, "/api/v1/orders", order_body(
        "FLOW-LZ", channel="lazada", shop_id="LZ-01", placed_at=NEXT_DAY.isoformat(),
        lines=[{"sku": "MILK-01", "quantity": 1, "unit_price": "258.00"}]))["id"]
    _post(api, clock, NEXT_DAY + timedelta(seconds=605), f"/api/v1/orders/{lazada}/events", {
        "type": "payment.succeeded", "source": "lazada", "source_event_id": "pay-lz",
        "occurred_at": (NEXT_DAY + timedelta(seconds=600)).isoformat()})
    return [*ids, lazada]
