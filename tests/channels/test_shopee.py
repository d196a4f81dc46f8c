"""Shopee v2: signing against the documented examples, mapping of the documented sample order,
push verification and reading. Sources are cited in integrations/shopee/*.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from orderpilot.adapters.channels.base import Account, Hook, read_json
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.shopee import INTEGRATION, PLATFORM
from orderpilot.integrations.shopee.mapping import map_order
from orderpilot.integrations.shopee.push import read_push, verify_push
from orderpilot.integrations.shopee.sample_orders import generate, sample_order
from orderpilot.integrations.shopee.signing import (
    base_string,
    push_is_authentic,
    push_signature,
    sign,
)

KEY = "test-partner-key"
ACCOUNT = Account(code="sg", platform="shopee", shop_id="14701711", region="VN",
                  callback_url="https://hub.example.com/hooks/sg-shop",
                  credentials={"partner_id": "2001887", "partner_key": KEY})

# The response sample of v2.order.get_order_detail (open.shopee.com reference, mirrored in
# congminh1254/shopee-sdk schemas/v2.order.get_order_detail.json), with its two JSON typos
# (a doubled "{" and a missing comma after logistics_channel_id) fixed.
DOCUMENTED_ORDER = """{
  "actual_shipping_fee_confirmed": true, "buyer_cancel_reason": "", "buyer_cpf_id": null,
  "buyer_user_id": 1170319091, "buyer_username": "xt4fdsf96j", "cancel_by": "",
  "cancel_reason": "", "cod": true, "create_time": 1712601591, "currency": "VND",
  "days_to_ship": 2, "dropshipper": null, "dropshipper_phone": null,
  "estimated_shipping_fee": 5000, "fulfillment_flag": "fulfilled_by_local_seller",
  "goods_to_declare": false, "invoice_data": null,
  "item_list": [{"add_on_deal": false, "add_on_deal_id": 0,
    "image_info": {"image_url": "https://cf.shopee.vn/file/vn-11134207-7qukw-lf6guphtf6oad3_tn"},
    "is_b2c_owned_item": false, "is_prescription_item": false, "item_id": 23620853561,
    "item_name": "Kem n\\u1edf ng\\u1ef1c SADOER enlarging breast cream 60g",
    "item_sku": "", "main_item": false, "model_discounted_price": 48000,
    "model_id": 221404189791, "model_name": "60g\\uff08Papaya\\uff09",
    "model_original_price": 300000, "model_quantity_purchased": 1,
    "model_sku": "QAZ-SADOER-05", "order_item_id": 23620853561,
    "product_location_id": ["VN10XX2UZ"], "promotion_group_id": 0,
    "promotion_id": 779222207758537, "promotion_type": "flash_sale", "weight": 0.01,
    "wholesale": false}],
  "message_to_seller": "", "note": "", "note_update_time": 0, "order_sn": "2404098R48U37H",
  "order_status": "COMPLETED",
  "package_list": [{"group_shipment_id": null,
    "item_list": [{"item_id": 23620853561, "model_id": 221404189791, "model_quantity": 1,
      "order_item_id": 23620853561, "product_location_id": "VN10XX2UZ",
      "promotion_group_id": 0}],
    "logistics_status": "LOGISTICS_DELIVERY_DONE", "package_number": "OFG166300791210964",
    "parcel_chargeable_weight_gram": 10, "shipping_carrier": "5-Day Delivery (SPX)",
    "logistics_channel_id": 18080, "allow_self_design_awb": true, "sorting_group": "North"}],
  "pay_time": 1712817766, "payment_method": "Cash on Delivery", "pickup_done_time": 1712726577,
  "recipient_address": {"city": "Huy\\u1ec7n Ph\\u01b0\\u1edbc Long",
    "district": "X\\u00e3 Phong Th\\u1ea1nh T\\u00e2y B", "full_address": "\\u1ea4p******",
    "name": "P******n", "phone": "******64", "region": "VN", "state": "B\\u1ea1c Li\\u00eau",
    "town": "", "zipcode": ""},
  "region": "VN", "reverse_shipping_fee": 0, "ship_by_date": 1712671200,
  "shipping_carrier": "Giao H\\u00e0ng Nhanh", "split_up": false, "total_amount": 32119,
  "update_time": 1713139948}"""

# buyer_payment_info of the v2.payment.get_escrow_detail_batch response sample (same mirror):
# 52600 + 2000 - 900 - 5260 = 48440.
DOCUMENTED_PAYMENT = {"buyer_payment_method": "ShopeePay Linked Bank Account",
                      "buyer_service_fee": 0, "buyer_tax_amount": 0,
                      "buyer_total_amount": 48440, "credit_card_promotion": 0,
                      "icms_tax_amount": 0, "import_tax_amount": 0, "initial_buyer_txn_fee": 0,
                      "insurance_premium": 0, "iof_tax_amount": 0,
                      "is_paid_by_credit_card": False, "merchant_subtotal": 52600,
                      "seller_voucher": 0, "shipping_fee": 2000, "shipping_fee_sst_amount": 0,
                      "shopee_coins_redeemed": -900, "shopee_voucher": -5260}

# The push body inside the documented v2.push.get_lost_push_message sample.
DOCUMENTED_PUSH = (b'{"data":{"ordersn":"220810QSK8S7BX","status":"PROCESSED",'
                   b'"completed_scenario":"","update_time":1660123127},"shop_id":727720655,'
                   b'"code":3,"timestamp":1660123127}')


def documented_order() -> dict[str, Any]:
    order: dict[str, Any] = read_json(DOCUMENTED_ORDER, "order")
    return order


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# -- signing ---------------------------------------------------------------------------------

def test_shop_api_base_string_is_the_documented_example() -> None:
    # developer-guide/16: partner_id, path, timestamp, access_token, shop_id
    assert base_string("2001887", "/api/v2/shop/get_shop_info", 1655714431,
                       "59777174636562737266615546704c6d", "14701711") == (
        "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711")
    assert base_string("2001887", "/api/v2/public/get_shops_by_partner", 1655714431) == (
        "2001887/api/v2/public/get_shops_by_partner1655714431")


def test_sign_is_lower_hex_hmac_sha256_with_the_partner_key() -> None:
    # computed apart with: printf '%s' BASE | openssl dgst -sha256 -hmac test-partner-key
    assert sign(KEY, "2001887", "/api/v2/shop/get_shop_info", 1655714431,
                "59777174636562737266615546704c6d", "14701711") == (
        "faf4a60d51e5807794fd37d18f605d4e8d1370ba96d66245e23d22c77cb6f090")
    assert sign(KEY, "2001887", "/api/v2/public/get_shops_by_partner", 1655714431) == (
        "eb64c45d9acbec13d6055f604ec1e5b055977f894f80b78659ca0ac06de0d376")


def test_push_signature_covers_callback_url_bar_and_raw_body() -> None:
    expected = "2cbfd4329a6bdd24bd429d0c8b696053192f177d7692080e0d0edc4e337c9204"
    assert push_signature(KEY, ACCOUNT.callback_url, DOCUMENTED_PUSH) == expected
    assert push_is_authentic(expected.upper(), KEY, (ACCOUNT.callback_url,), DOCUMENTED_PUSH)


# -- push --------------------------------------------------------------------------------------

def hook(authorization: str, url: str = "http://10.0.0.5:8000/hooks/sg-shop") -> Hook:
    return Hook(url=url, headers={"authorization": authorization}, query={})


def test_verify_push_good_bad_tampered_and_wrong_key() -> None:
    good = push_signature(KEY, ACCOUNT.callback_url, DOCUMENTED_PUSH)
    assert verify_push(ACCOUNT, hook(good), DOCUMENTED_PUSH)
    assert not verify_push(ACCOUNT, hook("0" * 64), DOCUMENTED_PUSH)
    assert not verify_push(ACCOUNT, hook(""), DOCUMENTED_PUSH)
    tampered = DOCUMENTED_PUSH.replace(b"PROCESSED", b"CANCELLED")
    assert not verify_push(ACCOUNT, hook(good), tampered)
    reformatted = json.dumps(json.loads(DOCUMENTED_PUSH)).encode()  # same JSON, other bytes
    assert not verify_push(ACCOUNT, hook(good), reformatted)
    wrong_key = push_signature("another-key", ACCOUNT.callback_url, DOCUMENTED_PUSH)
    assert not verify_push(ACCOUNT, hook(wrong_key), DOCUMENTED_PUSH)


def test_verify_push_accepts_the_url_the_request_reached_when_no_callback_is_set() -> None:
    url = "https://hub.example.com/hooks/sg-shop?x=1"
    account = Account(code="sg", platform="shopee", shop_id="1", credentials=ACCOUNT.credentials)
    assert verify_push(account, hook(push_signature(KEY, url, DOCUMENTED_PUSH), url),
                       DOCUMENTED_PUSH)
    other = push_signature(KEY, "https://evil.example.com/", DOCUMENTED_PUSH)
    assert not verify_push(account, hook(other, url), DOCUMENTED_PUSH)


def test_read_order_status_push() -> None:
    [notice] = read_push(DOCUMENTED_PUSH)
    assert (notice.external_id, notice.status, notice.kind) == (
        "220810QSK8S7BX", "PROCESSED", "order")
    assert notice.update_time == at(1660123127)
    assert notice.raw is None and not PLATFORM.push_carries_order
    # a replay, even re-serialised, is the same notice; another status is another one
    again = json.dumps(json.loads(DOCUMENTED_PUSH), indent=2).encode()
    assert read_push(again)[0].dedup_key == notice.dedup_key
    moved = DOCUMENTED_PUSH.replace(b"PROCESSED", b"SHIPPED")
    assert read_push(moved)[0].dedup_key != notice.dedup_key


def test_read_tracking_push_other_pushes_and_bad_bodies() -> None:
    tracking = (b'{"data":{"ordersn":"220810QSK8S7BX","package_number":"OFG1","tracking_no":'
                b'"SPXSG01"},"shop_id":727720655,"code":4,"timestamp":1660123200}')
    [notice] = read_push(tracking)
    assert (notice.external_id, notice.kind, notice.update_time) == (
        "220810QSK8S7BX", "order", None)
    authorised = b'{"shop_id":123,"code":1,"success":1,"extra":"ok","timestamp":1470198856}'
    assert read_push(authorised)[0].kind == "other"
    assert read_push(b"") == []  # Shopee's check of a new callback URL
    with pytest.raises(MappingError):
        read_push(DOCUMENTED_PUSH[:-20])
    with pytest.raises(MappingError) as refused:
        read_push(b'{"code":3,"shop_id":1,"data":{"status":"READY_TO_SHIP"}}')
    assert refused.value.field == "data.ordersn"


# -- mapping -----------------------------------------------------------------------------------

def test_documented_sample_order_maps_exactly() -> None:
    order = map_order(documented_order(), ACCOUNT)
    assert order.external_id == "2404098R48U37H"
    assert (order.currency, order.status) == ("VND", "COMPLETED")
    assert order.placed_at == at(1712601591) and order.updated_at == at(1713139948)
    [line] = order.lines
    assert line.sku == "QAZ-SADOER-05" and line.quantity == 1
    assert (line.unit_price, line.discount, line.amount) == (
        Decimal("300000.00"), Decimal("252000.00"), Decimal("48000.00"))
    assert line.item_ids == ("23620853561:221404189791",)
    assert order.shipping_fee == Decimal("5000.00")  # estimated_shipping_fee: no escrow here
    assert order.paid_total == Decimal("32119.00")
    assert order.adjustments == (("other", Decimal("-20881.00")),)
    assert order.expected_total() == order.paid_total
    assert [(s.event_type, s.occurred_at) for s in order.statuses] == [
        ("payment.succeeded", at(1712817766)), ("order.completed", at(1713139948))]
    [package] = order.packages
    assert (package.package_id, package.carrier, package.status, package.item_ids) == (
        "OFG166300791210964", "5-Day Delivery (SPX)", "LOGISTICS_DELIVERY_DONE",
        ("23620853561:221404189791",))
    assert (order.buyer_name, order.buyer_phone) == ("P******n", "******64")
    assert order.address == {"country": "VN", "province": "Bạc Liêu",
                             "city": "Huyện Phước Long", "district": "Xã Phong Thạnh Tây B",
                             "line1": "Ấp******", "postal_code": ""}
    assert order.extra["cod"] == "yes" and order.extra["buyer_user_id"] == "1170319091"


def test_escrow_breakdown_names_vouchers_coins_and_buyer_shipping() -> None:
    raw = documented_order()
    raw["item_list"][0] |= {"model_original_price": 30000, "model_discounted_price": 26300,
                            "model_quantity_purchased": 2}
    raw |= {"total_amount": 48440, "escrow_detail": {"order_sn": raw["order_sn"],
                                                     "buyer_payment_info": DOCUMENTED_PAYMENT}}
    order = map_order(raw, ACCOUNT)
    assert order.lines[0].amount == Decimal("52600.00")
    assert order.shipping_fee == Decimal("2000.00")
    assert order.adjustments == (("platform_voucher", Decimal("-5260.00")),
                                 ("coins", Decimal("-900.00")))  # nothing left unexplained
    assert order.paid_total == Decimal("48440.00")


def test_bundle_deal_items_keep_their_listed_price_and_the_gap_is_named() -> None:
    raw = documented_order()
    raw["item_list"][0] |= {"model_original_price": 30000, "model_discounted_price": 0,
                            "promotion_type": "bundle_deal", "model_quantity_purchased": 2}
    raw |= {"total_amount": 48440, "escrow_detail": {"buyer_payment_info": DOCUMENTED_PAYMENT}}
    order = map_order(raw, ACCOUNT)
    assert order.lines[0].amount == Decimal("60000.00")
    assert ("bundle_discount", Decimal("-7400.00")) in order.adjustments
    assert order.expected_total() == Decimal("48440.00")
    assert not [k for k, _ in order.adjustments if k == "other"]


def test_sku_falls_back_to_parent_sku_then_ids() -> None:
    raw = documented_order()
    item = raw["item_list"][0]
    item |= {"model_sku": "", "item_sku": "PARENT"}
    assert map_order(raw, ACCOUNT).lines[0].sku == "23620853561:221404189791"
    item |= {"model_id": 0}
    assert map_order(raw, ACCOUNT).lines[0].sku == "PARENT"


def test_unpaid_order_without_total_has_no_payment_event_and_no_gap() -> None:
    raw = documented_order()
    raw |= {"order_status": "UNPAID", "pay_time": 0, "total_amount": 0}
    order = map_order(raw, ACCOUNT)
    assert [s.event_type for s in order.statuses] == ["system.status"]
    assert order.paid_total == Decimal("53000.00") and order.adjustments == ()


@pytest.mark.parametrize(("change", "field"), [
    ({"order_sn": None}, "order_sn"),
    ({"order_status": "LOST_IN_SPACE"}, "order_status"),
    ({"item_list": []}, "item_list"),
    ({"create_time": "yesterday"}, "create_time"),
    ({"total_amount": "12,50"}, "total_amount"),
    ({"total_amount": Decimal("1.005")}, "total_amount"),
])
def test_refuses_what_cannot_be_mapped(change: dict[str, Any], field: str) -> None:
    raw = documented_order() | change
    with pytest.raises(MappingError) as refused:
        map_order(raw, ACCOUNT)
    assert refused.value.field == field


@pytest.mark.parametrize(("change", "field"), [
    ({"model_discounted_price": 300001}, "item_list[0].model_discounted_price"),
    ({"model_quantity_purchased": 0}, "item_list[0].model_quantity_purchased"),
    ({"model_original_price": "free"}, "item_list[0].model_original_price"),
])
def test_refuses_a_line_whose_figures_contradict(change: dict[str, Any], field: str) -> None:
    raw = documented_order()
    raw["item_list"][0] |= change
    with pytest.raises(MappingError) as refused:
        map_order(raw, ACCOUNT)
    assert refused.value.field == field


def test_currency_falls_back_to_the_region() -> None:
    raw = documented_order()
    del raw["currency"]
    sg = Account(code="sg", platform="shopee", shop_id="1", region="SG")
    assert map_order(raw, sg).currency == "SGD"


def test_generated_and_sample_orders_map_and_balance() -> None:
    sg = Account(code="sg", platform="shopee", shop_id="1", region="SG")
    orders = generate(300, 7, datetime(2026, 3, 1, tzinfo=UTC), 3600)
    assert len({o["order_sn"] for o in orders}) == 300
    for raw in [*orders, sample_order(3, "SG"), sample_order(4, "VN")]:
        order = map_order(raw, sg)
        if "escrow_detail" in raw:
            assert not [k for k, _ in order.adjustments if k == "other"], raw["order_sn"]
        assert order.placed_at <= order.updated_at


def test_status_table_and_registration() -> None:
    documented = {"UNPAID", "READY_TO_SHIP", "PROCESSED", "RETRY_SHIP", "SHIPPED",
                  "TO_CONFIRM_RECEIVE", "IN_CANCEL", "CANCELLED", "TO_RETURN", "COMPLETED",
                  "INVOICE_PENDING", "PENDING"}
    assert {row.status for row in PLATFORM.statuses} == documented
    events = {row.status: row.event_type for row in PLATFORM.statuses}
    # TO_RETURN is the storefront's view: the return itself comes through the return intake.
    assert (events["CANCELLED"], events["COMPLETED"], events["TO_RETURN"]) == (
        "order.cancelled", "order.completed", "system.status")
    assert PLATFORM.ack.body == b"" and 200 <= PLATFORM.ack.status < 300
    assert IntegrationRegistry.discover(installed=False).channels()["shopee"] is PLATFORM
    assert "https://partner.shopeemobile.com" in INTEGRATION.origins(
        INTEGRATION.settings())
