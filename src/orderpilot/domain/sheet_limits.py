"""How much of an uploaded sheet a reader accepts (the bounded reader, adapters/sheet_reading.py,
enforces it; each service that reads sheets chooses its own)."""

from __future__ import annotations

from dataclasses import dataclass

# Excel's own limit on the characters in a cell.
EXCEL_CELL_LIMIT = 32_767
MIB = 1024 * 1024


@dataclass(frozen=True)
class SheetLimits:
    """What one reader accepts. Rows count data rows (the header is row 1); blank rows are
    skipped but may not push data past ``last_row``."""

    max_rows: int = 5000
    max_columns: int = 100
    max_cell: int = EXCEL_CELL_LIMIT
    max_file_bytes: int = 64 * MIB
    max_unzipped_bytes: int = 128 * MIB
    max_zip_parts: int = 1000
    max_zip_ratio: int = 200  # a plain sheet packs 5-30 times; bombs pack thousands of times

    @property
    def last_row(self) -> int:
        """The last row looked at: the header, the data rows and as many blank rows again."""
        return 2 * self.max_rows + 1
