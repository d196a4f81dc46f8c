from orderpilot.adapters.logging import mask_phone, mask_value


def test_phone_numbers_are_masked_anywhere_in_text() -> None:
    assert mask_phone("call 13800001234 now") == "call 138****1234 now"
    assert "13800001234" not in mask_value("event", {"customer": {"phone": "13800001234"}})


def test_addresses_are_masked() -> None:
    masked = mask_value("shipping_address", {"line1": "保税区港城大道1号", "city": "宁波市"})
    assert "港城大道" not in str(masked)
