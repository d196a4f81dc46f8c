"""The `orderpilot` command on the embedded default: tokens, users, schema, dispatch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.entrypoints.cli.main import app
from orderpilot.services import accounts
from orderpilot.services.accounts import authenticate, principal_for_token
from orderpilot.services.ordering import place_order

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
    assert result.exit_code == 0, result.output
    assert "events waiting for delivery" in result.stdout and "no dead letters" in result.stdout
    assert "{" not in result.stdout  # a table, not a Python dict


def test_dispatch_status_shows_dead_letters_as_a_table_or_json(data_dir: Path) -> None:
    hub = bootstrap(Settings(data_dir=data_dir, dispatch_max_attempts=1,
                             embedded_dispatcher=False))
    migrations.upgrade(hub.db)

    def crm_down(event: object, uow: object, clock: object) -> None:
        raise ConnectionError("CRM at crm.internal:8443 did not answer")

    hub.registry.on("order.placed", "crm.sync_level", crm_down)
    order_id = place_order(PlaceOrder(
        channel="own_store", shop_id="main", external_id="CLI-1", placed_at=hub.clock(),
        currency="CNY", customer_name="张三", customer_phone="13800000000",
        address={"country": "CN", "province": "浙江省", "city": "宁波市", "district": "",
                 "line1": "港城大道1号", "postal_code": "315800"},
        lines=(LineInput("DIAPER-L", 1, "129.00"),), total="129.00"),
        hub.uow, hub.clock).order_id
    dispatcher = hub.dispatcher("test")
    while dispatcher.run_once():
        pass
    hub.close()

    table = runner.invoke(app, ["dispatch", "status"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Dead letters" in table.stdout and "did not answer" in table.stdout
    assert "order.placed" in table.stdout

    as_json = runner.invoke(app, ["dispatch", "status", "--json"])
    assert as_json.exit_code == 0, as_json.output
    status = json.loads(as_json.stdout)
    assert status["backlog"]["outbox_dead"] == 1
    [dead] = status["dead"]
    assert dead["order_id"] == order_id and dead["event_type"] == "order.placed"
    assert "did not answer" in dead["last_error"]


def test_the_global_data_dir_option_picks_the_database(data_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "demo"
    made = runner.invoke(app, ["--data-dir", str(other), "token", "create", "--role", "ops",
                               "--name", "my-shop"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert (other / "orderpilot.db").exists()
    assert str(other / "orderpilot.db") in made.output.replace("\n", "")  # it says where
    for where, known in ((other, True), (data_dir, False)):
        hub = bootstrap(Settings(data_dir=where))
        migrations.upgrade(hub.db)
        with hub.db.read() as conn:
            found = principal_for_token(AccountRepository(conn), token)
        hub.close()
        assert (found is not None) is known, where
    listed = runner.invoke(app, ["--data-dir", str(other), "token", "list"])
    assert "my-shop" in listed.stdout
    assert "my-shop" not in runner.invoke(app, ["token", "list"]).stdout


@pytest.mark.parametrize("command", [["demo"], ["serve"], ["user"], ["import"],
                                     ["import", "orders"], ["rules"], ["channels"], ["bench"],
                                     ["dispatch"], ["token"], ["simulate"], []])
def test_the_main_commands_show_examples_in_their_help(command: list[str]) -> None:
    shown = runner.invoke(app, [*command, "--help"], terminal_width=120)
    assert shown.exit_code == 0, shown.output
    examples = shown.stdout.split("Examples:", 1)
    assert len(examples) == 2, f"no examples in orderpilot {' '.join(command)} --help"
    lines = [line.strip(" │") for line in examples[1].splitlines()]
    assert any(line.startswith(f"orderpilot {' '.join(command)}".strip())
               for line in lines), shown.stdout


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


def make_user(username: str, role: str = "ops") -> None:
    made = runner.invoke(app, ["user", "create", "--username", username, "--role", role,
                               "--password", "correct horse"])
    assert made.exit_code == 0, made.output


def test_user_list_shows_role_state_and_sessions_never_a_password(data_dir: Path) -> None:
    make_user("limin")
    make_user("boss", "admin")
    assert runner.invoke(app, ["user", "disable", "limin"]).exit_code == 0
    table = runner.invoke(app, ["user", "list"], env={"COLUMNS": "160"})
    assert table.exit_code == 0, table.output
    rows = {line.split()[1]: line for line in table.stdout.splitlines()
            if line.startswith("│") and "username" not in line}
    assert set(rows) == {"boss", "limin"}
    assert "disabled" in rows["limin"] and "active" in rows["boss"] and "admin" in rows["boss"]
    assert "argon2" not in table.stdout

    listed = json.loads(runner.invoke(app, ["user", "list", "--json"]).stdout)
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [
        ("boss", "admin", False), ("limin", "ops", True)]
    assert all(set(u) == {"username", "display_name", "role", "disabled",
                          "password_temporary", "live_sessions", "created_at"} for u in listed)


def test_user_reset_prints_a_one_time_password_the_user_must_replace(data_dir: Path) -> None:
    make_user("limin")
    hub = bootstrap(Settings(data_dir=data_dir))
    with hub.db.write() as conn:
        repo = AccountRepository(conn)
        key = accounts.start_session(repo, repo.user_by_name("limin").id, hub.clock, 8)
    reset = runner.invoke(app, ["user", "reset", "limin"])
    assert reset.exit_code == 0, reset.output
    password = reset.stdout.strip().splitlines()[-1]
    assert len(password) >= 12 and "1 session(s) signed out" in reset.output
    with hub.db.write() as conn:
        repo = AccountRepository(conn)
        assert accounts.principal_for_session(repo, key, hub.clock) is None
        assert authenticate(repo, "limin", "correct horse") is None
        principal = authenticate(repo, "limin", password)
        assert principal is not None and principal.must_change_password
    listed = json.loads(runner.invoke(app, ["user", "list", "--json"]).stdout)
    assert listed[0]["password_temporary"] is True

    assert runner.invoke(app, ["user", "password", "limin", "--password",
                               "my own choice"]).exit_code == 0
    with hub.db.write() as conn:
        principal = authenticate(AccountRepository(conn), "limin", "my own choice")
        assert principal is not None and not principal.must_change_password
    hub.close()


def test_user_reset_reads_the_password_from_stdin(data_dir: Path) -> None:
    make_user("limin")
    reset = runner.invoke(app, ["user", "reset", "limin", "--password-stdin"],
                          input="typed by the admin\n")
    assert reset.exit_code == 0, reset.output
    assert "typed by the admin" not in reset.output
    hub = bootstrap(Settings(data_dir=data_dir))
    with hub.db.write() as conn:
        principal = authenticate(AccountRepository(conn), "limin", "typed by the admin")
    hub.close()
    assert principal is not None and principal.must_change_password
    empty = runner.invoke(app, ["user", "reset", "limin", "--password-stdin"], input="")
    assert empty.exit_code == 1 and "standard input" in empty.output
    short = runner.invoke(app, ["user", "reset", "limin", "--password-stdin"], input="abc\n")
    assert short.exit_code == 1 and "8 characters" in short.output
    assert runner.invoke(app, ["user", "reset", "nobody"]).exit_code == 1


def test_the_last_active_admin_cannot_be_disabled(data_dir: Path) -> None:
    make_user("first", "admin")
    make_user("limin")
    refused = runner.invoke(app, ["user", "disable", "first"])
    assert refused.exit_code == 1 and "last active administrator" in refused.output
    make_user("second", "admin")
    assert runner.invoke(app, ["user", "disable", "first"]).exit_code == 0
    again = runner.invoke(app, ["user", "disable", "second"])
    assert again.exit_code == 1 and "last active administrator" in again.output
    assert runner.invoke(app, ["user", "disable", "limin"]).exit_code == 0  # not an admin
    assert runner.invoke(app, ["user", "enable", "first"]).exit_code == 0
    assert runner.invoke(app, ["user", "disable", "second"]).exit_code == 0
