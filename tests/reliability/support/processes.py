"""Running the real `orderpilot` command in child processes: serve, worker, db, token."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TESTS_DIR = Path(__file__).resolve().parents[2]
PROBE_PLUGIN = "reliability.support.probe"


def orderpilot_executable() -> str:
    beside_python = Path(sys.executable).with_name("orderpilot")
    found = str(beside_python) if beside_python.exists() else shutil.which("orderpilot")
    if found is None:
        raise RuntimeError("the `orderpilot` console script is not installed in this venv")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def orderpilot_env(data_dir: Path, database_url: str | None, probe_file: Path | None = None,
                   **settings: str) -> dict[str, str]:
    """The environment of a child: only the ORDERPILOT_* settings given here, none inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERPILOT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    env["ORDERPILOT_DATA_DIR"] = str(data_dir)
    env["ORDERPILOT_LOG_LEVEL"] = "WARNING"
    if database_url is not None:
        env["ORDERPILOT_DATABASE_URL"] = database_url
    if probe_file is not None:
        env["ORDERPILOT_HANDLER_PLUGINS"] = PROBE_PLUGIN
        env["ORDERPILOT_PROBE_FILE"] = str(probe_file)
    env.update({f"ORDERPILOT_{k.upper()}": v for k, v in settings.items()})
    return env


def workdir(env: dict[str, str]) -> Path:
    """Children run in their data dir, so no .env file of the repository is picked up."""
    path = Path(env["ORDERPILOT_DATA_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_cli(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    """Run one `orderpilot` command to completion; its stdout, or an error with its output."""
    done = subprocess.run([orderpilot_executable(), *args], env=env, cwd=workdir(env),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"orderpilot {' '.join(args)} exited {done.returncode}:\n"
                           f"{done.stdout}\n{done.stderr}")
    return done.stdout


def create_token(env: dict[str, str], role: str, name: str, *sources: str) -> str:
    options = [arg for source in sources for arg in ("--source", source)]
    return run_cli(env, "token", "create", "--role", role, "--name", name,
                   *options).strip().splitlines()[-1]


class Child:
    """One long-running `orderpilot` process, its output kept in a log file for failures."""

    def __init__(self, env: dict[str, str], args: list[str], log_path: Path) -> None:
        self.env = env
        self.args = args
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen([orderpilot_executable(), *args], env=env,
                                            cwd=workdir(env), stdout=log,
                                            stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 20) -> int | None:
        """SIGTERM, then wait; the exit code, or None for a child that had to be killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


class Server:
    """`orderpilot serve` on a fixed loopback port, which can be killed and started again."""

    def __init__(self, env: dict[str, str], logs_dir: Path) -> None:
        self.env = env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.logs_dir = logs_dir
        self.incarnations: list[Child] = []

    @property
    def current(self) -> Child:
        return self.incarnations[-1]

    def start(self) -> Child:
        log = self.logs_dir / f"serve-{len(self.incarnations)}.log"
        child = Child(self.env, ["serve", "--host", "127.0.0.1", "--port", str(self.port)], log)
        self.incarnations.append(child)
        return child

    def wait_ready(self, timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.current.process.poll() is not None:
                raise AssertionError(f"orderpilot serve exited {self.current.process.returncode}"
                                     f"\n{self.current.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"orderpilot serve not ready after {timeout}s\n"
                             f"{self.current.log_tail()}")

    def kill(self) -> int:
        child = self.current
        child.kill()
        return child.pid

    def stop(self) -> int | None:
        return self.current.terminate()
