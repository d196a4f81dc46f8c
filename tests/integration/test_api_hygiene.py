"""What an integrator expects of the order API: 415 for a body that is not JSON, money as plain
decimal strings, phones by country, every problem in one answer, 409 for a changed re-send."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import order_body


def test_a_body_that_is_not_json_is_415(api: Any) -> None:
    text = json.dumps(order_body())
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = api.post("/api/v1/orders", content=text, headers=headers)
        assert answer.status_code == 415, (content_type, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "unsupported_media_type" and error["field"] == "Content-Type"
        assert "application/json" in error["message"] and "JSON" in error["message_zh"]
    chunked = api.post("/api/v1/orders", content=iter([text[:50].encode(), text[50:].encode()]),
                       headers={"Content-Type": "text/plain"})  # no Content-Length
    assert chunked.status_code == 415, chunked.text
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        answer = api.post("/api/v1/orders", content=text, headers={"Content-Type": content_type})
        assert answer.status_code in (200, 201), answer.text
    # A route without a JSON body, and a DELETE without a body (its missing reason is a 422),
    # are not concerned.
    order_id = answer.json()["id"]
    hold = api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": "price_error"}).json()
    bare = api.delete(f"/api/v1/orders/{order_id}/holds/{hold['id']}")
    assert bare.status_code == 422 and bare.json()["error"]["field"] == "reason", bare.text
    released = api.request("DELETE", f"/api/v1/orders/{order_id}/holds/{hold['id']}",
                           json={"reason": "false_alarm"})
    assert released.status_code == 200, released.text


def test_a_wrong_content_type_is_415_before_the_body_is_read_on_other_routes(api: Any) -> None:
    answer = api.put("/api/v1/inventory/levels", content=b"sku,on_hand\nA,1\n",
                     headers={"Content-Type": "text/csv"})
    assert answer.status_code == 415, answer.text


@pytest.mark.parametrize("value", [1000, 129.0, "1e3", "1E3", "NaN", "Infinity", "129.0000001",
                                   "1,000.00"])
def test_money_that_is_not_a_plain_decimal_string_is_422_naming_the_field(
        api: Any, value: Any) -> None:
    body = order_body(lines=[{"sku": "DIAPER-L", "quantity": 1, "unit_price": value}],
                      total="1000.00")
    answer = api.post("/api/v1/orders", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "lines[0].unit_price", error
    assert {d["field"] for d in error["details"]} == {"lines[0].unit_price"}


def test_json_numbers_are_refused_even_when_exact(api: Any) -> None:
    answer = api.post("/api/v1/orders", json=order_body(total=258))
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "total"


@pytest.mark.parametrize("phone,country,status,stored", [
    ("12345", "CN", 422, None), ("+86 138 0000 0000", "CN", 201, "13800000000"),
    ("9123 4567", "SG", 201, "+6591234567"), ("9123 4567", "CN", 422, None),
    ("+1 (202) 555-0123", "US", 201, "+12025550123")])
def test_phones_are_checked_in_the_shipping_country(api: Any, phone: str, country: str,
                                                    status: int, stored: str | None) -> None:
    body = order_body(customer={"name": "Tan", "phone": phone},
                      shipping_address={"country": country, "city": "X", "line1": "1 Main St"})
    answer = api.post("/api/v1/orders", json=body)
    assert answer.status_code == status, answer.text
    if stored:
        assert api.get(f"/api/v1/orders/{answer.json()['id']}").json()[
            "customer"]["phone"] == stored
    else:
        error = answer.json()["error"]
        assert error["field"] == "customer.phone" and country in error["message"]
        assert error["details"][0]["code"] == "phone_invalid"


def test_every_business_error_of_an_order_comes_in_one_answer(api: Any) -> None:
    body = order_body(currency="XXX", customer={"name": "张三", "phone": "12345"},
                      lines=[{"sku": "DIAPER-L", "quantity": 1, "unit_price": "1e3"},
                             {"sku": "WIPES", "quantity": 0, "unit_price": "9.90"}],
                      total="10.00")
    answer = api.post("/api/v1/orders", json=body)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == "currency"  # today's fields
    assert error["message"].startswith("unsupported currency") and error["message_zh"]
    assert [(d["field"], d["code"]) for d in error["details"]] == [
        ("currency", "unsupported_currency"), ("customer.phone", "phone_invalid"),
        ("lines[0].unit_price", "money_format"), ("lines[1].quantity", "out_of_range")]
    assert all(d["message"] and d["message_zh"] for d in error["details"])


def test_schema_errors_are_all_listed_with_a_code(api: Any) -> None:
    body = order_body()
    del body["currency"]
    body["lines"][0]["quantity"] = "two"
    error = api.post("/api/v1/orders", json=body).json()["error"]
    assert {(d["field"], d["code"]) for d in error["details"]} == {
        ("currency", "missing"), ("lines[0].quantity", "int_type")}


def test_a_re_sent_order_with_other_contents_is_409_naming_the_fields(api: Any) -> None:
    first = api.post("/api/v1/orders", json=order_body("RESEND-1"),
                     headers={"Idempotency-Key": "resend-1"})
    assert first.status_code == 201
    same = api.post("/api/v1/orders", json=order_body("RESEND-1"),
                    headers={"Idempotency-Key": "another-key"})
    assert same.status_code == 200 and same.json()["duplicate"] is True
    # The same order written differently (phone with +86, money without decimals) is the same.
    again = order_body("RESEND-1", customer={"name": "张三", "phone": "+86 138 0000 0000"},
                       total="258")
    assert api.post("/api/v1/orders", json=again).status_code == 200
    assert api.post("/api/v1/orders", json=again,
                    headers={"Idempotency-Key": "resend-1"}).status_code == 200
    changed = order_body("RESEND-1", lines=[{"sku": "DIAPER-L", "quantity": 3,
                                             "unit_price": "129.00"}], total="387.00")
    changed["shipping_address"]["line1"] = "中山路 2 号"
    answer = api.post("/api/v1/orders", json=changed)
    assert answer.status_code == 409, answer.text
    with_key = api.post("/api/v1/orders", json=changed, headers={"Idempotency-Key": "resend-1"})
    assert with_key.status_code == 409 and with_key.json() == answer.json()
    error = answer.json()["error"]
    assert error["code"] == "order_changed"
    fields = [d["field"] for d in error["details"]]
    assert fields == ["total", "shipping_address.line1", "lines[0].quantity"]
    assert all(f in error["message"] for f in fields) and "RESEND-1" in error["message_zh"]
    order = api.get(f"/api/v1/orders/{first.json()['id']}").json()
    assert order["total"] == "258.00" and order["lines"][0]["quantity"] == 2  # nothing applied
