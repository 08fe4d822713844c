"""A TCP proxy on 127.0.0.1 that can hold DynamoDB's answers back: a slow network, on demand.

Requests go through at once; each chunk of an answer waits `delay` seconds, or only the
next `stall` answers wait. DynamoDB Local still does the work, exactly as a real DynamoDB
whose answer is lost or late would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


class SlowProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.delay = 0.0
        self.stalled_answers = 0
        self.stall_seconds = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stall_next(self, answers: int, seconds: float) -> None:
        """Hold back the next `answers` answers by `seconds` each."""
        with self._lock:
            self.stalled_answers, self.stall_seconds = answers, seconds

    def _wait_for(self) -> float:
        with self._lock:
            if self.stalled_answers > 0:
                self.stalled_answers -= 1
                return self.stall_seconds
            return self.delay

    async def _pipe(
        self, source: asyncio.StreamReader, target: asyncio.StreamWriter, slow: bool
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if slow:
                    await asyncio.sleep(self._wait_for())
                target.write(data)
                await target.drain()
        target.close()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, upstream_writer, slow=False),
            self._pipe(upstream_reader, writer, slow=True),
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[SlowProxy]:
        started = threading.Event()
        stopping = asyncio.Event()

        async def serve() -> None:
            server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            async with server:
                await stopping.wait()

        thread = threading.Thread(
            target=self._loop.run_until_complete, args=(serve(),), daemon=True
        )
        thread.start()
        started.wait(10)
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(stopping.set)
            thread.join(10)
