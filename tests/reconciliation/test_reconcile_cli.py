"""`orderpilot reconcile` on the known history: JSON with classes, counts and the rate; the
human table; a file for one side; a bad period (exit 1, the field named)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reconcile_files_support import erp_xlsx
from reconcile_history import DAY, EVENT_COUNTS, build
from typer.testing import CliRunner

from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_env(hub: Hub, database_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERPILOT_DATA_DIR", str(hub.settings.data_dir))
    if database_url:
        monkeypatch.setenv("ORDERPILOT_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("ORDERPILOT_DATABASE_URL", raising=False)


def test_the_recipe_as_json_and_as_a_table(api: Any, cli_env: None, tmp_path: Path) -> None:
    build(api)
    result = runner.invoke(app, ["reconcile", "--since", DAY, "--until", DAY, "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert (run["orders"], run["discrepant_orders"], run["per_mille"]) == (20, 7, "350.000")
    assert run["counts"] == EVENT_COUNTS
    assert run["created_by"].startswith("cli:")
    assert len(run["items"]) == 7
    table = runner.invoke(app, ["reconcile", "--since", DAY, "--until", DAY,
                                "--erp", str(erp_xlsx(tmp_path / "ar.xlsx"))],
                          env={"COLUMNS": "250"})
    assert table.exit_code == 0, table.output
    assert "20 orders, 8 with discrepancies = 400.000‰" in table.stdout
    assert "erp=ar.xlsx" in table.stdout
    assert "unknown_to_hub" in table.stdout and "重复应收" in table.stdout
    assert "file problems" in table.stdout
    listed = api.get("/api/v1/reconciliations").json()["items"]
    assert [r["per_mille"] for r in listed] == ["400.000", "350.000"]


def test_a_bad_period_exits_with_the_field(cli_env: None) -> None:
    result = runner.invoke(app, ["reconcile", "--since", "2026-11-27", "--until", DAY])
    assert result.exit_code == 1
    assert "(until)" in result.output
