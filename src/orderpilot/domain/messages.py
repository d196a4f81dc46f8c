"""The message catalogue: one English and one Chinese template per key, for the messages
raised in many places or by adapters (``OrderpilotError.coded(key, **params)``, see
domain/errors.py). Templates use ``%(name)s`` placeholders filled from the error's ``params``.
A one-off message gives its Chinese text where it is raised (``zh=``) instead.
"""

from __future__ import annotations

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
}
