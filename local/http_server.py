"""uvicorn as every local server runs it (`make run`, the gateway, the test server process),
with the limits API Gateway would apply in front of Lambda.

uvicorn's h11 parser accepts a request head of any size when it arrives in one piece, and
waits forever for a request that stops half-way. Locally these limits stand in for API
Gateway's (docs/reliability.md, "What the local server refuses"):

- a request line and headers over REQUEST_HEAD_LIMIT bytes: 431 (400 when the head
  arrives in pieces: h11 stops buffering at the same size), and the connection closes;
- a request that has not arrived whole REQUEST_READ_SECONDS after its first byte (or after
  the connection opened): 408, and the connection closes;
- a request with both Transfer-Encoding and Content-Length is answered, then the
  connection closes (RFC 9112 section 6.3: such a message may be a smuggling attempt).

`run` serves until Ctrl-C, SIGTERM, or the end of the `make` that started it.

    python -m local.http_server [--port 8000]    # the app, configured by the environment
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import signal
import socket
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from infra.limits import REQUEST_HEAD_LIMIT
from service.middleware import NO_STORE, NOSNIFF

REQUEST_READ_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
SHUTDOWN_SECONDS = 3
PARENT_POLL_SECONDS = 0.5


def _plain_headers(text: bytes) -> list[tuple[bytes, bytes]]:
    """A text/plain answer that closes the connection, with the headers the app puts on
    every answer (service/middleware.py): a client sees them on the server's own
    refusals too."""
    return [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(text)).encode()),
        (b"connection", b"close"),
        NOSNIFF,
        NO_STORE,
    ]


def _plain_answer(status: int, reason: bytes, text: bytes) -> bytes:
    """A whole plain HTTP/1.1 answer, as bytes."""
    head = b"".join(name + b": " + value + b"\r\n" for name, value in _plain_headers(text))
    return b"HTTP/1.1 %d %s\r\n%s\r\n%s" % (status, reason, head, text)


_TIMED_OUT = _plain_answer(408, b"Request Timeout", b"The request did not arrive in time.")


class PortInUse(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is already in use")
        self.host, self.port = host, port


def listen(host: str, port: int) -> socket.socket:
    """Bind the port now, before anything else starts, so a clash is known at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(host, port) from None
        raise
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


class RequestLimits:
    """The ASGI half of the limits: the head's size, and closing after ambiguous framing."""

    def __init__(self, app: ASGIApp, head_limit: int = REQUEST_HEAD_LIMIT) -> None:
        self.app = app
        self.head_limit = head_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        line = len(scope["method"]) + len(scope.get("raw_path", b"")) + 10
        line += len(scope.get("query_string", b""))
        if line + sum(len(name) + len(value) for name, value in headers) > self.head_limit:
            await _plain(send, 431, b"Request header fields too large.")
            return
        names = {name for name, _ in headers}
        if b"transfer-encoding" not in names or b"content-length" not in names:
            await self.app(scope, receive, send)
            return

        async def send_then_close(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"connection"]
                message = {**message, "headers": [*kept, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_then_close)


async def _plain(send: Send, status: int, text: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _plain_headers(text)})
    await send({"type": "http.response.body", "body": text})


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive whole."""

    read_seconds = REQUEST_READ_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._read_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self.cycle is not None and not self.cycle.more_body:
            self._disarm()  # the request is here whole; the app takes its own time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(self.read_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _too_slow(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMED_OUT)
        self.transport.close()


def server(
    app: ASGIApp, *, read_seconds: float = REQUEST_READ_SECONDS, **options: Any
) -> uvicorn.Server:
    """A uvicorn server for `app` with the limits above; run it with `.run(sockets=[...])`."""
    protocol = type("Protocol", (TimedH11Protocol,), {"read_seconds": read_seconds})
    config = uvicorn.Config(
        RequestLimits(app),
        http=protocol,
        h11_max_incomplete_event_size=REQUEST_HEAD_LIMIT,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
        log_level="warning",
        **options,
    )
    return uvicorn.Server(config)


class Stopped(Exception):
    """SIGTERM reached this process: unwind, stopping the server and DynamoDB Local."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C (uvicorn re-raises it once it has shut down), so every
    `with` block exits: DynamoDB Local stops and the run state is removed."""
    signal.signal(signal.SIGTERM, _stop)


def _catches_sigint(pid: int) -> bool | None:
    """Whether process `pid` has a handler for SIGINT (None: it cannot be read)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return None


def _stop_with_parent(server: uvicorn.Server) -> None:
    """Stop the server once the parent process (`make`) stops or is told to stop.

    GNU make passes SIGTERM on to its recipe, but on SIGINT it only waits for the recipe
    to finish, assuming the terminal sent SIGINT to the whole process group. A script
    that sends SIGINT to make alone would wait forever. Make's handler resets SIGINT to
    its default before waiting, which its /proc status shows: that is the cue.
    """
    parent = os.getppid()
    watching_sigint = _catches_sigint(parent) is True

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent or (watching_sigint and _catches_sigint(parent) is False):
                server.should_exit = True
                return
            threading.Event().wait(PARENT_POLL_SECONDS)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run(server: uvicorn.Server, listener: socket.socket) -> None:
    """Serve on the bound `listener` until Ctrl-C, SIGTERM or the parent's end."""
    _stop_with_parent(server)
    server.run(sockets=[listener])


def main(argv: list[str] | None = None) -> int:
    from local.command_line import fail, settings_or_exit
    from service.app import create_app

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--request-timeout", type=float, default=REQUEST_READ_SECONDS)
    args = parser.parse_args(argv)
    settings = settings_or_exit()
    try:
        listener = listen(args.host, args.port)
    except PortInUse as error:
        fail(str(error))
    stop_on_sigterm()
    app = create_app(settings)
    with contextlib.suppress(KeyboardInterrupt, Stopped):
        run(server(app, read_seconds=args.request_timeout, access_log=False), listener)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
