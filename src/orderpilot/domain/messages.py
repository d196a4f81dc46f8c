"""The message catalogue: one English and one Chinese template per key, for the messages
raised in many places or by adapters (``OrderpilotError.coded(key, **params)``, see
domain/errors.py). Templates use ``%(name)s`` placeholders filled from the error's ``params``.
A one-off message gives its Chinese text where it is raised (``zh=``) instead.
"""

from __future__ import annotations

import json
import re

CATALOGUE: dict[str, tuple[str, str]] = {
    "order.not_found": (
        "no order with id %(order_id)s",
        "订单 %(order_id)s 不存在"),
    "rule.not_found": (
        "no rule %(rule_id)s",
        "规则 %(rule_id)s 不存在"),
    "rule_run.not_found": (
        "no rule run %(run_id)s",
        "规则运行记录 %(run_id)s 不存在"),
    "promotion.not_found": (
        "no promotion %(promotion_id)s",
        "促销 %(promotion_id)s 不存在"),
    "user.not_found": (
        "no user %(username)s",
        "用户 %(username)s 不存在"),
    # Sheets refused by the bounded reader (adapters/sheet_reading.py): UnreadableSheet
    "sheet.old_xls": (
        "%(file)s: the old .xls format is not supported; save it as .xlsx in Excel",
        "%(file)s：不支持旧的 .xls 格式，请在 Excel 中另存为 .xl"
        "sx"),
    "sheet.wrong_type": (
        "%(file)s: use an .xlsx or a .csv file",
        "%(file)s：请使用 .xlsx 或 .csv 文件"),
    "sheet.too_large": (
        "%(file)s is larger than %(limit)s MB",
        "%(file)s 超过 %(limit)s MB"),
    "sheet.not_xlsx": (
        "%(file)s is not an Excel .xlsx file (it is not a zip archive); save it as .xlsx or .csv",
        "%(file)s 不是 Excel .xlsx 文件（不是 zip 压缩包）；请"
        "另存为 .xlsx 或 .csv"),
    "sheet.zip_parts": (
        "%(file)s holds more than %(limit)s parts; it is not a sheet we read",
        "%(file)s 包含超过 %(limit)s 个部件，不是可以读取的表格"),
    "sheet.zip_size": (
        "%(file)s unpacks to more than %(limit)s MB; split it into smaller files",
        "%(file)s 解压后超过 %(limit)s MB，请拆分为较小的文件"),
    "sheet.zip_ratio": (
        "%(file)s: the part %(part)s is compressed more than %(limit)s times; it is not a sheet we "
        "read",
        "%(file)s：部件 %(part)s 的压缩比超过 %(limit)s 倍，"
        "不是可以读取的表格"),
    "sheet.broken": (
        "%(file)s cannot be read (%(detail)s); open it in Excel and save it again",
        "%(file)s 无法读取，请在 Excel 中打开后重新保存"),
    "sheet.no_sheet": (
        "%(file)s has no worksheet",
        "%(file)s 中没有工作表"),
    "sheet.declared_range": (
        "%(file)s declares the range %(range)s; at most %(rows)s rows and %(columns)s columns are "
        "read",
        "%(file)s 声明的区域为 %(range)s；最多读取 %(rows)s "
        "行、%(columns)s 列"),
    "sheet.too_many_rows": (
        "%(file)s has more than %(limit)s rows after the header; split it",
        "%(file)s 表头之后超过 %(limit)s 行，请拆分文件"),
    "sheet.row_too_far": (
        "%(file)s: row %(row)s is past row %(limit)s, the last one read; delete the blank rows "
        "above it or split the file",
        "%(file)s：第 %(row)s 行超出读取范围（最后读取第 %(limit"
        ")s 行）；请删除其上方的空行或拆分文件"),
    "sheet.too_many_columns": (
        "%(file)s: row %(row)s has a value in column %(column)s; at most %(limit)s columns are "
        "read",
        "%(file)s：第 %(row)s 行的 %(column)s 列有值；最多读"
        "取 %(limit)s 列"),
    "sheet.cell_too_long": (
        "%(file)s: row %(row)s, column %(column)s holds more than %(limit)s characters",
        "%(file)s：第 %(row)s 行 %(column)s 列超过 %(li"
        "mit)s 个字符"),
    "sheet.csv_cell_too_long": (
        "%(file)s: row %(row)s holds a cell of more than %(limit)s characters",
        "%(file)s：第 %(row)s 行有单元格超过 %(limit)s 个字符"),
    "sheet.too_many_cells": (
        "%(file)s holds more than %(limit)s cells, blank ones included; delete the unused rows and "
        "columns or split it",
        "%(file)s 包含超过 %(limit)s 个单元格（含空白单元格）；请删除"
        "未使用的行和列或拆分文件"),
    "sheet.bad_csv": (
        "%(file)s: row %(row)s is not valid CSV (%(detail)s)",
        "%(file)s：第 %(row)s 行不是有效的 CSV"),
    "sheet.empty": (
        "%(file)s is empty; the first row must be the header",
        "%(file)s 是空的；第一行必须是表头"),
    # Notes the hub writes on the holds it places (stored coded: see ``coded_note``)
    "hold.cannot_allocate": (
        "cannot allocate: %(items)s",
        "库存不足，无法分配：%(items)s"),
    "hold.stock_allocated": (
        "stock allocated",
        "库存已分配"),
    "rule.installed_from_template": (
        "installed from template %(template)s",
        "由模板 %(template)s 安装"),
}

# Names of the codes people see that are not lifecycle nodes or reportable events (those are
# in domain/lifecycle.py) nor console labels (entrypoints/console/i18n.py): kind -> code ->
# (English, Chinese). The console's ``code`` filter looks here last.
NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "event": {
        "ticket.opened": ("Ticket opened", "工单已创建"),
        "inventory.untracked": ("Stock not tracked", "未管理库存的商品"),
        "inventory.out_of_stock": ("Out of stock", "库存不足"),
        "inventory.released": ("Stock released", "库存已释放"),
        "order.address_changed": ("Address changed", "地址已修改"),
        "order.lines_cancelled": ("Lines cancelled", "商品行已取消"),
    },
    "output": {  # outputs actions declare, for a later step's "only if"
        "status_code": ("HTTP status code", "HTTP 状态码"),
    },
    "status": {  # what a system reports beside the lifecycle nodes (its last view)
        "contacted": ("Customer contacted", "客户已咨询"),
        "level_changed": ("Level re-evaluated", "等级已重新评定"),
        "scanned": ("Inbound scanned", "已入库扫描"),
        "po_checked": ("Purchase-order link checked", "采购单关联已核对"),
        # a return's own steps, as the hub's view shows them (domain/lifecycle.py)
        "return_approved": ("Return approved", "退货已同意"),
        "return_rejected": ("Return rejected", "退货已拒绝"),
        "return_pickup_booked": ("Return pickup booked", "退货已预约取件"),
        "return_route_decided": ("Return route decided", "退货路由已人工决定"),
        "return_inspected": ("Return inspected", "退货已质检"),
    },
    "source": {
        "kingdee": ("Kingdee", "金蝶云星空"), "sf": ("SF Express", "顺丰速运"),
        "yto": ("YTO Express", "圆通速递"), "customs": ("Customs filing", "海关备案"),
        "jdl": ("JD Logistics", "京东物流"), "zto": ("ZTO Express", "中通快递"),
        "helpdesk": ("Helpdesk", "客服工单系统"), "inventory": ("Inventory", "库存"),
    },
}


# The parts of a field path shown to people ("actions[2].params.template"), in Chinese.
FIELD_PARTS_ZH: dict[str, str] = {
    "rule": "规则", "name": "名称", "description": "说明", "trigger": "触发条件",
    "kind": "类型", "event": "事件", "unless": "除非发生", "minutes": "分钟数",
    "cron": "定时表达式", "timezone": "时区", "sources": "来源", "channels": "渠道",
    "conditions": "条件", "all": "全部满足", "any": "任一满足", "field": "字段", "op": "运算",
    "value": "值", "actions": "动作", "params": "参数", "if": "执行条件", "on_error": "失败时",
    "retries": "重试次数", "backoff_seconds": "重试间隔", "then": "之后", "template": "模板",
    "phone": "手机号", "connector": "连接器", "path": "路径", "url": "网址", "body": "请求体",
    "output": "输出", "method": "方法", "reason": "原因", "note": "备注", "note_en": "英文备注",
    "tags": "标签", "title": "标题", "priority": "优先级", "to": "收件人", "subject": "主题",
    "table": "决策表", "id": "编号", "key": "幂等键", "total": "订单总额", "lines": "商品行",
    "sku": "SKU",
    "quantity": "数量", "unit_price": "单价", "customer": "客户", "shipping_address": "收货地址",
    "currency": "币种", "placed_at": "下单时间", "external_id": "外部订单号", "channel": "渠道",
    "shop_id": "店铺", "shipping_fee": "运费", "discount": "优惠", "tracking_number": "运单号",
    "rows": "行", "inputs": "输入列", "outputs": "输出列", "hit_policy": "命中策略",
    "label": "标签", "status": "状态", "code": "编码", "timeout_s": "超时秒数",
    "branch": "分支动作", "text": "内容", "headers": "请求头", "sign": "签名", "push": "推送",
    "remove": "移除", "webhook": "推送到工单系统",
}
_PART = re.compile(r"^(?P<name>[A-Za-z_]+)(?P<index>(?:\[\d+\])*)$")


def field_path(path: str | None, locale: str | None) -> str:
    """A field path as a person reads it: in Chinese each known part named ("动作 3 › 参数 ›
    模板"), an unknown one kept; in English the path as it is."""
    if not path or not (locale or "").startswith("zh"):
        return path or ""
    shown = []
    for part in path.split("."):
        matched = _PART.match(part)
        if matched is None or matched["name"] not in FIELD_PARTS_ZH:
            shown.append(part)
            continue
        numbers = [int(n) + 1 for n in re.findall(r"\d+", matched["index"])]
        shown.append(FIELD_PARTS_ZH[matched["name"]]
                     + "".join(f" {n}" for n in numbers))
    return " › ".join(shown)


def named(kind: str, code: str, locale: str | None) -> str:
    """The name of CODE of KIND in LOCALE, or the code itself when it has none."""
    found = NAMES.get(kind, {}).get(code)
    if found is None:
        return code
    return found[1] if (locale or "").startswith("zh") else found[0]


NOTE_MARK = "msg:"
_LEGACY_NOTES = (
    (re.compile(r"^cannot allocate: (?P<items>.+)$"), "hold.cannot_allocate"),
    (re.compile(r"^stock allocated$"), "hold.stock_allocated"),
    (re.compile(r"^installed from template (?P<template>[\w-]+)$"), "rule.installed_from_template"),
)


def coded_note(key: str, **params: str) -> str:
    """A note the hub writes, stored as a catalogue key and its parameters so that each
    reader sees it in their language (``note_text``)."""
    assert key in CATALOGUE, key
    return NOTE_MARK + json.dumps({"key": key, "params": params}, ensure_ascii=False,
                                  sort_keys=True)


def bilingual_note(en: str, zh: str) -> str:
    """A note the hub writes from a message it has in both languages (a refusal kept with
    its payload): stored with both, shown in the reader's (``note_text``)."""
    return NOTE_MARK + json.dumps({"en": en, "zh": zh}, ensure_ascii=False, sort_keys=True)


def note_text(note: str | None, locale: str | None) -> str:
    """A hold note in LOCALE: a coded note rendered, an English note the hub wrote before
    notes were coded recognised, anything else (typed by a person) as it is."""
    if not note:
        return ""
    key, params = None, {}
    if note.startswith(NOTE_MARK):
        try:
            found = json.loads(note[len(NOTE_MARK):])
            if "en" in found:
                return str(found["zh" if (locale or "").startswith("zh") else "en"])
            key, params = str(found["key"]), dict(found["params"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return note
    else:
        for pattern, legacy_key in _LEGACY_NOTES:
            matched = pattern.match(note)
            if matched:
                key, params = legacy_key, matched.groupdict()
    if key not in CATALOGUE:
        return note
    en, zh = CATALOGUE[key]
    try:
        return (zh if (locale or "").startswith("zh") else en) % params
    except (KeyError, ValueError, TypeError):
        return note
