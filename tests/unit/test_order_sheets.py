"""Spreadsheet rows to orders: grouping, bilingual headers, bad rows, Beijing-time dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderpilot.domain.errors import InvalidInput
from orderpilot.entrypoints.cli.order_sheets import EXPORT_COLUMNS, export_rows
from orderpilot.services import order_sheets as transfer

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
ZH = ["渠道", "店铺", "平台订单号", "下单时间", "币种", "收货人", "手机", "国家", "省", "市", "区",
      "地址", "邮编", "SKU", "商品名称", "数量", "单价", "优惠", "运费", "实付总额", "标签"]
EN = ["channel", "shop_id", "external_id", "placed_at", "currency", "customer_name", "phone",
      "country", "province", "city", "district", "line1", "postal_code", "sku", "name",
      "quantity", "unit_price", "discount", "shipping_fee", "total", "tags"]


def row(external_id: str = "YZ1001", **over: Any) -> list[Any]:
    values = {"channel": "youzan", "shop_id": "wx-mini", "external_id": external_id,
              "placed_at": "2026-11-26 10:00:00", "currency": "CNY", "customer_name": "王芳",
              "phone": "13800138000", "country": "CN", "province": "浙江省", "city": "宁波市",
              "district": "北仑区", "line1": "宁波北仑保税区港东大道8号",
              "postal_code": "315800", "sku": "DIAPER-L", "name": "纸尿裤L码", "quantity": 2,
              "unit_price": "129.00", "discount": "", "shipping_fee": "0", "total": "258.00",
              "tags": "直播间"} | over
    return [values[f] for f in EN]


def line_row(external_id: str = "YZ1001", **over: Any) -> list[Any]:
    """A second line of an order: only the key and the line columns filled in."""
    keep = {"channel", "shop_id", "external_id", "sku", "name", "quantity", "unit_price",
            "discount"}
    full = dict(zip(EN, row(external_id, **over), strict=True))
    return [full[f] if f in keep else None for f in EN]


def plan(header: list[str], rows: list[list[Any]], **kw: Any) -> transfer.ImportPlan:
    return transfer.plan_import(header, list(enumerate(rows, start=2)), source="excel",
                                now=NOW, **kw)


def reasons(p: transfer.ImportPlan) -> dict[int, tuple[str | None, str]]:
    return {r.row: (r.field, r.reason) for r in p.rejected}


def test_rows_of_one_order_are_grouped_into_lines_with_chinese_headers() -> None:
    p = plan(ZH, [row(total="297.80"),
                  line_row(sku="WIPES-80", name="婴儿湿巾80抽", quantity=2, unit_price="19.90"),
                  row("YZ1002")])
    assert p.rejected == []
    first, second = p.orders
    assert first.rows == (2, 3) and second.rows == (4,)
    cmd = first.command
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in cmd.lines] == [
        ("DIAPER-L", 2, "129.00"), ("WIPES-80", 2, "19.90")]
    assert cmd.total == "297.80" and cmd.customer_name == "王芳" and cmd.tags == ("直播间",)
    assert cmd.raw_source == "excel" and cmd.raw_version == "sheet-v1"
    assert [r["row"] for r in cmd.raw_payload["rows"]] == [2, 3]
    assert cmd.raw_payload["rows"][0]["cells"]["收货人"] == "王芳"


def test_rows_of_one_order_need_not_be_adjacent() -> None:
    p = plan(EN, [row("A"), row("B"), line_row("A", sku="WIPES-80", unit_price="0")])
    assert [d.rows for d in p.orders] == [(2, 4), (3,)]


@pytest.mark.parametrize("header", [
    EN, [h.upper() for h in EN], [f"{zh} / {en}" for zh, en in zip(ZH, EN, strict=True)],
    ["平台", "店铺编号", "订单编号", "下单日期", "货币", "收件人", "手机号", "国家", "省份", "城市",
     "区县", "详细地址", "邮政编码", "商品编码", "品名", "qty", "price", "优惠金额", "运费",
     "实付金额", "标签"],
])
def test_headers_are_understood_in_english_chinese_or_both(header: list[str]) -> None:
    p = plan(header, [row()])
    assert p.rejected == [] and p.ignored_columns == []
    assert p.orders[0].command.external_id == "YZ1001"


def test_unknown_columns_are_ignored_and_named() -> None:
    p = plan([*EN, "备注"], [[*row(), "尽快发货"]])
    assert p.ignored_columns == ["备注"] and len(p.orders) == 1


def test_a_missing_required_column_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        plan([h for h in EN if h != "phone"], [row()[:6] + row()[7:]])
    assert caught.value.field == "phone" and "手机 / phone" in caught.value.message


def test_bad_rows_are_reported_by_row_number_and_field() -> None:
    p = plan(ZH, [
        row("OK-1"),
        row("BAD-QTY", quantity="两件"),
        row("BAD-PHONE", phone="call me"),
        row("BAD-TOTAL", total="300.00"),
        row("", ),
        row("BAD-SKU"), line_row("BAD-SKU", sku="bad sku!"),
    ])
    assert [d.command.external_id for d in p.orders] == ["OK-1"]
    got = reasons(p)
    assert got[3][0] == "quantity" and "数量 / quantity" in got[3][1]
    assert got[4][0] == "phone" and "手机 / phone" in got[4][1]
    assert got[5][0] == "total" and "258.00" in got[5][1]
    assert got[6][0] == "external_id" and "required" in got[6][1]
    assert got[8][0] == "sku"  # the second line's own row, not the order's first row
    assert got[7][0] is None and "row 8" in got[7][1]  # its sibling row is not imported either
    assert p.rejected_orders == 5


def test_an_order_with_one_bad_line_is_not_imported_at_all() -> None:
    p = plan(EN, [row(total="297.80"), line_row(sku="WIPES-80", quantity=0, unit_price="19.90")])
    assert p.orders == []
    assert reasons(p)[3][0] == "quantity" and reasons(p)[2][0] is None


def test_order_values_that_differ_between_its_rows_are_refused() -> None:
    p = plan(EN, [row(), row(sku="WIPES-80", unit_price="19.90", phone="13900000000")])
    assert p.orders == []
    assert reasons(p)[3] == ("phone", ("手机 / phone: differs from row 2 of the same order "
                                       "('13900000000' vs '13800138000')"))


def test_naive_times_are_beijing_time_and_offsets_are_kept() -> None:
    cases = {"2026-11-26 10:00:00": datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
             "2026/11/26 10:00": datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
             "2026-11-26T10:00:00+00:00": datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
             "2026-11-26": datetime(2026, 11, 25, 16, 0, tzinfo=UTC)}
    p = plan(EN, [row(f"T{i}", placed_at=v) for i, v in enumerate(cases)]
             + [row("T-excel", placed_at=datetime(2026, 11, 26, 10, 0))])
    got = [d.command.placed_at for d in p.orders]
    assert got == [*cases.values(), datetime(2026, 11, 26, 2, 0, tzinfo=UTC)]
    assert got[0].utcoffset() == timedelta(hours=8)


def test_an_unreadable_time_names_the_field() -> None:
    p = plan(EN, [row(placed_at="下周一")])
    assert reasons(p)[2][0] == "placed_at" and "下单时间 / placed_at" in reasons(p)[2][1]


def test_excel_number_cells_become_text_and_money() -> None:
    p = plan(EN, [row(external_id=240611001.0, phone=13800138000.0, unit_price=19.9,
                      quantity=3.0, total=59.7, postal_code=315800)])
    cmd = p.orders[0].command
    assert (cmd.external_id, cmd.customer_phone, cmd.address["postal_code"]) == (
        "240611001", "13800138000", "315800")
    assert cmd.lines[0].unit_price == "19.90" and cmd.lines[0].quantity == 3


def test_channel_defaults_and_chinese_channel_names() -> None:
    p = plan(EN, [row("A", channel=""), row("B", channel="有赞")], default_channel="own_store")
    assert [d.command.channel for d in p.orders] == ["own_store", "youzan"]
    missing = plan(EN, [row(channel="")])
    assert reasons(missing)[2][0] == "channel" and "--channel" in reasons(missing)[2][1]


def test_a_blank_total_is_taken_from_the_lines() -> None:
    p = plan(EN, [row(total="", shipping_fee="8", discount="10")])
    assert p.orders[0].command.total == "256.00"


def test_exported_rows_plan_back_into_the_same_order() -> None:
    detail = {"id": "o-1", "channel": "shopee", "shop_id": "SG-01", "external_id": "SP1",
              "placed_at": "2026-11-26T02:00:00.250000+00:00", "currency": "SGD",
              "status_zh": "已支付", "customer": {"name": "Tan Wei Ling", "phone": "+6581234567"},
              "shipping_address": {"country": "SG", "province": "", "city": "Singapore",
                                   "district": "", "line1": "Blk 1 Tampines St 81",
                                   "postal_code": "520001"},
              "lines": [{"sku": "DIAPER-L", "name": "纸尿裤L码", "quantity": 1,
                         "unit_price": "24.10", "discount": "1.90"},
                        {"sku": "WIPES-80", "name": "", "quantity": 2, "unit_price": "3.70",
                         "discount": "0.00"}],
              "shipping_fee": "1.50", "total": "31.10", "tags": ["新客", "会员"]}
    rows = export_rows(detail)
    assert len(rows) == 2 and rows[0][3] == datetime(2026, 11, 26, 10, 0)
    p = plan([c.label for c in EXPORT_COLUMNS], rows)
    assert p.rejected == [] and p.ignored_columns == []
    cmd = p.orders[0].command
    assert (cmd.channel, cmd.external_id, cmd.total, cmd.shipping_fee, cmd.tags) == (
        "shopee", "SP1", "31.10", "1.50", ("新客", "会员"))
    assert cmd.placed_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert [(ln.sku, ln.discount) for ln in cmd.lines] == [("DIAPER-L", "1.90"),
                                                          ("WIPES-80", "0.00")]
