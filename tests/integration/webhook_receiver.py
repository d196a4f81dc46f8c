"""A webhook receiver for tests: a real loopback HTTP server that keeps every request (headers
and raw body) and answers with the statuses it is told, one per request (then 200)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []  # statuses for the next requests; then 200
        self.delay_s = 0.0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer._lock:
                    outer.received.append(Received(dict(self.headers.items()), body))
                    status = outer.answers.pop(0) if outer.answers else 200
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                answer = b'{"ok": true}' if status < 300 else b"receiver is down"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the sender gave up waiting
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/orderpilot"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self) -> list[tuple[str, str]]:
        """(event type, order id) of every request, in arrival order."""
        import json
        return [(r.headers["X-Orderpilot-Event"], json.loads(r.body)["event"]["order_id"])
                for r in self.received]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
