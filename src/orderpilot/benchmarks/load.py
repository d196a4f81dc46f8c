"""A lean HTTP/1.1 load generator for the benchmarks that drive the hub over HTTP.

The benchmarks run on the hub's own machine (two cores here), so every cycle the load
generator spends is one the hub under test does not get. httpx's async client spent about
4-10 ms of CPU a request on this machine (`bench rules` at 60-100 events/s: 26-59% of a core
for the generator alone); this one writes requests encoded up front on keep-alive asyncio
connections and reads each answer by its Content-Length (or chunks), about a tenth of that
(``load_generator_cpu_ms_per_request`` in the JSON says what it cost). It is a benchmark
tool, not an HTTP client for the product: plain http, no redirects, no proxies, no TLS.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Idle connections are dropped before uvicorn's keep-alive (5 s) would close them under us.
IDLE_LIMIT_S = 2.0


class LoadError(Exception):
    """A request that got no answer; ``kind`` names why (counted by the benchmarks)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used_at = time.monotonic()

    def close(self) -> None:
        self.writer.close()


class LoadClient:
    """At most ``connections`` requests in flight, each on a kept-alive connection."""

    def __init__(self, base: str, *, headers: dict[str, str] | None = None,
                 connections: int = 16, timeout: float = 30.0) -> None:
        url = urlsplit(base)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"the load client speaks plain http only, not {base!r}")
        self.host, self.port = url.hostname, url.port or 80
        self.timeout = timeout
        common = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self._common = "".join(f"{k}: {v}\r\n" for k, v in common.items())
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[_Connection] = []

    async def __aenter__(self) -> LoadClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def post(self, path: str, json_body: Any,
                   headers: dict[str, str] | None = None) -> Answer:
        body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (f"POST {path} HTTP/1.1\r\n{self._common}{extra}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        return await self._send(head.encode() + body)

    async def get(self, path: str) -> Answer:
        return await self._send(f"GET {path} HTTP/1.1\r\n{self._common}\r\n".encode())

    async def _send(self, request: bytes) -> Answer:
        async with self._slots:
            conn, reused = await self._connection()
            try:
                answer, keep = await asyncio.wait_for(self._exchange(conn, request),
                                                      self.timeout)
            except TimeoutError:
                conn.close()
                raise LoadError("timeout") from None
            except (OSError, asyncio.IncompleteReadError) as error:
                conn.close()
                if not reused:
                    raise LoadError(type(error).__name__) from error
                # The server closed a kept-alive connection under the request: it is sent
                # once more on a new connection. The benchmarks' requests are all safe to
                # repeat (an idempotency key, or an order's or event's own id).
                return await self._send_fresh(request)
            self._put_back(conn, keep)
            return answer

    async def _send_fresh(self, request: bytes) -> Answer:
        try:
            conn = await self._open()
            answer, keep = await asyncio.wait_for(self._exchange(conn, request), self.timeout)
        except TimeoutError:
            raise LoadError("timeout") from None
        except (OSError, asyncio.IncompleteReadError) as error:
            raise LoadError(type(error).__name__) from error
        self._put_back(conn, keep)
        return answer

    async def _connection(self) -> tuple[_Connection, bool]:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.used_at < IDLE_LIMIT_S:
                return conn, True
            conn.close()
        try:
            return await self._open(), False
        except OSError as error:
            raise LoadError(type(error).__name__) from error

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.timeout)
        return _Connection(reader, writer)

    def _put_back(self, conn: _Connection, keep: bool) -> None:
        if keep:
            conn.used_at = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    @staticmethod
    async def _exchange(conn: _Connection, request: bytes) -> tuple[Answer, bool]:
        conn.writer.write(request)
        await conn.writer.drain()
        head = await conn.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length: int | None = None
        chunked = close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                close = value == b"close"
        if chunked:
            body = await _read_chunks(conn.reader)
        elif length is not None:
            body = await conn.reader.readexactly(length)
        else:  # no length: the body ends with the connection
            body, close = await conn.reader.read(), True
        return Answer(status, body), not close


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            await _skip_trailers(reader)
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the CRLF after each chunk


async def _skip_trailers(reader: asyncio.StreamReader) -> None:
    while (await reader.readuntil(b"\r\n")) != b"\r\n":
        pass
