"""The one masking policy: phones (mainland and international), names, addresses, e-mails,
free text, documents, and the log records of the standard library."""

from __future__ import annotations

import logging

from orderpilot.adapters.logging import _masked_record
from orderpilot.domain.masking import (
    mask_address,
    mask_document,
    mask_name,
    mask_phone,
    mask_text,
)
from orderpilot.domain.withheld import NOT_AUTHORISED, WITHHELD, in_language


def test_phones_mainland_and_international() -> None:
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("+6591234567") == "+65****4567"
    assert mask_phone("+44 20 7946 0958") == "+44****0958"
    assert mask_phone("138****1234") == "138****1234"  # masked twice stays the same


def test_names_and_addresses_keep_only_a_hint() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("Tan Ah Kow") == "T*********"
    assert mask_address("保税区港城大道1号") == "保税区***"


def test_free_text_masks_numbers_by_shape_and_known_values_as_words() -> None:
    text = "买家电话13800001234, SG +65 9123 4567, mail tan.ak@example.sg, Li in Lines"
    masked = mask_text(text, known={"Li"})
    assert "13800001234" not in masked and "9123 4567" not in masked
    assert "tan.ak@" not in masked and "t***@example.sg" in masked
    assert "Lines" in masked and " Li " not in masked
    order_id = "8f3a1c2e-1380-0001-2345-123456789012"
    assert mask_text(order_id) == order_id  # ids and times are not phone numbers
    assert mask_text("2026-11-26T10:00:00+08:00") == "2026-11-26T10:00:00+08:00"


def test_documents_mask_by_place_and_repeat_what_they_found() -> None:
    doc = {"customer": {"name": "张三", "phone": "+6591234567"},
           "shipping_address": {"city": "宁波市", "line1": "保税区港城大道1号"},
           "lines": [{"name": "婴儿奶粉"}],
           "trace": {"leaves": [{"field": "order.customer.name", "actual": "张三"}]},
           "ticket": {"body": "买家 张三 未通过核验"}}
    masked = mask_document(doc)
    assert masked["customer"] == {"name": "张*", "phone": "+65****4567"}
    assert masked["shipping_address"] == {"city": "宁波市", "line1": "保税区***"}
    assert masked["lines"] == [{"name": "婴儿奶粉"}]  # a product's name is not a person's
    assert masked["trace"]["leaves"][0]["actual"] == "张*"
    assert masked["ticket"]["body"] == "买家 张* 未通过核验"


def test_standard_library_records_and_tracebacks_are_masked() -> None:
    try:
        raise RuntimeError("INSERT failed for 13800001234 / +6591234567")
    except RuntimeError as error:
        record = _masked_record("uvicorn.error", logging.ERROR, __file__, 1,
                                "Exception for %s", ("+6591234567",),
                                (type(error), error, error.__traceback__))
    text = logging.Formatter().format(record)
    assert "13800001234" not in text and "6591234567" not in text
    assert "+65****4567" in text and "RuntimeError" in text


def test_what_is_not_personal_data_is_left_alone() -> None:
    doc = {"address_flags": ["bonded_zone"],
           "rule": {"params": {"phone": "{{ order.customer.phone }}",
                               "body": "买家 {{ order.customer.name }}"}},
           "customer": {"name": "张三"}, "ticket": "买家 张三 住 保税区港城大道1号",
           "shipping_address": {"line1": "保税区港城大道1号"}}
    masked = mask_document(doc)
    assert masked["address_flags"] == ["bonded_zone"]
    assert masked["rule"] == doc["rule"]  # placeholders are not data
    assert masked["ticket"] == "买家 张* 住 保税区***"  # each repeat masked as what it is


def test_uvicorn_access_lines_keep_their_arguments_masked() -> None:
    from uvicorn.logging import AccessFormatter

    record = _masked_record("uvicorn.access", logging.INFO, __file__, 1,
                            '%s - "%s %s HTTP/%s" %d',
                            ("127.0.0.1:5000", "GET", "/api/v1/orders?q=13800001234", "1.1", 200),
                            None)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert "/api/v1/orders?q=138****1234" in line and "200" in line


def test_a_channel_note_in_place_of_a_withheld_field_is_not_masked() -> None:
    for mask in (mask_name, mask_phone, mask_address):
        assert mask(NOT_AUTHORISED) == NOT_AUTHORISED
    assert mask_document({"customer": {"name": NOT_AUTHORISED, "phone": "13812345678"}}) == {
        "customer": {"name": NOT_AUTHORISED, "phone": "138****5678"}}
    assert in_language(NOT_AUTHORISED, "en") == WITHHELD[NOT_AUTHORISED]
    assert in_language(NOT_AUTHORISED, "zh_CN") == NOT_AUTHORISED
    assert in_language("王芳", "en") == "王芳"
