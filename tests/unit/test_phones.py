"""Phones checked against their country's numbering plan (domain/phones.py)."""

from __future__ import annotations

import pytest

from orderpilot.domain.phones import PLANS, PhoneInvalid, example, normalise_phone


@pytest.mark.parametrize("phone,country,stored", [
    ("13800000000", "CN", "13800000000"),
    ("+86 138-0000-0000", "CN", "13800000000"),
    ("0086 13800000000", "SG", "13800000000"),  # a mainland mobile shipping to Singapore
    ("010-1234 5678", "CN", "01012345678"),
    ("+86 10 1234 5678", "CN", "01012345678"),
    ("0571-87654321", "CN", "057187654321"),
    ("5123 4567", "HK", "+85251234567"),
    ("+852 2123 4567", "CN", "+85221234567"),
    ("0912-345-678", "TW", "+886912345678"),
    ("+886 2 2345 6789", "TW", "+886223456789"),
    ("9123 4567", "SG", "+6591234567"),
    ("+65 6123 4567", "SG", "+6561234567"),
    ("012-345 6789", "MY", "+60123456789"),
    ("+60 11 2345 6789", "MY", "+601123456789"),
    ("081 234 5678", "TH", "+66812345678"),
    ("02 123 4567", "TH", "+6621234567"),
    ("0812-3456-7890", "ID", "+6281234567890"),
    ("+62 21 1234 5678", "ID", "+622112345678"),
    ("0917 123 4567", "PH", "+639171234567"),
    ("(02) 8123 4567", "PH", "+63281234567"),
    ("091 234 5678", "VN", "+84912345678"),
    ("+84 24 3123 4567", "VN", "+842431234567"),
    ("(202) 555-0123", "US", "+12025550123"),
    ("1 202 555 0123", "US", "+12025550123"),
    ("+1 415.555.0100", "CN", "+14155550100"),
    ("+44 20 7946 0958", "GB", "+442079460958"),  # no plan of its own: any E.164 number
    ("020 7946 0958", "GB", "02079460958"),
])
def test_valid_numbers_are_stored_in_one_form(phone: str, country: str, stored: str) -> None:
    assert normalise_phone(phone, country) == stored


@pytest.mark.parametrize("phone,country", [
    ("12345", "CN"), ("12345", "GB"), ("+12345", "US"),
    ("1380000000", "CN"),  # a digit short
    ("23800000000", "CN"),  # no mobile starts with 2; not a fixed line of that length
    ("12800000000", "CN"),  # 12x is not a mobile range
    ("+86 138 0000 00001", "SG"),
    ("1234 5678", "HK"),  # HK numbers start with 2-9
    ("912345678", "TW"),  # the local form needs its trunk 0
    ("7123 4567", "SG"), ("912345678", "SG"),
    ("12-345 6789", "MY"),
    ("0112345678", "TH"),
    ("0412345678", "VN"),
    ("0917123456", "PH"),
    ("(123) 555-0123", "US"),  # an area code never starts with 1
    ("(202) 055-0123", "US"),  # nor an exchange with 0
    ("+1 202 555 012", "CN"),
    ("call me", "CN"), ("138****0000", "CN"), ("+", "CN"),
])
def test_invalid_numbers_are_refused(phone: str, country: str) -> None:
    with pytest.raises(PhoneInvalid):
        normalise_phone(phone, country)


def test_every_plan_accepts_its_own_example() -> None:
    for country in PLANS:
        assert normalise_phone(example(country), country), country
