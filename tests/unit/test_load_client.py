"""The benchmarks' load client (benchmarks/load.py) reads every answer the way a server may
frame it, keeps connections alive, and resends once when a kept-alive connection was closed
under it: otherwise the benchmarks would count wrong answers or errors that are not the hub's."""

from __future__ import annotations

import asyncio
import json

import pytest

from orderpilot.benchmarks.load import LoadClient, LoadError


class Server:
    """A tiny HTTP/1.1 server: answers by the request's path, counts connections and
    requests, and can close a connection after its first answer without saying so."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[tuple[str, bytes]] = []
        self.close_silently_after_first = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                lines = head.decode().split("\r\n")
                path = lines[0].split(" ")[1]
                length = next((int(line.split(":")[1]) for line in lines
                               if line.lower().startswith("content-length:")), 0)
                body = await reader.readexactly(length)
                self.requests.append((path, body))
                writer.write(self.answer(path, body))
                await writer.drain()
                answered += 1
                if path == "/close" or (self.close_silently_after_first and answered == 1):
                    return
        finally:
            writer.close()

    @staticmethod
    def answer(path: str, body: bytes) -> bytes:
        if path == "/chunked":
            return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
        if path == "/close":
            return b"HTTP/1.1 201 Created\r\nConnection: close\r\n\r\nbye"
        echoed = json.dumps({"path": path, "got": json.loads(body or b"null")}).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(echoed)).encode() + b"\r\n\r\n" + echoed)


async def _serve(server: Server) -> tuple[asyncio.Server, str]:
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    return listening, f"http://127.0.0.1:{port}"


def test_answers_framed_by_length_chunks_or_close_and_connections_reused() -> None:
    async def scenario() -> None:
        server = Server()
        listening, base = await _serve(server)
        async with listening, LoadClient(base, headers={"Authorization": "Bearer t"},
                                         connections=1) as client:
            first = await client.post("/orders", {"名字": "李四", "n": 1})
            assert first.status_code == 200
            assert first.json() == {"path": "/orders", "got": {"名字": "李四", "n": 1}}
            chunked = await client.get("/chunked")
            assert (chunked.status_code, chunked.body) == (200, b"hello world")
            again = await client.post("/orders", [2])  # the trailers were read off the wire
            assert again.json()["got"] == [2]
            assert server.connections == 1  # one connection, kept alive throughout
            closed = await client.post("/close", {})
            assert (closed.status_code, closed.body) == (201, b"bye")
            await client.post("/orders", 3)
            assert server.connections == 2  # "Connection: close" was honoured

    asyncio.run(scenario())


def test_a_kept_alive_connection_closed_under_it_is_resent_once_on_a_new_one() -> None:
    async def scenario() -> None:
        server = Server()
        server.close_silently_after_first = True
        listening, base = await _serve(server)
        async with listening, LoadClient(base, connections=1) as client:
            await client.post("/orders", 1)
            await asyncio.sleep(0.05)  # the server has closed the idle connection by now
            answer = await client.post("/orders", 2)
            assert answer.json()["got"] == 2
            assert [body for _path, body in server.requests] == [b"1", b"2"]
            assert server.connections == 2

    asyncio.run(scenario())


def test_nothing_listening_is_a_load_error_with_its_kind() -> None:
    async def scenario() -> None:
        listening, base = await _serve(Server())
        listening.close()
        await listening.wait_closed()
        async with LoadClient(base, connections=1, timeout=2) as client:
            with pytest.raises(LoadError) as refused:
                await client.post("/orders", 1)
            assert refused.value.kind == "ConnectionRefusedError"

    asyncio.run(scenario())


def test_only_plain_http() -> None:
    with pytest.raises(ValueError, match="plain http"):
        LoadClient("https://example.com")
