"""Publishing to NATS JetStream with nats-py (the ``nats`` extra), for the event relay.

The stream is made when missing with file storage and a duplicate window; ``Nats-Msg-Id`` is
the event id, so a message published twice inside the window is stored once
(https://docs.nats.io/nats-concepts/jetstream/headers). nats-py is asynchronous: the publisher
keeps its own event loop, driven by the relay's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

DUPLICATE_WINDOW_S = 120.0


async def _quiet(error: Exception) -> None:
    """nats-py logs every connection error itself; the relay logs the failed batch once."""


class JetStreamPublisher:
    def __init__(self, url: str, stream: str, subjects: str, timeout_s: float = 5.0) -> None:
        self.url, self.stream, self.subjects, self.timeout_s = url, stream, subjects, timeout_s
        self._loop = asyncio.new_event_loop()
        self._connection: Any = None
        self._jetstream: Any = None

    def publish(self, messages: Sequence[tuple[str, bytes, str]]) -> int:
        return self._loop.run_until_complete(self._publish(messages))

    async def _publish(self, messages: Sequence[tuple[str, bytes, str]]) -> int:
        js = await self._ready()
        acked = 0
        for subject, body, message_id in messages:
            await js.publish(subject, body, timeout=self.timeout_s,
                             headers={"Nats-Msg-Id": message_id})
            acked += 1
        return acked

    async def _ready(self) -> Any:
        import nats
        from nats.js.api import StorageType, StreamConfig
        from nats.js.errors import NotFoundError

        if self._connection is None or self._connection.is_closed:
            # No reconnecting inside a call: the relay tries the whole batch again later.
            self._connection = await asyncio.wait_for(nats.connect(
                self.url, connect_timeout=self.timeout_s, allow_reconnect=False,
                error_cb=_quiet), timeout=self.timeout_s * 2)
            self._jetstream = self._connection.jetstream(timeout=self.timeout_s)
            try:
                await self._jetstream.stream_info(self.stream)
            except NotFoundError:
                await self._jetstream.add_stream(StreamConfig(
                    name=self.stream, subjects=[self.subjects], storage=StorageType.FILE,
                    duplicate_window=DUPLICATE_WINDOW_S))
        return self._jetstream

    def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed:
            self._loop.run_until_complete(self._connection.close())
        self._loop.close()
