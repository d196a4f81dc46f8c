"""Run the simulators in-process: uvicorn on a background thread plus the SMTP server."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller

from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.smtp import simulator as smtp
from orderpilot.simulators.external.app import create_app, simulators_of
from orderpilot.simulators.external.recorder import SimState


def free_port_pair(host: str = "127.0.0.1", attempts: int = 50) -> int:
    """A free port P whose neighbour P+1 (the SMTP port by convention) is free as well."""
    for _ in range(attempts):
        with socket.socket() as first:
            first.bind((host, 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind((host, port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError(f"no two adjacent free ports on {host}")


class SimServer:
    """`with SimServer() as sim: Settings(sim_url=sim.url)`; port 0 picks free ports."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 smtp_port: int | None = None,
                 integrations: IntegrationRegistry | None = None) -> None:
        """INTEGRATIONS: whose simulators to serve (default: the built-in and installed)."""
        self.host = host
        self.port = port or free_port_pair(host)
        self.smtp_port = smtp_port or self.port + 1
        self.integrations = integrations or IntegrationRegistry.discover()
        self.state = SimState(simulators_of(self.integrations))
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._smtp: Controller | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10) -> SimServer:
        config = uvicorn.Config(create_app(self.state, self.integrations), host=self.host,
                                port=self.port, log_level="warning", access_log=False,
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="sim-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"simulator HTTP server did not start on {self.url}")
            time.sleep(0.02)
        controller = Controller(smtp.SmtpHandler(self.state.recorders[smtp.NAME]),
                                hostname=self.host, port=self.smtp_port)
        try:
            controller.start()
        except Exception:
            self.stop()  # do not leave the HTTP half running
            raise
        self._smtp = controller
        return self

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None

    def requests(self, name: str) -> list[dict[str, Any]]:
        """What simulator NAME received, straight from its recorder."""
        return self.state.recorders[name].snapshot()

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)  # a loaded CI machine can stall a reset

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
