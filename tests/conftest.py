"""Shared fixtures: one DynamoDB Local per test session, a fresh table per test."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from local.dynamodb_local import (
    DynamoDBLocal,
    ensure_keys_table,
    ensure_table,
    use_local_credentials,
)
from service.app import create_app
from service.logs import logger
from service.models import EventCreate, sample_event
from service.settings import Settings
from service.store import EventStore
from tests.contract.problems import guard_clients

use_local_credentials()

TEST_CURSOR_SECRET = "test-cursor-secret-0123456789"


@pytest.fixture(autouse=True)
def _problem_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every problem document any test receives is checked for leaked internals."""
    guard_clients(monkeypatch)


# A DynamoDB Local already running, for runs of the suite that start many sessions in a row
# (`make mutation` runs one per mutant): each skips the engine's start-up.
RUNNING_DYNAMODB_LOCAL = "EVENTS_TEST_DYNAMODB_ENDPOINT"


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    running = os.environ.get(RUNNING_DYNAMODB_LOCAL)
    if running:
        local = DynamoDBLocal()
        local.endpoint_url = running
        yield local
        return
    with DynamoDBLocal() as local:
        yield local


@pytest.fixture(scope="session")
def dynamodb(dynamodb_local: DynamoDBLocal) -> Any:
    """A raw client on DynamoDB Local, for arranging and inspecting tables."""
    return dynamodb_local.client()


def make_table(dynamodb: Any) -> str:
    name = f"events-{uuid.uuid4().hex[:12]}"
    ensure_table(dynamodb, name)
    return name


@pytest.fixture
def table_name(dynamodb: Any) -> Iterator[str]:
    name = make_table(dynamodb)
    yield name
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def settings(dynamodb_local: DynamoDBLocal, table_name: str) -> Settings:
    return make_settings(dynamodb_local, table_name)


def settings_values(
    dynamodb_local: DynamoDBLocal, table_name: str, **overrides: Any
) -> dict[str, Any]:
    """The configuration of a test service, as the environment variables that set it."""
    return {
        "EVENTS_TABLE_NAME": table_name,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "AWS_REGION": "us-east-1",
        "EVENTS_CURSOR_SECRET": TEST_CURSOR_SECRET,
        **overrides,
    }


def service_environment(
    dynamodb_local: DynamoDBLocal, table_name: str, **overrides: Any
) -> dict[str, str]:
    """This process's environment plus a test service's configuration: for a subprocess."""
    values = settings_values(dynamodb_local, table_name, **overrides)
    return {**os.environ, **{name: str(value) for name, value in values.items()}}


def make_settings(dynamodb_local: DynamoDBLocal, table_name: str, **overrides: Any) -> Settings:
    return Settings(**settings_values(dynamodb_local, table_name, **overrides))


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """Every record the service's logger emits during the test (it does not propagate)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def new_event(**overrides: Any) -> dict[str, Any]:
    """A valid create body with a fresh eventId and no status; override any field."""
    return sample_event(**{"eventId": f"evt-{uuid.uuid4().hex[:10]}", "status": ..., **overrides})


def create_fields(**overrides: Any) -> dict[str, Any]:
    """A create body validated as the API validates it: what the store's creates take."""
    fields = EventCreate.model_validate(new_event(**overrides))
    return fields.model_dump(by_alias=True, mode="json", exclude_none=True)


def store_event(store: EventStore, **overrides: Any) -> dict[str, Any]:
    """Create an event straight through the store, validated as the API would."""
    return store.create(create_fields(**overrides))


@contextlib.contextmanager
def temporary_keys_table(dynamodb: Any, name: str) -> Iterator[str]:
    """An Idempotency-Key table called `name` for the block, deleted after it."""
    ensure_keys_table(dynamodb, name)
    try:
        yield name
    finally:
        dynamodb.delete_table(TableName=name)


def table_snapshot(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    """Every item of a table, sorted: compare two snapshots to prove nothing changed."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table_name, "ConsistentRead": True}
    while True:
        response = dynamodb.scan(**request)
        items.extend(response["Items"])
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return sorted(items, key=lambda item: item["eventId"]["S"])


def outside_make(environment: Mapping[str, str]) -> dict[str, str]:
    """`environment` without what a running make hands its children (MAKELEVEL, MAKEFLAGS
    and its jobserver): a `make` a test starts then speaks as one typed in a shell, even
    when the suite itself runs under `make test`."""
    return {
        name: value
        for name, value in environment.items()
        if name not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"}
    }
