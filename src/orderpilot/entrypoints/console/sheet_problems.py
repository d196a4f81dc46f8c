"""Why an uploaded sheet was refused, in the console's language.

The texts are those of :data:`orderpilot.adapters.sheet_reading.MESSAGES` (a test keeps them
equal), marked here for translation; the Chinese ones leave out the parser's English detail.
"""

from __future__ import annotations

from starlette.requests import Request

from orderpilot.adapters.sheet_reading import UnreadableSheet
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import Console

MESSAGES = {
    "old_xls": N_("%(file)s: the old .xls format is not supported; save it as .xlsx in Excel"),
    "wrong_type": N_("%(file)s: use an .xlsx or a .csv file"),
    "too_large": N_("%(file)s is larger than %(limit)s MB"),
    "not_xlsx": N_("%(file)s is not an Excel .xlsx file (it is not a zip archive); "
                   "save it as .xlsx or .csv"),
    "zip_parts": N_("%(file)s holds more than %(limit)s parts; it is not a sheet we read"),
    "zip_size": N_("%(file)s unpacks to more than %(limit)s MB; split it into smaller files"),
    "zip_ratio": N_("%(file)s: the part %(part)s is compressed more than %(limit)s times; "
                    "it is not a sheet we read"),
    "broken": N_("%(file)s cannot be read (%(detail)s); open it in Excel and save it again"),
    "no_sheet": N_("%(file)s has no worksheet"),
    "declared_range": N_("%(file)s declares the range %(range)s; at most %(rows)s rows and "
                         "%(columns)s columns are read"),
    "too_many_rows": N_("%(file)s has more than %(limit)s rows after the header; split it"),
    "row_too_far": N_("%(file)s: row %(row)s is past row %(limit)s, the last one read; delete "
                      "the blank rows above it or split the file"),
    "too_many_columns": N_("%(file)s: row %(row)s has a value in column %(column)s; at most "
                           "%(limit)s columns are read"),
    "cell_too_long": N_("%(file)s: row %(row)s, column %(column)s holds more than %(limit)s "
                        "characters"),
    "csv_cell_too_long": N_("%(file)s: row %(row)s holds a cell of more than %(limit)s "
                            "characters"),
    "too_many_cells": N_("%(file)s holds more than %(limit)s cells, blank ones included; "
                         "delete the unused rows and columns or split it"),
    "bad_csv": N_("%(file)s: row %(row)s is not valid CSV (%(detail)s)"),
    "empty": N_("%(file)s is empty; the first row must be the header"),
}


def explain(console: Console, request: Request, error: UnreadableSheet) -> str:
    template = MESSAGES.get(error.code)
    if template is None:
        return str(error)
    return console.translate(request, template) % error.params
