"""Shopee returns: the documented get_return_detail sample mapped, statuses, reasons, SKUs and
what cannot be mapped; the TO_RETURN order push asks for a scan of the shop's returns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orderpilot.adapters.channels.base import Account, read_json
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.shopee import PLATFORM
from orderpilot.integrations.shopee.push import read_push
from orderpilot.integrations.shopee.return_mapping import STATUS, map_return

ACCOUNT = Account(code="sg", platform="shopee", shop_id="14701711", region="SG",
                  credentials={"partner_id": "2001887", "partner_key": "k"})

# The response sample of v2.returns.get_return_detail (open.shopee.com reference, mirrored in
# congminh1254/shopee-sdk schemas/v2.returns.get_return_detail.json), the fields the hub reads.
DOCUMENTED = """{"image": ["https://cf.shopee.sg/file/166f23cbfb31bd882f51cfe7f90d3826"],
  "reason": "NOT_RECEIPT", "text_reason": "not received", "return_sn": "2206140TA5PM808",
  "refund_amount": 13.97, "currency": "SGD", "create_time": 1655205084,
  "update_time": 1655219544, "status": "ACCEPTED", "due_date": 1655377883,
  "tracking_number": "RNSHS00177569", "needs_logistics": false,
  "amount_before_discount": 13.99,
  "user": {"username": "gwlsg01", "email": "********oo@shopee.com", "portrait": ""},
  "item": [{"model_id": 2001586745, "name": "[Self collection point] Orange macaron",
    "images": [], "amount": 1, "item_price": 10, "is_add_on_deal": false,
    "is_main_item": false, "add_on_deal_id": 0, "item_id": 2700126223, "item_sku": "USB",
    "variation_sku": "RED", "refund_amount": 12.34}],
  "order_sn": "220614T9XV8JTN", "return_ship_due_date": 1655438205,
  "return_seller_due_date": 1655438205}"""


def documented(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = read_json(DOCUMENTED, "sample")
    raw.update(changes)
    return raw


def test_the_documented_return_maps_exactly() -> None:
    ret = map_return(documented(), ACCOUNT)
    assert ret.return_id == "2206140TA5PM808" and ret.order_external_id == "220614T9XV8JTN"
    assert (ret.status, ret.platform_status) == ("accepted", "ACCEPTED")
    assert ret.lines == (("RED", 1),)
    assert ret.refund_amount == Decimal("13.97") and ret.currency == "SGD"
    assert ret.updated_at == datetime.fromtimestamp(1655219544, UTC)
    assert ret.created_at == datetime.fromtimestamp(1655205084, UTC)
    assert (ret.reason_code, ret.reason_text, ret.reason_tags) == (
        "NOT_RECEIPT", "not received", ())


@pytest.mark.parametrize(("shopee", "ours"), [
    ("REQUESTED", "requested"), ("PROCESSING", "requested"), ("JUDGING", "requested"),
    ("SELLER_DISPUTE", "requested"), ("ACCEPTED", "accepted"), ("REFUND_PAID", "refunded"),
    ("CANCELLED", "cancelled"), ("CLOSED", "cancelled")])
def test_every_status_has_a_meaning(shopee: str, ours: str) -> None:
    assert map_return(documented(status=shopee), ACCOUNT).status == ours == STATUS[shopee]


def test_reasons_map_to_tags_only_where_they_obviously_correspond() -> None:
    assert map_return(documented(reason="WRONG_ITEM"), ACCOUNT).reason_tags == ("wrong_item",)
    reassessed = documented(reason="OTHER", reassessed_request_reason="ITEM_MISSING")
    assert map_return(reassessed, ACCOUNT).reason_tags == ("missing_items",)
    silent = map_return(documented(reason="ITEM_DAMAGED", text_reason=""), ACCOUNT)
    assert silent.reason_tags == () and "破损" in silent.reason_text


def test_skus_are_named_as_the_order_mapping_names_them() -> None:
    items = [{"item_id": 1, "model_id": 0, "item_sku": "PARENT", "variation_sku": "",
              "amount": 2},
             {"item_id": 2, "model_id": 7, "item_sku": "P2", "variation_sku": "", "amount": 1},
             {"item_id": 1, "model_id": 0, "item_sku": "PARENT", "variation_sku": "",
              "amount": 1}]
    assert map_return(documented(item=items), ACCOUNT).lines == (("PARENT", 3), ("2:7", 1))


@pytest.mark.parametrize(("changes", "field"), [
    ({"status": "LOST"}, "status"), ({"return_sn": None}, "return_sn"),
    ({"item": []}, "item"), ({"item": [{"item_id": 1, "amount": 0}]}, "item[0].amount"),
    ({"refund_amount": "1.234"}, "refund_amount"), ({"update_time": "soon"}, "update_time")])
def test_what_cannot_be_mapped_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as refused:
        map_return(documented(**changes), ACCOUNT)
    assert refused.value.field == field


def test_the_platform_declares_returns_with_refunds() -> None:
    assert PLATFORM.returns is not None and PLATFORM.returns.refunds
    assert PLATFORM.returns.map_return is map_return


def test_a_to_return_push_also_asks_for_a_scan_of_the_shops_returns() -> None:
    body = json.dumps({"data": {"ordersn": "2404098R48U37H", "status": "TO_RETURN",
                                "completed_scenario": "", "update_time": 1713139948},
                       "shop_id": 14701711, "code": 3, "timestamp": 1713139950}).encode()
    order, scan = read_push(body)
    assert (order.kind, scan.kind) == ("order", "return_scan")
    assert scan.external_id == "2404098R48U37H" and scan.dedup_key != order.dedup_key
    shipped = body.replace(b"TO_RETURN", b"SHIPPED")
    assert [n.kind for n in read_push(shipped)] == ["order"]
