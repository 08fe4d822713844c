"""A real HTTP server for an ASGI app, inside the test process: uvicorn in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

STARTUP_SECONDS = 30


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve `app` on a free 127.0.0.1 port until the block ends; yield its base URL.

    Port 0 lets the kernel choose when uvicorn binds, so no other process can take the
    port in between. Lifespan is off, as under Lambda: the apps here have no start-up.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start within {STARTUP_SECONDS} s")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)
