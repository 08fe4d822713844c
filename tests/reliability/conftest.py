"""Fixtures of the reliability suites: the API served over real HTTP by uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.dynamodb_local import DynamoDBLocal
from service.table import keys_table_name
from tests.conftest import make_table, settings_values, temporary_keys_table
from tests.reliability.live import LiveServer, live_server


@pytest.fixture(scope="session")
def live_table(dynamodb: Any) -> Iterator[str]:
    """One table for every suite that talks HTTP: each test uses ids of its own."""
    name = make_table(dynamodb)
    with temporary_keys_table(dynamodb, keys_table_name(name)):  # the load's creates send keys
        yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture(scope="session")
def live(
    dynamodb_local: DynamoDBLocal, live_table: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    log = Path(tmp_path_factory.mktemp("server")) / "server.log"
    with live_server(settings_values(dynamodb_local, live_table), log) as server:
        yield server
