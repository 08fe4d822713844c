"""The published contract, read from the app's own /openapi.json and route table.

The document is read once at collection, so every operation, parameter and body property
becomes a test case of its own without anyone listing it. One table and one app serve a
whole module: the cases only read, or are refused before writing, and each test compares
table snapshots to prove it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from local.dynamodb_local import DynamoDBLocal
from service.app import create_app
from service.models import sample_event
from service.settings import Settings
from tests.conftest import TEST_CURSOR_SECRET, make_settings, make_table, table_snapshot

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


# The app as published, without a table: enough for its document and routing table.
OFFLINE_APP = create_app(
    Settings(
        EVENTS_TABLE_NAME="contract",
        AWS_REGION="us-east-1",
        EVENTS_CURSOR_SECRET=TEST_CURSOR_SECRET,
    )
)
SPEC: dict[str, Any] = TestClient(OFFLINE_APP).get("/openapi.json").json()


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return resolve(SPEC["components"]["schemas"][name])
    return schema


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    id: str
    spec: dict[str, Any] = field(repr=False, compare=False)

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [param for param in self.spec.get("parameters", []) if param["in"] == where]

    @property
    def body_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return resolve(media["schema"]) if media else None


OPERATIONS = [
    Operation(method.upper(), path, operation["operationId"], operation)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
]


def by_id(operations: list[Operation]) -> list[Any]:
    return [pytest.param(operation, id=operation.id) for operation in operations]


@dataclass
class Api:
    """A client on a table of its own, and one stored event to aim at."""

    client: TestClient
    dynamodb: Any
    table_name: str
    event: dict[str, Any]

    def snapshot(self) -> list[dict[str, Any]]:
        return table_snapshot(self.dynamodb, self.table_name)

    def url(self, operation: Operation, **path: str) -> str:
        values = {"eventId": self.event["eventId"], **path}
        return re.sub(
            r"\{(\w+)\}", lambda name: quote(values[name.group(1)], safe=""), operation.path
        )

    def valid_body(self, operation: Operation) -> dict[str, Any] | None:
        """A body the operation accepts: its required properties, or else one to change."""
        schema = operation.body_schema
        if schema is None:
            return None
        sample = sample_event(eventId=f"contract-{uuid.uuid4().hex[:10]}")
        names = (
            schema.get("required")
            or [name for name in schema["properties"] if name != "eventId"][:1]
        )
        return {name: sample[name] for name in names}

    def send(
        self,
        operation: Operation,
        path: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = ...,
        method: str | None = None,
    ) -> Any:
        return self.client.request(
            method or operation.method,
            self.url(operation, **(path or {})),
            params=query,
            json=self.valid_body(operation) if body is ... else body,
        )


@pytest.fixture(scope="module")
def api(dynamodb_local: DynamoDBLocal, dynamodb: Any) -> Iterator[Api]:
    table_name = make_table(dynamodb)
    app = create_app(make_settings(dynamodb_local, table_name))
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post("/events", json=sample_event(eventId="contract-event"))
        assert created.status_code == 201, created.text
        yield Api(client, dynamodb, table_name, created.json())
    dynamodb.delete_table(TableName=table_name)
