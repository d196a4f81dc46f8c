"""`CI=true` turns a skip for a missing service into a failure (tests/conftest.py
``missing_service``): checked by running real tests of the suite in a child pytest with the
service pointed somewhere it is not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOWHERE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/postgres"  # port 1: nothing listens
PG_TEST = "tests/integration/test_orders_api.py::test_the_same_order_twice_is_one_order[postgres]"
PG_RELIABILITY_TEST = "tests/reliability/test_workers_pg.py"
BROWSER_TESTS = "tests/e2e/test_console_browser.py"


def run(target: str, *, ci: bool, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k != "CI"}
    child_env.update(env)
    if ci:
        child_env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-o", "addopts=-rs", target],
                          cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.parametrize("target", [PG_TEST, PG_RELIABILITY_TEST])
def test_unreachable_postgres_skips_locally_and_fails_on_ci(target: str) -> None:
    local = run(target, ci=False, ORDERPILOT_TEST_PG_ADMIN_URL=NOWHERE_PG)
    assert local.returncode == 0 and "skipped" in local.stdout, local.stdout[-2000:]
    assert "PostgreSQL not reachable" in local.stdout, local.stdout[-2000:]

    ci = run(target, ci=True, ORDERPILOT_TEST_PG_ADMIN_URL=NOWHERE_PG)
    assert ci.returncode == 1, ci.stdout[-2000:]
    assert "CI=true and a required service is missing: PostgreSQL not reachable" in ci.stdout
    assert " skipped" not in ci.stdout.splitlines()[-1], ci.stdout[-2000:]


def test_missing_chromium_skips_locally_and_fails_on_ci(tmp_path: Path) -> None:
    nowhere = str(tmp_path / "no-chromium")
    local = run(BROWSER_TESTS, ci=False, ORDERPILOT_TEST_CHROMIUM=nowhere)
    # 5: pytest's "no tests ran", since the whole module skips at import.
    assert local.returncode in (0, 5) and "skipped" in local.stdout, local.stdout[-2000:]

    ci = run(BROWSER_TESTS, ci=True, ORDERPILOT_TEST_CHROMIUM=nowhere)
    assert ci.returncode not in (0, 5), ci.stdout[-2000:]
    assert f"CI=true and a required service is missing: {nowhere} is missing" in ci.stdout


def test_ensure_chromium_fails_on_ci_when_it_cannot_install(tmp_path: Path) -> None:
    """No apt-get on the PATH: a warning locally, exit 1 with the reason under CI=true."""
    script = [sys.executable, str(ROOT / "scripts" / "ensure_chromium.py")]
    env = {"PATH": str(tmp_path), "ORDERPILOT_TEST_CHROMIUM": str(tmp_path / "no-chromium")}
    local = subprocess.run(script, env=env, capture_output=True, text=True, check=False)
    assert local.returncode == 0 and "browser tests will skip" in local.stderr, local.stderr
    ci = subprocess.run(script, env={**env, "CI": "true"}, capture_output=True, text=True,
                        check=False)
    assert ci.returncode == 1 and "CI=true needs the browser tests" in ci.stderr, ci.stderr
