"""The `orderpilot` command on the embedded default: tokens, users, schema, dispatch."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.cli.main import app
from orderpilot.services.accounts import authenticate, principal_for_token

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORDERPILOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ORDERPILOT_DATABASE_URL", raising=False)
    return tmp_path


def test_token_create_prints_a_working_token_last(data_dir: Path) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "warehouse", "--name", "wms-1"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    hub = bootstrap(Settings(data_dir=data_dir))
    with hub.db.read() as conn:
        principal = principal_for_token(AccountRepository(conn), token)
    hub.close()
    assert principal is not None and principal.role == "warehouse"
    listed = runner.invoke(app, ["token", "list"])
    assert "wms-1" in listed.stdout and token not in listed.stdout


def test_token_with_unknown_role_is_refused(data_dir: Path) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "boss", "--name", "x"])
    assert result.exit_code == 1
    assert "unknown role" in result.output


def test_user_create_hashes_the_password(data_dir: Path) -> None:
    result = runner.invoke(app, ["user", "create", "--username", "limin", "--role", "ops",
                                 "--password", "correct horse"])
    assert result.exit_code == 0, result.output
    hub = bootstrap(Settings(data_dir=data_dir))
    with hub.db.write() as conn:
        repo = AccountRepository(conn)
        assert repo.user_by_name("limin").password_hash.startswith("$argon2")
        assert authenticate(repo, "limin", "correct horse") is not None
        assert authenticate(repo, "limin", "wrong") is None
    hub.close()
    again = runner.invoke(app, ["user", "create", "--username", "limin", "--role", "ops",
                                "--password", "another one"])
    assert again.exit_code == 1 and "exists" in again.output


def test_db_upgrade_and_current(data_dir: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    current = runner.invoke(app, ["db", "current"])
    assert current.exit_code == 0 and current.stdout.strip() != "empty"


def test_dispatch_status_lists_backlog(data_dir: Path) -> None:
    result = runner.invoke(app, ["dispatch", "status"])
    assert result.exit_code == 0 and "outbox_pending" in result.output


def test_token_create_binds_the_sources_it_may_report_as(data_dir: Path) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "warehouse", "--name", "wms-prod",
                                 "--source", "wms", "--source", "SF"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    hub = bootstrap(Settings(data_dir=data_dir))
    with hub.db.read() as conn:
        principal = principal_for_token(AccountRepository(conn), token)
    hub.close()
    assert principal is not None and principal.scopes == ("source:wms", "source:sf")
    listed = runner.invoke(app, ["token", "list"]).stdout
    assert "source:wms" in listed and "source:sf" in listed
    hub_source = runner.invoke(app, ["token", "create", "--role", "ops", "--name", "x",
                                     "--source", "hub"])
    assert hub_source.exit_code == 1 and "hub" in hub_source.output


def test_user_password_disable_and_enable(data_dir: Path) -> None:
    assert runner.invoke(app, ["user", "create", "--username", "limin", "--role", "ops",
                               "--password", "correct horse"]).exit_code == 0
    changed = runner.invoke(app, ["user", "password", "limin", "--password", "battery staple"])
    assert changed.exit_code == 0, changed.output
    assert runner.invoke(app, ["user", "disable", "limin"]).exit_code == 0
    hub = bootstrap(Settings(data_dir=data_dir))
    with hub.db.write() as conn:
        assert authenticate(AccountRepository(conn), "limin", "battery staple") is None
    assert runner.invoke(app, ["user", "enable", "limin"]).exit_code == 0
    with hub.db.write() as conn:
        assert authenticate(AccountRepository(conn), "limin", "battery staple") is not None
        assert authenticate(AccountRepository(conn), "limin", "correct horse") is None
    hub.close()
    short = runner.invoke(app, ["user", "password", "limin", "--password", "short"])
    assert short.exit_code == 1 and "8 characters" in short.output
    assert runner.invoke(app, ["user", "disable", "nobody"]).exit_code == 1
