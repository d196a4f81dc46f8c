"""The request body limit: 413 in the JSON error format, decided while the body streams in."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token

LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
CHUNK = 16 * 1024


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # The limit is checked before any database work: SQLite alone is enough here.
    hub = bootstrap(Settings(data_dir=tmp_path / "data", max_body_bytes=LIMIT,
                             max_upload_bytes=UPLOAD_LIMIT, _env_file=None),  # type: ignore[call-arg]
                    clock=FakeClock())
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "ops", "ops", hub.clock)[1]
    with TestClient(create_app(hub, with_console=False)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c
    hub.close()


def _assert_too_large(answer: Any, setting: str) -> None:
    assert answer.status_code == 413, answer.text
    error = answer.json()["error"]
    assert error["code"] == "body_too_large" and error["field"] == "body"
    assert setting in error["message"]
    assert "最大为" in error["message_zh"] and setting in error["message_zh"]  # both languages


def test_a_declared_length_over_the_limit_is_refused_before_reading(client: TestClient) -> None:
    answer = client.post("/api/v1/orders", content=b"{" + b" " * LIMIT + b"}",
                         headers={"Content-Type": "application/json"})
    _assert_too_large(answer, "ORDERPILOT_MAX_BODY_BYTES")


@pytest.fixture
def served(client: TestClient) -> Iterator[tuple[int, str]]:
    """The same app behind a real uvicorn on loopback, for a real chunked upload."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(client.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield listener.getsockname()[1], client.headers["Authorization"]
    server.should_exit = True
    thread.join(10)


def test_a_chunked_body_is_counted_and_cut_off_at_the_limit(
        served: tuple[int, str]) -> None:
    port, authorization = served
    chunk = b" " * CHUNK
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: " + authorization.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.setblocking(False)
        sent, answer, pending = 0, b"", b""
        while sent < 200 * 1024 * 1024 and b"\r\n\r\n" not in answer:
            try:
                answer += conn.recv(65536)
                continue
            except BlockingIOError:
                pass
            pending = pending or b"%x\r\n%s\r\n" % (len(chunk), chunk)  # whole frames only
            try:
                done = conn.send(pending)
                sent, pending = sent + done, pending[done:]
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.001)
        conn.settimeout(10)
        try:
            if b"\r\n\r\n" not in answer:  # everything sent: end the body, take the answer
                conn.sendall(pending + b"0\r\n\r\n")
            answer += conn.recv(65536)
        except OSError:
            pass
    # Answered while the client was still sending: the server stopped reading at the limit
    # (loopback socket buffers hold a few MB at most, nowhere near the 200 MB on offer).
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"body_too_large"' in answer
    assert sent < 32 * 1024 * 1024, f"{sent} bytes went in before the 413"


def test_bodies_within_the_limit_pass_chunked_or_not(client: TestClient) -> None:
    import json

    body = json.dumps(order_body("LIMIT-1")).encode()
    assert client.post("/api/v1/orders", content=body,
                       headers={"Content-Type": "application/json"}).status_code == 201
    chunked = client.post("/api/v1/orders", content=iter([body[:100], body[100:]]),
                          headers={"Content-Type": "application/json"})
    assert chunked.status_code == 200 and chunked.json()["duplicate"] is True


def test_uploads_have_their_own_larger_limit(client: TestClient) -> None:
    between = b"a,b\n" * ((LIMIT + 1024) // 4)  # over the body limit, under the upload one
    answer = client.post("/api/v1/decision-tables/t/import",
                         files={"file": ("t.csv", between, "text/csv")})
    assert answer.status_code != 413, answer.text
    too_big = b"a,b\n" * (UPLOAD_LIMIT // 4 + 1)
    _assert_too_large(client.post("/api/v1/decision-tables/t/import",
                                  files={"file": ("t.csv", too_big, "text/csv")}),
                      "ORDERPILOT_MAX_UPLOAD_BYTES")
