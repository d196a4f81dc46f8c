"""The CLI acts as the operator at the terminal (getpass.getuser(), role admin, via cli) for
commands that change things, and as nobody in commands that run workers."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from typer.testing import CliRunner

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.cli.main import NOT_ACTING, app
from orderpilot.services import audit_trail

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORDERPILOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ORDERPILOT_DATABASE_URL", raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "zhou.sre")
    return tmp_path


def _entries(data_dir: Path) -> list[tuple[str, str, str, str, str]]:
    hub = bootstrap(Settings(data_dir=data_dir, _env_file=None))  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    try:
        with hub.db.read() as conn:
            return [(r.action, r.actor, r.role, r.actor_kind, r.via) for r in conn.execute(
                sa.select(t.audit_log).order_by(t.audit_log.c.seq))]
    finally:
        hub.close()


def test_user_and_token_commands_are_recorded_as_the_operator(data_dir: Path) -> None:
    for args in (["user", "create", "--username", "limin", "--role", "ops", "--password",
                  "correct horse"],
                 ["user", "create", "--username", "boss", "--role", "admin", "--password",
                  "correct horse"],
                 ["user", "role", "limin", "finance"], ["user", "reset", "limin"],
                 ["user", "disable", "limin"], ["token", "create", "--role", "ops",
                                                "--name", "shop"]):
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
    refused = runner.invoke(app, ["user", "role", "boss", "ops"])
    assert refused.exit_code == 1 and "last active administrator" in refused.output
    assert _entries(data_dir) == [
        (action, "zhou.sre", "admin", "cli", "cli") for action in (
            "user.create", "user.create", "user.role_change", "user.password_reset",
            "user.disable", "token.create")]
    assert audit_trail.current_actor() is None  # nothing left behind in this process


def test_worker_commands_do_not_act_as_the_operator() -> None:
    assert {"serve", "worker", "demo", "sim", "simulate", "bench"} <= NOT_ACTING


def test_the_trail_is_exported_to_excel_from_the_cli(data_dir: Path) -> None:
    runner.invoke(app, ["user", "create", "--username", "limin", "--role", "ops",
                        "--password", "correct horse"])
    runner.invoke(app, ["user", "role", "limin", "finance"])
    out = data_dir / "audit.xlsx"
    done = runner.invoke(app, ["audit-log", "export", "--since", "2020-01-01",
                               "--action", "user.role_change", "--out", str(out)])
    assert done.exit_code == 0, done.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert [(r[2], r[5]) for r in rows[1:]] == [("zhou.sre", "user.role_change")]
    refused = runner.invoke(app, ["audit-log", "export", "--since", "soon", "--out", str(out)])
    assert refused.exit_code == 1 and "since" in refused.output
