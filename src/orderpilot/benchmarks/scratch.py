"""Scratch databases, and the hub's processes (serve, workers) and their /metrics counters for
benchmarks, so nothing real is touched."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url


@dataclass
class Scratch:
    data_dir: Path
    database_url: str | None  # None: the embedded SQLite file in data_dir

    @property
    def label(self) -> str:
        return "sqlite" if self.database_url is None else "postgresql"

    def env(self) -> dict[str, str]:
        env = {**os.environ, "ORDERPILOT_DATA_DIR": str(self.data_dir),
               "ORDERPILOT_LOG_LEVEL": "WARNING"}
        env.pop("ORDERPILOT_DATABASE_URL", None)
        if self.database_url:
            env["ORDERPILOT_DATABASE_URL"] = self.database_url
        return env


@contextmanager
def scratch_database(server_url: str | None) -> Iterator[Scratch]:
    """A fresh SQLite file, or a throwaway database on the PostgreSQL server of ``server_url``
    (created and dropped here; the database named in the URL is only used to connect)."""
    with tempfile.TemporaryDirectory(prefix="orderpilot-bench-") as tmp:
        if server_url is None or server_url.startswith("sqlite"):
            yield Scratch(Path(tmp), None)
            return
        name = f"orderpilot_bench_{secrets.token_hex(4)}"
        admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT",
                                 poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
            yield Scratch(Path(tmp), url)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


# The load generators' idle connections close before uvicorn's keep-alive (5 s) closes them:
# with equal timeouts a request sent as the server closes its end fails with ReadError.
KEEPALIVE_S = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def child_process(args: list[str], port: int, env: dict[str, str] | None = None,
                  what: str = "the hub", module: str = "orderpilot") -> Iterator[str]:
    """`python -m MODULE ARGS` (`orderpilot ARGS`) in a child process; yields its base URL
    once /healthz answers."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy 2-core machine takes its time
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()  # reading the stderr of a live process would wait for ever
                proc.wait()
                raise RuntimeError(f"{what} did not start: "
                                   + (proc.stderr.read().decode()[-2000:] if proc.stderr else ""))
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def hub_process(scratch: Scratch, port: int, *, beside_workers: bool = False) -> Any:
    """`orderpilot serve` on the scratch database; yields its base URL once healthy.
    ``beside_workers``: `orderpilot worker` processes deliver the events, so `serve` only
    answers the API, as deploy/ runs it (``ORDERPILOT_EMBEDDED_DISPATCHER=false``)."""
    env = scratch.env()
    if beside_workers:
        env["ORDERPILOT_EMBEDDED_DISPATCHER"] = "false"
    return child_process(["serve", "--port", str(port)], port, env)


def open_hub(scratch: Scratch) -> Any:
    """A hub on the scratch database, migrated (imported late: benchmarks start light)."""
    from orderpilot.adapters import migrations
    from orderpilot.bootstrap import bootstrap
    from orderpilot.config import Settings

    hub = bootstrap(Settings(data_dir=scratch.data_dir, database_url=scratch.database_url,
                             log_level="WARNING", _env_file=None))
    migrations.upgrade(hub.db)
    return hub


@contextmanager
def workers(scratch: Scratch, count: int,
            metrics_ports: list[int] | None = None) -> Iterator[None]:
    """`orderpilot worker` processes beside the hub (PostgreSQL scale-out); with
    ``metrics_ports``, worker i serves its Prometheus metrics on port i."""
    ports = metrics_ports or []
    procs = [subprocess.Popen([sys.executable, "-m", "orderpilot", "worker", "--threads", "2",
                               *(["--metrics-port", str(ports[i])] if i < len(ports) else [])],
                              env=scratch.env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


STATEMENTS = "orderpilot_sql_statements_total"
Counters = tuple[dict[str, float], list[dict[str, float]]]


def read_counters(base: str, token: str, worker_ports: list[int]) -> Counters:
    """serve's counters and each worker's (from its --metrics-port)."""
    return (scrape(f"{base}/metrics", {"Authorization": f"Bearer {token}"}),
            [scrape(f"http://127.0.0.1:{port}/metrics", {}) for port in worker_ports])


def statements_per_order(before: Counters, after: Counters, orders: int) -> dict[str, float]:
    """SQL statements `serve` and the workers (together) sent per order between the two."""
    def sent(b: dict[str, float], a: dict[str, float]) -> float:
        return a.get(STATEMENTS, 0.0) - b.get(STATEMENTS, 0.0)

    by_workers = sum(sent(b, a) for b, a in zip(before[1], after[1], strict=True))
    return {"serve": round(sent(before[0], after[0]) / orders, 2),
            "workers": round(by_workers / orders, 2)}


def scrape(url: str, headers: dict[str, str]) -> dict[str, float]:
    """The unlabelled samples of a /metrics page, by name. A worker's metrics server may
    still be starting: asked again."""
    for attempt in range(50):
        try:
            text = httpx.get(url, headers=headers, timeout=30).raise_for_status().text
            break
        except httpx.TransportError:
            if attempt == 49:
                raise
            time.sleep(0.2)
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name and not name.startswith("#") and "{" not in name:
            values[name] = float(value)
    return values
