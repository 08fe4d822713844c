"""The API under uvicorn in a process of its own, served as `make run` serves it
(local.http_server: the same limits).

For the suites and benchmarks that need real sockets and a server that does not share
their interpreter (and its GIL) with the client driving it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from local.dynamodb_local import free_port
from local.paths import REPO_ROOT

STARTUP_SECONDS = 60.0


class ServerStartError(RuntimeError):
    """The server exited or did not answer /health in time; the message ends with its output."""


@contextlib.contextmanager
def uvicorn_process(
    variables: Mapping[str, str], log: Path, arguments: Sequence[str] = ()
) -> Iterator[str]:
    """Serve the app, configured by environment `variables` on top of this process's, on a
    free loopback port until the block ends; yield its base URL. The server's output (its
    JSON log lines) goes to `log`."""
    port = free_port()
    environment = {**os.environ, **variables}
    command = [sys.executable, "-m", "local.http_server", "--port", str(port), *arguments]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, env=environment, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"The server exited at start-up:\n{log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health", timeout=1) as response,  # noqa: S310
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise ServerStartError(f"The server did not serve {url} within {STARTUP_SECONDS:.0f} s")
