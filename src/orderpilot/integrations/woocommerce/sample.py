"""Realistic WooCommerce orders for the simulator, in the REST API v3 shape
(woocommerce-rest-api-docs source/includes/wp-api-v3/_orders.md, the order 727 example):
a US store selling in USD, prices shown without tax, California state tax on the lines,
flat-rate or free shipping, percent and fixed-cart coupons spread over the lines as
WooCommerce spreads them (subtotal - total per line), ``price`` = total / quantity as a
JSON number."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

SITE_ZONE = ZoneInfo("America/Los_Angeles")  # the simulated store's WordPress time zone
CENT = Decimal("0.01")
TAX_RATE = Decimal("0.0725")
CATALOGUE = (  # (product_id, variation_id, sku, name, price)
    (93, 0, "", "Woo Single #1", Decimal("3.00")),
    (22, 23, "Bar3", "Ship Your Idea &ndash; Color: Black, Size: M Test", Decimal("12.00")),
    (31, 0, "HOODIE-LOGO", "Hoodie with Logo", Decimal("45.00")),
    (35, 36, "TSHIRT-BLU-L", "T-Shirt &ndash; Blue, L", Decimal("18.00")),
    (40, 0, "BEANIE", "Beanie", Decimal("18.00")),
    (44, 0, "CAP-01", "Cap", Decimal("16.00")),
    (51, 52, "SUNGLASS-B", "Sunglasses &ndash; Black", Decimal("90.00")),
    (60, 0, "ALBUM-DL", "Album (download)", Decimal("15.00")),
    (66, 0, "POLO-GRN", "Polo", Decimal("20.00")),
    (70, 71, "VNECK-RED-M", "V-Neck T-Shirt &ndash; Red, M", Decimal("17.50")),
)
PEOPLE = (("John", "Doe", "969 Market", "San Francisco", "CA", "94103", "(555) 555-5555"),
          ("Mei", "Lin", "88 Grant Ave", "San Francisco", "CA", "94108", "+1 415 555 0188"),
          ("Ana", "Silva", "1 Infinite Loop", "Cupertino", "CA", "95014", ""),
          ("Raj", "Patel", "350 5th Ave", "New York", "NY", "10118", "212-555-0110"),
          ("Zoë", "Müller", "500 W 2nd St", "Austin", "TX", "78701", "512 555 0199"))
STATUSES = ("processing",) * 6 + ("completed",) * 3 + ("pending", "on-hold", "cancelled")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def local_text(moment: datetime) -> str:
    return moment.astimezone(SITE_ZONE).replace(tzinfo=None, microsecond=0).isoformat()


def gmt_text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def set_time(order: dict[str, Any], name: str, moment: datetime | None) -> None:
    """Both forms WooCommerce sends: site-local ``name`` and ``name_gmt``."""
    order[name] = local_text(moment) if moment else None
    order[f"{name}_gmt"] = gmt_text(moment) if moment else None


def make_order(order_id: int, at: str, rng: random.Random | None = None,
               updated: datetime | None = None) -> dict[str, Any]:
    """One order with id ORDER_ID created at AT (ISO), last modified at UPDATED."""
    rng = rng or random.Random(order_id)
    created = datetime.fromisoformat(at.replace("Z", "+00:00"))
    created = created if created.tzinfo else created.replace(tzinfo=UTC)
    modified = updated or created
    status = rng.choice(STATUSES)
    picks = rng.sample(CATALOGUE, rng.randint(1, 3))
    coupon = rng.choice((None, None, None, "percent10", "fixed5"))
    lines = [_line(order_id * 10 + i, pick, rng.randint(1, 3)) for i, pick in enumerate(picks)]
    _apply_coupon(lines, coupon)
    for line in lines:
        _finish_line(line)
    shipping = Decimal("0.00") if rng.random() < 0.2 else Decimal("10.00")
    cart_tax = sum((Decimal(ln["total_tax"]) for ln in lines), Decimal("0.00"))
    discount = sum((Decimal(ln["subtotal"]) - Decimal(ln["total"]) for ln in lines),
                   Decimal("0.00"))
    first, last, street, city, state, postcode, phone = rng.choice(PEOPLE)
    address = {"first_name": first, "last_name": last, "company": "", "address_1": street,
               "address_2": "", "city": city, "state": state, "postcode": postcode,
               "country": "US"}
    order: dict[str, Any] = {
        "id": order_id, "parent_id": 0, "number": str(order_id),
        "order_key": f"wc_order_{rng.getrandbits(48):012x}", "created_via": "checkout",
        "version": "9.8.5", "status": status, "currency": "USD"}
    set_time(order, "date_created", created)
    set_time(order, "date_modified", modified)
    order.update({
        "discount_total": str(discount), "discount_tax": str(cents(discount * TAX_RATE)),
        "shipping_total": str(shipping), "shipping_tax": "0.00", "cart_tax": str(cart_tax),
        "total": str(sum((Decimal(ln["total"]) for ln in lines), Decimal("0.00"))
                     + shipping + cart_tax),
        "total_tax": str(cart_tax), "prices_include_tax": False, "customer_id": 0,
        "customer_ip_address": "", "customer_user_agent": "",
        "customer_note": rng.choice(("", "", "Please leave at the door")),
        "billing": {**address, "email": f"{first.lower()}@example.com", "phone": phone},
        "shipping": {**address, "phone": phone},
        "payment_method": "stripe", "payment_method_title": "Credit Card (Stripe)",
        "transaction_id": f"ch_{rng.getrandbits(64):016x}" if status != "pending" else ""})
    paid = status in ("processing", "completed")
    paid_at = created + timedelta(seconds=min(5, (modified - created).total_seconds()))
    set_time(order, "date_paid", paid_at if paid else None)
    set_time(order, "date_completed", modified if status == "completed" else None)
    order.update({
        "cart_hash": "", "meta_data": [], "line_items": lines,
        "tax_lines": [{"id": order_id * 10 + 8, "rate_code": "US-CA-STATE TAX", "rate_id": 75,
                       "label": "State Tax", "compound": False, "tax_total": str(cart_tax),
                       "shipping_tax_total": "0.00", "meta_data": []}] if cart_tax else [],
        "shipping_lines": [{"id": order_id * 10 + 9, "method_title": "Flat Rate" if shipping
                            else "Free shipping", "method_id": "flat_rate" if shipping
                            else "free_shipping", "total": str(shipping), "total_tax": "0.00",
                            "taxes": [], "meta_data": []}],
        "fee_lines": [],
        "coupon_lines": [{"id": order_id * 10 + 7, "code": coupon, "discount": str(discount),
                          "discount_tax": str(cents(discount * TAX_RATE)), "meta_data": []}]
        if coupon else [],
        "refunds": []})
    return order


def _line(line_id: int, pick: tuple[int, int, str, str, Decimal], quantity: int
          ) -> dict[str, Any]:
    product_id, variation_id, sku, name, price = pick
    subtotal = price * quantity
    return {"id": line_id, "name": name, "product_id": product_id,
            "variation_id": variation_id, "quantity": quantity, "tax_class": "",
            "subtotal": str(subtotal), "subtotal_tax": "", "total": str(subtotal),
            "total_tax": "", "taxes": [], "meta_data": [], "sku": sku, "price": price}


def _apply_coupon(lines: list[dict[str, Any]], coupon: str | None) -> None:
    if coupon == "percent10":
        for line in lines:
            line["total"] = str(cents(Decimal(line["subtotal"]) * Decimal("0.9")))
    elif coupon == "fixed5":  # a fixed cart discount, spread by line value, rest on the last
        whole = sum((Decimal(ln["subtotal"]) for ln in lines), Decimal("0.00"))
        left = min(Decimal("5.00"), whole)
        for i, line in enumerate(lines):
            subtotal = Decimal(line["subtotal"])
            share = left if i == len(lines) - 1 else cents(Decimal("5.00") * subtotal / whole)
            share = min(share, subtotal)
            left -= share
            line["total"] = str(subtotal - share)


def _finish_line(line: dict[str, Any]) -> None:
    subtotal, total = Decimal(line["subtotal"]), Decimal(line["total"])
    line["subtotal_tax"] = str(cents(subtotal * TAX_RATE))
    line["total_tax"] = str(cents(total * TAX_RATE))
    line["taxes"] = [{"id": 75, "total": line["total_tax"], "subtotal": line["subtotal_tax"]}]
    # PHP's float total / quantity, written with the shortest round-trip digits.
    line["price"] = Decimal(repr(float(total) / line["quantity"]))


def generate(first_id: int, count: int, seed: int, start: datetime,
             spread_seconds: float) -> list[dict[str, Any]]:
    """COUNT orders with ids from FIRST_ID, created over SPREAD_SECONDS from START; some
    modified a little later (paid, completed)."""
    rng = random.Random(seed)
    step = spread_seconds / max(count, 1)
    found = []
    for n in range(count):
        created = start + timedelta(seconds=n * step)
        later = rng.choice((0, 0, 5, 60, 600))
        later = later if later <= spread_seconds - n * step else 0  # stay inside the spread
        found.append(make_order(first_id + n, created.isoformat(), rng,
                                created + timedelta(seconds=later)))
    return found
