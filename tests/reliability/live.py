"""The API under uvicorn, in a process of its own on 127.0.0.1: what the HTTP suites talk to.

Real sockets, a real HTTP server and the app exactly as `make run` serves it. The server's
output (its JSON log lines) goes to a file, so a suite can check that no request ended
in an unhandled exception.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from service.local.dynamodb_local import REPO_ROOT, free_port

STARTUP_SECONDS = 60.0


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
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, **{name: str(value) for name, value in settings.items()}}
    environment.setdefault("LOG_LEVEL", "WARNING")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=environment, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_serving(process, url, log)
        yield LiveServer(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited at start-up:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not serve {url} within {STARTUP_SECONDS:.0f} s")
