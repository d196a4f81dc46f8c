"""Fixtures giving each reliability test fresh storage: SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require_pg
from conftest_pg import create_pg_database, drop_pg_database
from reliability.support.backends import Backend


def _backend(kind: str, tmp_path: Path) -> Iterator[Backend]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if kind == "sqlite":
        yield Backend("sqlite", data_dir, None)
        return
    require_pg()
    url = create_pg_database("rel")
    try:
        yield Backend("postgresql", data_dir, url)
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from _backend(request.param, tmp_path)


@pytest.fixture
def pg_backend(tmp_path: Path) -> Iterator[Backend]:
    yield from _backend("postgresql", tmp_path)
