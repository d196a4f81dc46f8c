"""A paid canonical order as a Kingdee Cloud Galaxy (金蝶云星空) sale order, SAL_SaleOrder, by a
field mapping finance can edit.

The mapping is a JSON document: for each Kingdee field, where its value comes from, in a fixed
vocabulary (``SOURCES``):

    {"head":    {"FBillNo": "order.external_id", "FDate": "order.placed_date",
                 "FCustId": {"FNumber": "lookup:customers"}, ...},
     "finance": {"FSettleCurrId": {"FNumber": "lookup:currencies"}, ...},
     "entry":   {"FMaterialId": {"FNumber": "line.sku"}, "FQty": "line.quantity", ...},
     "lookups": {"customers": {"key": "order.channel", "values": {"shopee": "C001"},
                               "default": "CUST-RETAIL"}}}

A value is an expression (``order.*``, ``line.*`` in the entry only, ``const:TEXT``,
``lookup:TABLE``) or ``{"FNumber": expression}``: a base-data reference (客户, 组织, 物料, 币别),
which Kingdee takes by its number. ``FBillNo`` is always ``order.external_id``: the bill number
is the platform order number, what makes a resend find the bill instead of making a second one.

Format facts and where they come from:

* The Save/BatchSave body ``{"formid": "SAL_SaleOrder", "data": {"Model": ...}}`` with the
  options ``IsAutoSubmitAndAudit``, ``IsVerifyBaseDataField``, ``NumberSearch`` beside
  ``Model``: Kingdee's Python WebAPI SDK, ``k3cloud_webapi_sdk/main.py`` (``Save``,
  ``BatchSave``) and ``sample.py`` (``{"Model": [...]}`` for a batch), as published in
  github.com/takewiki/k3cloud_webapi_sdk; the option names as the Save parameter list gives them
  (e.g. the Go binding github.com/runnning/k3cloud, and the WebAPI 接口说明书 quoted there).
* SAL_SaleOrder's Save template (the WebAPI's own sample, kept in github.com/freedomw1987/
  node-k3cloud ``src/defaultData/saleOrderSave.js``): ``FBillTypeID``, ``FBillNo``, ``FDate``,
  ``FSaleOrgId``, ``FCustId``, ``FNote``, ``FSaleOrderFinance`` {``FSettleCurrId``,
  ``FIsIncludedTax``, ``FExchangeTypeId``...}, ``FSaleOrderEntry`` rows {``FMaterialId``,
  ``FUnitID``, ``FQty``, ``FPrice``, ``FEntryTaxRate``, ``FTaxPrice``, ``FDiscountRate``,
  ``FDeliveryDate``, ``FEntryNote``...}; base data as ``{"FNumber": ...}``. The finance part's
  fields also in github.com/vebin/Kingdee.Bos.Plug ``Source/MgSoft.K3Cloud.WebApi/Common/Dto/
  Sal/Sal_SaleOrder_Finance.cs``. The values ``XSDD01_SYS`` (standard sale order),
  ``PRE001`` (CNY) and ``HLTX01_SYS`` (fixed exchange rate) as public sale-order sync scripts
  send them (code search "FSaleOrderFinance FSettleCurrId PRE001").
* ``FDiscountRate`` is a percentage: the line's discount is sent as a rate rounded to six
  places (Kingdee recomputes the amount from it), the exact amount stays available as
  ``line.discount`` for an installation's own field. The shipping fee has no standard
  sale-order field: it is offered as ``order.shipping_fee`` for a custom field.
* Not set by default: ``FUnitID`` (Kingdee falls back to the material's sale unit in most
  installations; not verified) — map it (``const:Pcs`` or a lookup) where it is required.

Money is written as exact decimals (never floats); dates as ``YYYY-MM-DD`` in China time, the
day the order was placed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.rules.problems import Problem

FORM_ID = "SAL_SaleOrder"
FIELD = re.compile(r"^F[A-Za-z0-9_]{1,63}$")
TABLE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SECTIONS = ("head", "finance", "entry")
MAX_TEXT = 200

ORDER_SOURCES: dict[str, str] = {
    "order.external_id": "the platform order number / 平台订单号",
    "order.id": "the hub's order id / 中台订单号",
    "order.channel": "the sales channel / 渠道",
    "order.shop_id": "the shop / 店铺",
    "order.currency": "the currency (ISO) / 币种",
    "order.placed_date": "the day it was placed, China time / 下单日期",
    "order.total": "what the buyer paid / 实付金额",
    "order.shipping_fee": "the shipping fee / 运费",
    "order.customer_name": "the buyer's name as received / 买家姓名",
    "order.summary": "channel, shop and platform order number / 来源摘要",
}
LINE_SOURCES: dict[str, str] = {
    "line.sku": "the SKU / 商品编码",
    "line.name": "the item name / 商品名称",
    "line.quantity": "the quantity / 数量",
    "line.unit_price": "the unit price before discount, tax included / 含税单价",
    "line.discount": "the line's discount amount / 折扣额",
    "line.discount_rate": "the discount as a percentage, 6 places / 折扣率%",
    "line.amount": "the line amount after discount / 金额",
    "line.number": "the line's position from 1 / 行号",
}
SOURCES = {**ORDER_SOURCES, **LINE_SOURCES}
REQUIRED = {"head": ("FBillNo", "FDate", "FCustId", "FSaleOrgId"),
            "entry": ("FMaterialId", "FQty")}


class MappingInvalid(InvalidInput):
    """The mapping document has problems; ``problems`` names every one, in both languages."""

    def __init__(self, problems: list[Problem], *, zh: str) -> None:
        first = problems[0]
        super().__init__(f"the Kingdee field mapping is not valid: {first.message}"
                         + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                         field=first.field, code="erp.mapping_invalid", zh=zh)
        self.problems = problems


def summary_zh(problems: list[Problem]) -> str:
    more = f"（另有 {len(problems) - 1} 处）" if len(problems) > 1 else ""
    return f"金蝶字段映射无效：{problems[0].message_zh}{more}"


@dataclass(frozen=True)
class FieldMapping:
    """A validated mapping document (build one with :func:`parse_mapping`)."""

    document: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.document.get(name) or {}
        return found


def default_document(org_number: str = "100") -> dict[str, Any]:
    """The mapping a new installation starts with: a standard sale order (XSDD01_SYS) of the
    sale organisation ORG_NUMBER, tax-included prices in CNY, one customer per channel."""
    return {
        "head": {"FBillNo": "order.external_id",
                 "FBillTypeID": {"FNumber": "const:XSDD01_SYS"},
                 "FDate": "order.placed_date",
                 "FSaleOrgId": {"FNumber": f"const:{org_number}"},
                 "FCustId": {"FNumber": "lookup:customers"},
                 "FNote": "order.summary"},
        "finance": {"FSettleCurrId": {"FNumber": "lookup:currencies"},
                    "FIsIncludedTax": "const:true",
                    "FExchangeTypeId": {"FNumber": "const:HLTX01_SYS"}},
        "entry": {"FMaterialId": {"FNumber": "line.sku"},
                  "FQty": "line.quantity",
                  "FTaxPrice": "line.unit_price",
                  "FDiscountRate": "line.discount_rate",
                  "FDeliveryDate": "order.placed_date"},
        "lookups": {"customers": {"key": "order.channel", "values": {},
                                  "default": "CUST-RETAIL"},
                    # Kingdee's preset currencies (币别) PRE001-PRE007; a currency an
                    # installation added itself (SGD, MYR...) is finance's to map.
                    "currencies": {"key": "order.currency", "values": {
                        "CNY": "PRE001", "HKD": "PRE002", "EUR": "PRE003", "JPY": "PRE004",
                        "TWD": "PRE005", "GBP": "PRE006", "USD": "PRE007"}}},
    }


def default_mapping(org_number: str = "100") -> FieldMapping:
    return parse_mapping(default_document(org_number))


def parse_mapping(document: object) -> FieldMapping:
    """FieldMapping from a JSON document; MappingInvalid naming every problem otherwise."""
    problems: list[Problem] = []

    def bad(where: str, en: str, zh: str) -> None:
        problems.append(Problem(where, en, zh))

    if not isinstance(document, dict):
        not_object = [Problem("mapping", "the mapping must be a JSON object",
                              "映射必须是 JSON 对象")]
        raise MappingInvalid(not_object, zh=summary_zh(not_object))
    for key in document:
        if key not in (*SECTIONS, "lookups"):
            bad(str(key), f"unknown part {key!r}; the parts are head, finance, entry, lookups",
                f"未知部分 {key!r}；可用部分为 head、finance、entry、lookups")
    lookups = document.get("lookups") or {}
    if not isinstance(lookups, dict):
        bad("lookups", "lookups must be an object of tables", "lookups 必须是查找表对象")
        lookups = {}
    for name, table in lookups.items():
        _check_table(f"lookups.{name}", name, table, bad)
    for section in SECTIONS:
        fields = document.get(section) or {}
        if not isinstance(fields, dict):
            bad(section, f"{section} must be an object of Kingdee fields",
                f"{section} 必须是金蝶字段对象")
            continue
        for required in REQUIRED.get(section, ()):
            if required not in fields:
                bad(f"{section}.{required}", f"{required} must be mapped",
                    f"必须映射 {required}")
        for name, value in fields.items():
            _check_field(section, name, value, lookups, bad)
    entry = document.get("entry") or {}
    if isinstance(entry, dict) and not {"FTaxPrice", "FPrice"} & set(entry):
        bad("entry.FTaxPrice", "the entry needs a price: FTaxPrice or FPrice",
            "分录需要单价：FTaxPrice 或 FPrice")
    head = document.get("head") or {}
    if isinstance(head, dict) and head.get("FBillNo", "order.external_id") \
            != "order.external_id":
        bad("head.FBillNo", "FBillNo must be order.external_id: the bill number is what keeps "
            "an order from being booked twice",
            "FBillNo 必须为 order.external_id：单据编号保证同一订单不会重复入账")
    if problems:
        raise MappingInvalid(problems, zh=summary_zh(problems))
    return FieldMapping(copy.deepcopy(document))


def _check_table(where: str, name: object, table: object, bad: Any) -> None:
    if not isinstance(name, str) or not TABLE.match(name):
        bad(where, "a lookup table's name is lower-case letters, digits and _",
            "查找表名称只能包含小写字母、数字和下划线")
    if not isinstance(table, dict) or table.get("key") not in ORDER_SOURCES:
        bad(f"{where}.key", f"key must be one of {', '.join(ORDER_SOURCES)}",
            f"key 必须是以下之一：{'、'.join(ORDER_SOURCES)}")
        return
    values = table.get("values", {})
    if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= MAX_TEXT
            for k, v in values.items()):
        bad(f"{where}.values", "values maps texts to non-empty Kingdee numbers",
            "values 必须把文本映射到非空的金蝶编码")
    default = table.get("default")
    if default is not None and (not isinstance(default, str) or not 0 < len(default) <= MAX_TEXT):
        bad(f"{where}.default", "default must be a non-empty text", "default 必须是非空文本")
    for key in table:
        if key not in ("key", "values", "default"):
            bad(f"{where}.{key}", f"unknown setting {key!r}", f"未知设置 {key!r}")


def _check_field(section: str, name: object, value: object, lookups: Mapping[str, Any],
                 bad: Any) -> None:
    where = f"{section}.{name}"
    if not isinstance(name, str) or not FIELD.match(name):
        bad(where, "a Kingdee field key starts with F (FCustId, F_PAEZ_Text...)",
            "金蝶字段标识以 F 开头（如 FCustId、F_PAEZ_Text）")
    if isinstance(value, dict):
        if set(value) != {"FNumber"}:
            bad(where, 'a base-data reference is {"FNumber": <source>}',
                '基础资料引用的格式为 {"FNumber": <来源>}')
            return
        value = value["FNumber"]
    if not isinstance(value, str):
        bad(where, "the source must be a text such as order.external_id or const:100",
            "来源必须是文本，如 order.external_id 或 const:100")
        return
    if value.startswith("const:"):
        if len(value) > len("const:") + MAX_TEXT:
            bad(where, f"a constant is at most {MAX_TEXT} characters",
                f"常量最多 {MAX_TEXT} 个字符")
    elif value.startswith("lookup:"):
        if value[len("lookup:"):] not in lookups:
            bad(where, f"no lookup table {value[len('lookup:'):]!r} in lookups",
                f"lookups 中没有查找表 {value[len('lookup:'):]!r}")
    elif value in LINE_SOURCES:
        if section != "entry":
            bad(where, f"{value} is a line's value: only entry fields may use it",
                f"{value} 是明细行的值，只能用于 entry 字段")
    elif value not in ORDER_SOURCES:
        bad(where, f"unknown source {value!r}; use order.*, line.*, const:TEXT or "
                   f"lookup:TABLE (see the docs for the list)",
            f"未知来源 {value!r}；请使用 order.*、line.*、const:文本 或 lookup:表名")


__all__ = ["FORM_ID", "LINE_SOURCES", "ORDER_SOURCES", "SOURCES", "FieldMapping",
           "MappingInvalid", "default_document", "default_mapping", "parse_mapping"]
