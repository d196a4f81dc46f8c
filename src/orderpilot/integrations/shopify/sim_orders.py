"""Orders the Shopify simulator makes and moves, in Shopify's own REST Order JSON.

Shaped after the Order resource and Shopify's webhook example (see mapping.py): integer ids
of 13 digits, "#1001" names, money as decimal strings (with the ``*_set`` twins the mapping
reads; the others are left out to keep 10 000 orders quick to make),
``discount_applications`` with per-line ``discount_allocations`` (automatic discounts and
discount codes), shipping lines (free-shipping codes allocate to them), state tax on top
(``taxes_included`` false), times with the shop's offset (-05:00). Each order adds up:
total_price = line prices - discounts + shipping - shipping discount + tax.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from orderpilot.integrations.shopify.statuses import FINANCIAL, FULFILLMENT

SHOP_ZONE = timezone(timedelta(hours=-5))
CENT = Decimal("0.01")
TAX_RATE = Decimal("0.06")
ORDER_ID_BASE = 5_623_400_000_000
PRODUCTS = (  # (sku, title, price, product_id, variant_id); "" = a product without a SKU
    ("DIAPER-L", "Dolphin Diapers - L (52)", "24.99", 7_701_000_000_101, 43_100_000_000_101),
    ("DIAPER-M", "Dolphin Diapers - M (60)", "23.49", 7_701_000_000_101, 43_100_000_000_102),
    ("FORMULA-2", "Stage 2 Formula 800g", "39.90", 7_701_000_000_201, 43_100_000_000_201),
    ("FORMULA-3", "Stage 3 Formula 800g", "37.50", 7_701_000_000_202, 43_100_000_000_202),
    ("WIPES-80", "Water Wipes 80ct", "5.99", 7_701_000_000_301, 43_100_000_000_301),
    ("BOTTLE-240", "Glass Bottle 240ml", "14.00", 7_701_000_000_401, 43_100_000_000_401),
    ("TEETHER-01", "Silicone Teether", "8.75", 7_701_000_000_501, 43_100_000_000_501),
    ("", "Gift Wrap", "3.00", 7_701_000_000_901, 43_100_000_000_901),
)
PEOPLE = (("Emma", "Lee", "Portland", "Oregon", "OR", "97205"),
          ("Liam", "Chen", "Austin", "Texas", "TX", "73301"),
          ("Olivia", "Garcia", "Miami", "Florida", "FL", "33101"),
          ("Noah", "Smith", "Seattle", "Washington", "WA", "98101"))


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def _set(amount: Decimal) -> dict[str, Any]:
    money = {"amount": _money(amount), "currency_code": "USD"}
    return {"shop_money": money, "presentment_money": dict(money)}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(SHOP_ZONE).isoformat(timespec="seconds")


def make_order(number: int, at: datetime, rng: random.Random) -> dict[str, Any]:
    """Order NUMBER (#1000+number) placed AT, paid, unfulfilled."""
    order_id = ORDER_ID_BASE + number * 7919
    applications: list[dict[str, Any]] = []
    automatic = rng.random() < 0.25
    code = rng.choice((None, None, None, "WELCOME5", "FREESHIP"))
    if automatic:
        applications.append({"type": "automatic", "title": "10% off bundles", "value": "10.0",
                             "value_type": "percentage", "allocation_method": "across",
                             "target_selection": "entitled", "target_type": "line_item"})
    if code:
        applications.append({"type": "discount_code", "code": code, "value":
                             "5.0" if code == "WELCOME5" else "100.0",
                             "value_type": "fixed_amount" if code == "WELCOME5"
                             else "percentage", "allocation_method": "across",
                             "target_selection": "all", "target_type":
                             "line_item" if code == "WELCOME5" else "shipping_line"})
    lines, gross, discounts = [], Decimal(0), Decimal(0)
    for k, (sku, title, price, product_id, variant_id) in enumerate(
            rng.sample(PRODUCTS, rng.randint(1, 3))):
        quantity = rng.randint(1, 3)
        unit = Decimal(price)
        allocations = []
        if automatic and k == 0:
            allocations.append((0,
                                (unit * quantity * Decimal("0.10")).quantize(CENT)))
        if code == "WELCOME5" and k == 0 and unit * quantity >= 10:
            allocations.append((len(applications) - 1, Decimal("5.00")))
        line_discount = sum((a for _, a in allocations), Decimal(0))
        gross += unit * quantity
        discounts += line_discount
        lines.append({
            "id": order_id * 10 + k, "admin_graphql_api_id": f"gid://shopify/LineItem/"
            f"{order_id * 10 + k}", "product_id": product_id, "variant_id": variant_id,
            "sku": sku, "title": title, "name": title, "variant_title": None,
            "vendor": "Dolphin", "quantity": quantity, "current_quantity": quantity,
            "fulfillable_quantity": quantity, "fulfillment_status": None,
            "fulfillment_service": "manual", "requires_shipping": True, "taxable": True,
            "gift_card": False, "grams": 500, "price": _money(unit), "price_set": _set(unit),
            "total_discount": "0.00",
            "discount_allocations": [{"amount": _money(a), "amount_set": _set(a),
                                      "discount_application_index": i}
                                     for i, a in allocations],
            "properties": [], "tax_lines": []})
    shipping = Decimal("0.00") if gross >= 60 else Decimal("7.99")
    ship_discount = shipping if code == "FREESHIP" else Decimal(0)
    subtotal = gross - discounts
    tax = (subtotal * TAX_RATE).quantize(CENT)
    total = subtotal + shipping - ship_discount + tax
    person = PEOPLE[number % len(PEOPLE)]
    stamp = _stamp(at)
    address = {"first_name": person[0], "last_name": person[1],
               "name": f"{person[0]} {person[1]}", "phone": f"+1 503 555 {number % 10000:04d}",
               "address1": f"{100 + number % 800} Harbor Ave", "address2": "",
               "city": person[2], "province": person[3], "province_code": person[4],
               "country": "United States", "country_code": "US", "zip": person[5],
               "company": None, "latitude": None, "longitude": None}
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{1000 + number}", "order_number": 1000 + number, "number": number,
        "email": f"{person[0].lower()}.{number}@example.com", "phone": None,
        "created_at": stamp, "updated_at": stamp, "processed_at": stamp,
        "cancelled_at": None, "cancel_reason": None, "closed_at": None,
        "currency": "USD", "presentment_currency": "USD", "test": False,
        "financial_status": "paid", "fulfillment_status": None, "confirmed": True,
        "taxes_included": False, "source_name": "web", "tags": "", "note": None,
        "total_line_items_price": _money(gross),
        "subtotal_price": _money(subtotal),
        "total_discounts": _money(discounts + ship_discount),
        "total_shipping_price_set": _set(shipping), "total_tax": _money(tax),
        "total_price": _money(total),
        "total_price_set": _set(total), "current_total_price": _money(total),
        "total_tip_received": "0.00",
        "discount_applications": applications,
        "discount_codes": [{"code": code, "amount": _money(ship_discount or Decimal(5)),
                            "type": "percentage" if code == "FREESHIP" else "fixed_amount"}]
        if code else [],
        "tax_lines": [{"title": "State Tax", "rate": 0.06, "price": _money(tax)}]
        if tax else [],
        "line_items": lines,
        "shipping_lines": [{
            "id": order_id * 10 + 9, "title": "Standard", "code": "Standard",
            "source": "shopify", "price": _money(shipping), "price_set": _set(shipping),
            "discounted_price": _money(shipping - ship_discount),
            "discount_allocations": [{"amount": _money(ship_discount),
                                      "amount_set": _set(ship_discount),
                                      "discount_application_index": len(applications) - 1}]
            if ship_discount else [], "tax_lines": []}],
        "shipping_address": address, "billing_address": dict(address),
        "customer": {"id": 6_200_000_000_000 + number, "email": f"{person[0].lower()}."
                     f"{number}@example.com", "first_name": person[0],
                     "last_name": person[1], "phone": None, "currency": "USD"},
        "fulfillments": [], "refunds": []}


def move(order: dict[str, Any], status: str, at: datetime) -> None:
    """Move ORDER to STATUS (a composite from the status table, a financial or fulfillment
    status, "cancelled" or "closed") as Shopify would, updated AT. ValueError if unknown."""
    stamp = _stamp(at)
    if status.startswith("cancelled/"):
        order["financial_status"] = _known(status.split("/", 1)[1], FINANCIAL)
        _cancel(order, stamp, keep_financial=True)
    elif "/" in status:
        financial, fulfillment = status.split("/", 1)
        _pay(order, _known(financial, FINANCIAL), stamp)
        _fulfil(order, _known(fulfillment, FULFILLMENT), stamp)
    elif status in FINANCIAL:
        _pay(order, status, stamp)
    elif status in FULFILLMENT:
        _fulfil(order, status, stamp)
    elif status == "cancelled":
        _cancel(order, stamp, keep_financial=False)
    elif status == "closed":
        order["closed_at"] = stamp
    else:
        raise ValueError(status)
    order["updated_at"] = stamp


def _known(value: str, table: dict[str, Any]) -> str:
    if value not in table:
        raise ValueError(value)
    return value


def _pay(order: dict[str, Any], financial: str, stamp: str) -> None:
    order["financial_status"] = financial
    if financial in ("refunded", "partially_refunded") and not order["refunds"]:
        items = order["line_items"] if financial == "refunded" else order["line_items"][:1]
        _refund(order, stamp, "return", items, 1 if financial == "partially_refunded" else 0)


def _fulfil(order: dict[str, Any], fulfillment: str, stamp: str) -> None:
    order["fulfillment_status"] = None if fulfillment == "unfulfilled" else fulfillment
    if fulfillment in ("partial", "fulfilled"):
        items = order["line_items"] if fulfillment == "fulfilled" else order["line_items"][:1]
        for item in items:
            item["fulfillment_status"] = "fulfilled"
            item["fulfillable_quantity"] = 0
        order["fulfillments"].append({
            "id": order["id"] * 10 + 5 + len(order["fulfillments"]), "order_id": order["id"],
            "status": "success", "shipment_status": None, "created_at": stamp,
            "updated_at": stamp, "tracking_company": "UPS",
            "tracking_number": f"1Z999AA1{order['id'] % 10**10:010d}",
            "line_items": [{"id": i["id"], "quantity": i["quantity"], "sku": i["sku"]}
                           for i in items]})


def _cancel(order: dict[str, Any], stamp: str, *, keep_financial: bool) -> None:
    if not keep_financial:
        paid = order["financial_status"] in ("paid", "partially_paid", "partially_refunded")
        order["financial_status"] = "refunded" if paid else "voided"
    if order["financial_status"] == "refunded" or not keep_financial:
        _refund(order, stamp, "cancel", order["line_items"], 0)
    order.update(cancelled_at=stamp, cancel_reason="customer", closed_at=stamp)


def _refund(order: dict[str, Any], stamp: str, restock: str, items: list[dict[str, Any]],
            units: int) -> None:
    order["refunds"].append({
        "id": order["id"] * 10 + 7 + len(order["refunds"]), "order_id": order["id"],
        "created_at": stamp, "processed_at": stamp, "note": None, "restock": True,
        "refund_line_items": [{"id": i["id"] + 3, "line_item_id": i["id"],
                               "quantity": units or i["quantity"], "restock_type": restock}
                              for i in items]})


def sample_order(number: int, at: str) -> dict[str, Any]:
    """One realistic paid order, #1000+NUMBER placed AT (ISO), the same for the same input."""
    return make_order(number, datetime.fromisoformat(at.replace("Z", "+00:00")),
                      random.Random(number))
