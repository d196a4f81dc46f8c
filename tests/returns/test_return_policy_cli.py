"""`orderpilot import return-policy FILE`: a new version from a good file; every bad row
named and nothing written from a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderpilot.adapters import migrations
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.cli.main import app
from orderpilot.services.returns_routing import registers
from returns.routing_support import NINGBO, YIWU

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORDERPILOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ORDERPILOT_DATABASE_URL", raising=False)
    hub = bootstrap(Settings(data_dir=tmp_path, _env_file=None))  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    for code, body in (("YIWU", YIWU), ("NINGBO", NINGBO)):
        registers.put_centre(hub.uow, hub.clock, code, body, "test")
    hub.close()
    return tmp_path


def test_import_return_policy_from_csv(data_dir: Path) -> None:
    bad = data_dir / "bad.csv"
    bad.write_text("网点代码,退货中心\nSF-0278,YIWU\nSF-0278,NINGBO\nSF-0300,HANGZHOU\n",
                   encoding="utf-8")
    refused = runner.invoke(app, ["import", "return-policy", str(bad)])
    assert refused.exit_code == 1
    assert "bad.csv row 3 outlet_code" in refused.output
    assert "bad.csv row 4 return_centre" in refused.output

    good = data_dir / "good.csv"
    good.write_text("outlet_code,return_centre\nSF-0278,YIWU\nSF-0100,NINGBO\n",
                    encoding="utf-8")
    done = runner.invoke(app, ["import", "return-policy", str(good), "--by", "limin"])
    assert done.exit_code == 0, done.output
    assert "version 1: 2 row(s)" in done.output
