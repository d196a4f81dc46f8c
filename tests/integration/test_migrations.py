"""The Alembic migrations: round trips, schema == tables.py, and transaction handling."""

from __future__ import annotations

import os
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from orderpilot.adapters import migrations
from orderpilot.adapters.db import Database
from orderpilot.adapters.tables import metadata

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for conftest_pg
from conftest import require_pg  # noqa: E402
from conftest_pg import create_pg_database, drop_pg_database  # noqa: E402

HEAD = "0035"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'orderpilot.db'}")
        yield database
        database.dispose()
        return
    require_pg()
    url = create_pg_database("mig")
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        drop_pg_database(url)


def _bare_default(sql: str) -> str:
    sql = sql.strip()
    while sql.startswith("(") and sql.endswith(")"):
        sql = sql[1:-1].strip()
    sql = re.sub(r"::[a-z ]+$", "", sql)  # PostgreSQL's  ''::character varying
    return sql[1:-1] if len(sql) >= 2 and sql[0] == sql[-1] == "'" else sql


def _same_default(_ctx, _inspected_col, _metadata_col, inspected: str | None, _metadata_default,
                  rendered: str | None) -> bool | None:
    """Alembic reports SQLite's DEFAULT '' as changed; settle only the cases that are equal."""
    if inspected is not None and rendered is not None:
        if _bare_default(inspected) == _bare_default(rendered):
            return False
    return None  # let Alembic decide


def schema_diff(db: Database) -> list:
    """What autogenerate would write to make the database match tables.py: must be nothing."""
    with db.read() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": _same_default})
        return compare_metadata(context, metadata)


def table_names(db: Database) -> set[str]:
    with db.read() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_head_is_the_shipped_initial_revision() -> None:
    assert migrations.head() == HEAD
    assert (migrations.MIGRATIONS_DIR / "script.py.mako").is_file()


def test_upgrade_downgrade_upgrade_round_trip(db: Database) -> None:
    assert migrations.current(db) is None

    migrations.upgrade(db)
    assert migrations.current(db) == HEAD
    assert schema_diff(db) == []
    assert table_names(db) == set(metadata.tables) | {"alembic_version"}

    migrations.downgrade(db, "base")
    assert migrations.current(db) is None
    assert table_names(db) == {"alembic_version"}

    migrations.upgrade(db, "head")
    assert migrations.current(db) == HEAD
    assert schema_diff(db) == []

    migrations.upgrade(db)  # already at head: a no-op
    assert migrations.current(db) == HEAD


def test_constraint_and_index_names_match_tables_py(db: Database) -> None:
    migrations.upgrade(db)
    with db.read() as conn:
        inspector = sa.inspect(conn)
        for table in metadata.sorted_tables:
            assert {u["name"] for u in inspector.get_unique_constraints(table.name)} == {
                c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
            assert {i["name"] for i in inspector.get_indexes(table.name)
                    if not i.get("duplicates_constraint")} == {i.name for i in table.indexes}
            assert {f["name"] for f in inspector.get_foreign_keys(table.name)} == {
                f.name for f in table.foreign_key_constraints}


def test_the_migrated_schema_works_and_keeps_its_guarantees(db: Database) -> None:
    migrations.upgrade(db)
    with db.write() as conn:
        _insert_order_with_line(conn, "o1")
    with pytest.raises(sa.exc.IntegrityError), db.write() as conn:
        conn.exec_driver_sql(_LINE_SQL.format(order_id="missing"))
    if db.is_sqlite:  # the pooled connections got foreign keys and WAL back after migrating
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_failing_migration_rolls_back_entirely(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations.upgrade(db)
    _extra_revision(tmp_path, monkeypatch, """
        op.add_column("quarantine", sa.Column("extra", sa.String(10)))
        op.execute("INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents)"
                   " VALUES ('no-such-order', 1, 'sku', 1, 100)")
    """)
    # SQLite migrates with foreign keys off, so the check before COMMIT is what catches it.
    expected = RuntimeError if db.is_sqlite else sa.exc.IntegrityError
    with pytest.raises(expected, match="dangling foreign keys" if db.is_sqlite else None):
        migrations.upgrade(db)
    assert migrations.current(db) == HEAD
    assert schema_diff(db) == []  # the added column went with the rollback
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM order_lines").scalar() == 0


def test_batch_migration_of_a_referenced_table_keeps_data_on_sqlite(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(f"sqlite:///{tmp_path / 'batch.db'}")
    try:
        migrations.upgrade(db)
        with db.write() as conn:
            _insert_order_with_line(conn, "o1")
        # Recreating "orders" drops it while order_lines rows point at it: only works because
        # the migration runs with foreign keys off (and checked before commit).
        _extra_revision(tmp_path, monkeypatch, """
            with op.batch_alter_table("orders", recreate="always") as batch:
                batch.add_column(sa.Column("extra", sa.String(10)))
        """, downgrade="""
            with op.batch_alter_table("orders", recreate="always") as batch:
                batch.drop_column("extra")
        """)
        migrations.upgrade(db)
        assert migrations.current(db) == "t0002"
        migrations.downgrade(db, HEAD)
        assert migrations.current(db) == HEAD
        assert schema_diff(db) == []
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM orders").scalar() == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM order_lines").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_env_builds_its_own_engine_from_sqlalchemy_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = migrations.alembic_config()
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    db = Database(url)
    try:
        assert migrations.current(db) == HEAD
        assert schema_diff(db) == []
    finally:
        db.dispose()


_ORDER_SQL = (
    "INSERT INTO orders (id, channel, shop_id, external_id, placed_at, currency, customer_name,"
    " customer_phone, address_country, address_line1, total_cents, tags, status,"
    " status_changed_at, created_at, updated_at) VALUES ('{order_id}', 'web', 's1', '{order_id}',"
    " '2025-01-01 00:00:00+00:00', 'CNY', 'Li', '1', 'CN', 'x', 100, '[]', 'new',"
    " '2025-01-01 00:00:00+00:00', '2025-01-01 00:00:00+00:00', '2025-01-01 00:00:00+00:00')")
_LINE_SQL = ("INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents)"
             " VALUES ('{order_id}', 1, 'sku', 1, 100)")


def _insert_order_with_line(conn: sa.Connection, order_id: str) -> None:
    conn.exec_driver_sql(_ORDER_SQL.format(order_id=order_id))
    conn.exec_driver_sql(_LINE_SQL.format(order_id=order_id))


def _extra_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upgrade: str,
                    downgrade: str = "pass") -> None:
    """Add a test-only revision t0002 on top of the shipped ones."""
    extra = tmp_path / "extra_versions"
    extra.mkdir()
    (extra / "t0002_test.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = 't0002'\ndown_revision = '{HEAD}'\nbranch_labels = None\ndepends_on = None\n\n"
        f"def upgrade():\n{textwrap.indent(textwrap.dedent(upgrade).strip(), '    ')}\n\n"
        f"def downgrade():\n{textwrap.indent(textwrap.dedent(downgrade).strip(), '    ')}\n")
    original = migrations.alembic_config

    def with_extra(connection=None):
        config = original(connection)
        config.set_main_option(
            "version_locations", os.pathsep.join([str(migrations.MIGRATIONS_DIR / "versions"),
                                                  str(extra)]))
        return config

    monkeypatch.setattr(migrations, "alembic_config", with_extra)
