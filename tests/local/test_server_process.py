from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from local.server_process import ServerStartError, uvicorn_process


def test_the_server_answers_until_the_block_ends(tmp_path: Path) -> None:
    with uvicorn_process({"LOG_LEVEL": "WARNING"}, tmp_path / "server.log") as url:
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=2)


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    with (
        pytest.raises(ServerStartError, match="EVENTS_STATUS_SHARDS"),
        uvicorn_process({"EVENTS_STATUS_SHARDS": "0"}, tmp_path / "server.log"),
    ):
        pass
