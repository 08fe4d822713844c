"""The API under uvicorn, in a process of its own on 127.0.0.1: what the HTTP suites talk to.

Real sockets, a real HTTP server and the app exactly as `make run` serves it. The server's
output (its JSON log lines) goes to a file, so a suite can check that no request ended
in an unhandled exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.server_process import uvicorn_process


@dataclass
class LiveServer:
    url: str
    log: Path

    def unhandled_errors(self) -> list[str]:
        """Log lines of requests that ended in an exception the service did not map."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if "unhandled error" in line or "Traceback" in line]


@contextlib.contextmanager
def live_server(settings: Mapping[str, Any], log: Path) -> Iterator[LiveServer]:
    """Serve the app configured by `settings` (environment variables) until the block ends."""
    variables = {"LOG_LEVEL": "WARNING", **{name: str(value) for name, value in settings.items()}}
    with uvicorn_process(variables, log) as url:
        yield LiveServer(url, log)
