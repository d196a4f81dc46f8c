"""Where a reliability test keeps its data: a SQLite data dir or a throwaway PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Backend:
    name: str
    data_dir: Path  # the secret key lives here even with PostgreSQL
    database_url: str | None  # None: the SQLite file in data_dir

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'orderpilot.db'}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url is not None
