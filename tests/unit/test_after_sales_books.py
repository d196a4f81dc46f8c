"""The plain rules behind the S8 side effects: the amount credited, when and how much to
replenish, and the Kingdee bills made from them (numbers fixed by what they are about)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from orderpilot.domain.after_sales_books import StockLevel, credit_amount, replenishment
from orderpilot.domain.errors import InvalidInput
from orderpilot.integrations.kingdee.books import (
    credit_bill_no,
    credit_model,
    requisition_bill_no,
    requisition_model,
)


@pytest.mark.parametrize("raw, amount", [("129.00", "129.00"), (129, "129.00"),
                                         ("1,299.5", "1299.50"), (0.1, "0.10")])
def test_amounts_to_credit_are_positive_yuan_to_the_cent(raw: object, amount: str) -> None:
    assert credit_amount(raw) == Decimal(amount)


@pytest.mark.parametrize("raw", [None, "", "0", "-5", "12元x", True, "1e12", "NaN"])
def test_anything_else_is_refused_naming_the_amount(raw: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        credit_amount(raw)
    assert caught.value.field == "amount" and caught.value.zh


def test_replenishment_counts_only_sellable_sources_free_above_safety() -> None:
    levels = [StockLevel("bonded_spot", 6, 2, 1, 4),       # 3 free, threshold 4
              StockLevel("domestic_transfer", 2, 0, 0, 2),  # 2 free, threshold 2
              StockLevel("in_transit", 500, 0, 0, 50)]      # not sellable: ignored
    need = replenishment("MILK-900", levels, top_up=10)
    assert need is not None
    assert (need.available, need.threshold, need.quantity) == (5, 6, 11)


def test_no_replenishment_over_the_threshold_or_without_one() -> None:
    assert replenishment("A", [StockLevel("bonded_spot", 10, 0, 0, 5)], 10) is None
    assert replenishment("A", [StockLevel("bonded_spot", 0, 0, 0, 0)], 10) is None
    at = replenishment("A", [StockLevel("bonded_spot", 5, 0, 0, 5)], 0)  # at it: low, as
    assert at is not None and at.quantity == 1                          # inventory.low reads


def test_the_credit_is_a_red_receivable_numbered_by_its_return() -> None:
    model = credit_model(return_id="r-1", order_no="SO-9", amount=Decimal("99.50"),
                         day=date(2026, 12, 2), customer="C001", org_number="100",
                         material="RETURN-CREDIT")
    assert model["FBillNo"] == credit_bill_no("r-1") == "RC-r-1"
    [entry] = model["FEntityDetail"]
    assert (entry["FPriceQty"], entry["FALLAMOUNTFOR_D"], entry["FORDERNUMBER"]) == (
        -1, Decimal("-99.50"), "SO-9")
    assert model["FCUSTOMERID"] == {"FNumber": "C001"} and model["FDATE"] == "2026-12-02"
    # the head fields the public AR_receivable Save DTO requires (books.py cites it)
    assert model["FENDDATE_H"] == "2026-12-02"
    assert model["FPAYORGID"] == model["FSETTLEORGID"] == model["FSALEORGID"] == \
        {"FNumber": "100"}


def test_a_requisition_is_numbered_by_sku_and_day() -> None:
    model = requisition_model(sku="MILK-900", quantity=8, day=date(2026, 12, 2),
                              org_number="100", note="n")
    assert model["FBillNo"] == requisition_bill_no("MILK-900", date(2026, 12, 2)) \
        == "PR-20261202-MILK-900"
    assert model["FEntity"][0]["FReqQty"] == 8
    assert model["FEntity"][0]["FRequireOrgId"] == {"FNumber": "100"}
