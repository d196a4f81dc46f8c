"""The README's shell recipes, run as written.

Each ```bash block of README.md is read from the file itself, so a recipe edited in the README
is the recipe tested. They run in a scratch directory whose ``.venv`` links to the virtualenv
running the tests, so ``.venv/bin/orderpilot`` means what it means in a checkout.

What is changed, and why (nothing else is):
* "API in one minute" runs against the demo, as its text says: ``orderpilot demo`` (what
  ``make demo`` runs) is started in the scratch checkout with no ORDERPILOT_* setting, so its
  ``data/demo`` is the checkout's, then the block runs there in a second shell. It talks to
  ``127.0.0.1:8000``; when that port is taken (a demo running on this machine) the test's demo
  listens elsewhere and the block's port number is replaced.
* "PostgreSQL and workers" names a placeholder server (``db-host``): it is replaced by a scratch
  database on the test server; `serve` gets its port from ``ORDERPILOT_PORT`` (a documented
  setting) and the two long-running commands are started as background processes.
* "Two commands": ``make demo PORT=...`` is run (with the data directory in a scratch place);
  ``make test`` is what CI itself runs, so it is checked by existing, not run inside itself.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest_pg import create_pg_database, drop_pg_database, pg_available
from reliability.support.processes import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def bash_blocks() -> dict[str, str]:
    """Each ```bash block of the README under the heading it sits in."""
    blocks: dict[str, str] = {}
    heading = ""
    inside: list[str] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if inside is not None:
            if line.startswith("```"):
                blocks[heading] = "\n".join(inside) + "\n"
                inside = None
            else:
                inside.append(line)
        elif line.startswith("## "):
            heading = line[3:].strip()
        elif line.strip() == "```bash":
            inside = []
    return blocks


def test_the_readme_has_the_recipes_this_test_runs() -> None:
    assert set(bash_blocks()) == {"Two commands", "API in one minute",
                                  "PostgreSQL and workers"}, \
        "a README recipe was added or renamed: run it in this test"


def port_is_free(port: int) -> bool:
    import socket
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A scratch directory where `.venv/bin/orderpilot` is this test run's command."""
    place = tmp_path / "checkout"
    place.mkdir()
    (place / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    assert (place / ".venv" / "bin" / "orderpilot").exists(), \
        "the orderpilot console script is not installed in the test virtualenv"
    return place


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERPILOT_")}
    env.update(settings)
    return env


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path,
                 within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no /healthz at {url} within {within}s:\n{log.read_text()[-4000:]}")


class Background:
    """Long-running commands started by a recipe, stopped (whole process group) at the end."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, command: str, cwd: Path, env: dict[str, str],
              log: Path) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            process = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def background() -> Iterator[Background]:
    started = Background()
    yield started
    started.stop()


def test_api_in_one_minute(checkout: Path, background: Background, tmp_path: Path) -> None:
    recipe = bash_blocks()["API in one minute"]
    assert "With `make demo` running" in README.read_text(encoding="utf-8")
    port = 8000 if port_is_free(8000) else free_port()
    if port != 8000:
        recipe = recipe.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = clean_env()
    log = tmp_path / "demo.log"
    demo = background.start(f".venv/bin/orderpilot demo --port {port} --rate 0.5", checkout,
                            {**env, "ORDERPILOT_LOG_LEVEL": "WARNING"}, log)
    wait_healthy(f"http://127.0.0.1:{port}", demo, log, within=120)

    done = subprocess.run(["bash", "-euo", "pipefail", "-c", recipe], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    order = json.loads(done.stdout)
    assert order["external_id"] == "230101ABC" and order["channel"] == "shopee", order

    again = subprocess.run(["bash", "-euo", "pipefail", "-c", recipe], cwd=checkout, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["id"] == order["id"], "the same order twice is one order"
    assert not (checkout / "data" / "orderpilot.db").exists(), \
        "the recipe made its token beside the demo's data instead of in it"


def test_postgresql_and_workers(checkout: Path, background: Background, tmp_path: Path) -> None:
    if not pg_available():
        from conftest import missing_service
        missing_service("PostgreSQL is not reachable at 127.0.0.1:5432")
    recipe = bash_blocks()["PostgreSQL and workers"]
    lines = [line.split("  #")[0].strip() for line in recipe.splitlines() if line.strip()]
    export, upgrade, serve_line, worker_line = lines
    placeholder = "postgresql+psycopg://orderpilot@db-host:5432/orderpilot"
    assert placeholder in export and serve_line.endswith("serve --host 0.0.0.0") \
        and worker_line.endswith("worker --threads 4"), "the recipe changed: update this test"
    url = create_pg_database("readme")
    try:
        export = export.replace(placeholder, url)
        port = free_port()
        env = clean_env(ORDERPILOT_DATA_DIR=str(tmp_path / "data"),
                        ORDERPILOT_LOG_LEVEL="WARNING", ORDERPILOT_PORT=str(port))
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", f"{export}\n{upgrade}\n"],
                              cwd=checkout, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

        serve = background.start(f"{export}\n{serve_line}", checkout, env,
                                 tmp_path / "serve.log")
        background.start(f"{export}\n{worker_line}", checkout, env,
                         tmp_path / "worker.log")
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, serve, tmp_path / "serve.log")

        token = subprocess.run(
            ["bash", "-euo", "pipefail", "-c",
             f"{export}\n.venv/bin/orderpilot token create --role ops --name readme | tail -1"],
            cwd=checkout, env=env, capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        body = json.loads(re.search(r"-d '(\{.*?\})'", bash_blocks()["API in one minute"],
                                    re.S).group(1))  # type: ignore[union-attr]
        placed = httpx.post(f"{base}/api/v1/orders", json=body, headers=headers, timeout=10)
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        # serve runs no dispatcher here (ORDERPILOT_EMBEDDED_DISPATCHER=false): only the worker
        # can deliver the order's events, so an empty backlog shows the worker at work.
        deadline = time.monotonic() + 60
        while (pending := _pending(url)) > 0:
            assert time.monotonic() < deadline, \
                f"the worker left {pending} events undelivered:\n" \
                f"{(tmp_path / 'worker.log').read_text()[-4000:]}"
            time.sleep(0.3)
        timeline = httpx.get(f"{base}/api/v1/orders/{order_id}/events", headers=headers,
                             timeout=10)
        assert timeline.status_code == 200 and timeline.json(), timeline.text
    finally:
        background.stop()
        drop_pg_database(url)


def _pending(url: str) -> int:
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar_one())
    finally:
        engine.dispose()


def test_make_demo_on_another_port(background: Background, tmp_path: Path) -> None:
    recipe = bash_blocks()["Two commands"]
    assert "make demo" in recipe and "make test" in recipe
    readme = README.read_text(encoding="utf-8")
    assert "`make demo PORT=8080` picks another port" in readme
    port = free_port()
    env = clean_env(ORDERPILOT_DATA_DIR=str(tmp_path / "demo"), ORDERPILOT_LOG_LEVEL="WARNING",
                    VENV=str(Path(sys.prefix)))
    log = tmp_path / "demo.log"
    demo = background.start(f"make demo PORT={port}", ROOT, env, log)
    wait_healthy(f"http://127.0.0.1:{port}", demo, log, within=120)
    logins = (tmp_path / "demo" / "demo-credentials.txt").read_text(encoding="utf-8")
    assert "admin" in logins and "ops" in logins
    import sqlite3
    deadline = time.monotonic() + 90
    while True:  # the simulated company streams orders in
        with sqlite3.connect(tmp_path / "demo" / "orderpilot.db", timeout=10) as db:
            orders = db.execute("SELECT count(*) FROM orders").fetchone()[0]
        if orders > 0:
            break
        assert time.monotonic() < deadline, f"no order streamed in:\n{log.read_text()[-4000:]}"
        time.sleep(1)
