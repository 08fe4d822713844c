"""`make run` as scripts and CI drive it: a signal to the make process stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from local.dynamodb_local import free_port
from local.paths import REPO_ROOT

STOP_SECONDS = 20.0  # generous: the machine may be busy; the server needs about a second


# make forwards SIGTERM to its recipe itself; SIGINT it does not (local/serve.py), the case
# that needs the fast suite.
@pytest.mark.parametrize(
    "signum",
    [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_to_the_make_process_stops_the_server_and_dynamodb_local(
    tmp_path: Path, signum: signal.Signals
) -> None:
    port = free_port()
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        "EVENTS_LOCAL_DATA_DIR": str(tmp_path),
        "EVENTS_DYNAMODB_LOCAL_ENGINE": "java",
    }
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert make.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Events API on"):
            line = make.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        state = json.loads((tmp_path / "endpoint").read_text())
        assert state["api_url"] == f"http://127.0.0.1:{port}"
        assert httpx.get(state["dynamodb_endpoint"]).status_code < 500

        make.send_signal(signum)
        make.wait(timeout=STOP_SECONDS)

        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        with pytest.raises(httpx.TransportError):
            httpx.get(state["dynamodb_endpoint"], timeout=2)
        assert not (tmp_path / "endpoint").exists()
        assert "Traceback" not in make.stdout.read()
    finally:
        if make.poll() is None:
            make.kill()
            make.wait()
