"""The store's one exception map, seen from the API: what a DynamoDB failure answers.

An error no retry gets past (ValidationException, AccessDeniedException) is a 500 problem
that shows nothing of its cause, logs that cause, and never passes for success: a write
must not answer 201, 200 or 204 when nothing was stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.errors import PROBLEM_TYPE_BASE, StoreFailure, StoreUnavailable
from service.settings import Settings
from service.store import create_dynamodb_client
from service.store.client import ConditionFailed, TransactionCancelled, dynamodb_errors
from service.store.rehearsal import dynamodb_response
from tests.conftest import new_event, table_snapshot
from tests.reliability.checks import leaks
from tests.service.api.test_events import assert_problem

STORED = "stored-event"
# What the client reads: no cause, and what to do.
FAILED = (
    "The event store refused this request unexpectedly; retrying will not help. "
    "The cause is logged: quote the X-Request-ID to the operators."
)
# One request per route that reaches the store, and the DynamoDB call it makes.
STORE_REQUESTS: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
    ("POST", "/events"): ({"json": new_event()}, "PutItem"),
    ("GET", "/events"): ({"params": {"status": "active"}}, "Query"),
    ("GET", "/events/{}"): ({}, "GetItem"),
    ("PUT", "/events/{}"): ({"json": {"capacity": 7}}, "UpdateItem"),
    ("PATCH", "/events/{}"): ({"json": {"capacity": 7}}, "UpdateItem"),
    ("DELETE", "/events/{}"): ({}, "DeleteItem"),
}


def dynamodb_answers(code: str, **fields: Any) -> Callable[..., AWSResponse]:
    """A before-send hook: DynamoDB answers with this error, as AWS words it, with any
    other fields of its error body (a cancelled transaction's CancellationReasons)."""

    message = "User: arn:aws:sts::123456789012:assumed-role/events is not authorized"
    error = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message} | fields

    def answer(request: Any, **_: Any) -> AWSResponse:
        return dynamodb_response(request, 400, error)

    return answer


def test_the_requests_cover_every_operation_that_reaches_the_store(app: FastAPI) -> None:
    operations = {
        (method.upper(), re.sub(r"\{[^}]*\}", "{}", path))  # whatever the parameter's name
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/events")
        for method in item
    }
    assert operations == set(STORE_REQUESTS)


@pytest.mark.parametrize("code", ["ValidationException", "AccessDeniedException"])
@pytest.mark.parametrize(("method", "path"), list(STORE_REQUESTS))
def test_an_error_no_retry_gets_past_is_a_500_that_changes_nothing(
    app: FastAPI,
    client: TestClient,
    dynamodb: Any,
    table_name: str,
    logged: list[logging.LogRecord],
    method: str,
    path: str,
    code: str,
) -> None:
    assert client.post("/events", json=new_event(eventId=STORED)).status_code == 201
    before = table_snapshot(dynamodb, table_name)
    options, operation = STORE_REQUESTS[method, path]
    app.state.store._client.meta.events.register("before-send.dynamodb.*", dynamodb_answers(code))
    response = client.request(method, path.format(STORED), **options)
    problem = assert_problem(response, 500)
    assert (problem["type"], problem["detail"]) == (PROBLEM_TYPE_BASE + StoreFailure.slug, FAILED)
    assert "Retry-After" not in response.headers
    assert leaks(response.text) == []
    assert table_snapshot(dynamodb, table_name) == before
    causes = [record for record in logged if record.getMessage() == "unexpected DynamoDB error"]
    # One line per failed call: a listing queries every shard.
    assert causes
    assert {(cause.operation, cause.code) for cause in causes} == {(operation, code)}  # type: ignore[attr-defined]
    assert all(cause.exc_info for cause in causes)


def test_a_request_botocore_refuses_to_send_is_a_logged_500(
    app: FastAPI, client: TestClient, dynamodb: Any, table_name: str, logged: list[Any]
) -> None:
    """A parameter botocore's own validation refuses (code that built the call wrong):
    the same 500, nothing sent, the cause logged without an operation name to read."""

    def corrupt(params: dict[str, Any], **_: Any) -> None:
        params["Key"] = "not a key"

    app.state.store._client.meta.events.register("provide-client-params.dynamodb.GetItem", corrupt)
    problem = assert_problem(client.get(f"/events/{STORED}"), 500)
    assert problem["detail"] == FAILED
    causes = [record for record in logged if record.getMessage() == "unexpected DynamoDB error"]
    assert [(cause.operation, cause.code) for cause in causes] == [(None, "ParamValidationError")]
    assert all(cause.exc_info for cause in causes)


UNAVAILABLE = "The event store is unavailable; retry shortly."


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"Error": {"Code": "ThrottlingException"}}, StoreUnavailable(UNAVAILABLE)),
        ({"Error": {"Code": "ResourceNotFoundException"}}, StoreUnavailable(UNAVAILABLE)),
        ({}, StoreFailure("")),
        (
            {"Error": {"Code": "ConditionalCheckFailedException"}},
            ConditionFailed(None, retried=False),
        ),
        (
            {
                "Error": {"Code": "ConditionalCheckFailedException"},
                "ResponseMetadata": {"RetryAttempts": 1},
                "Item": {"eventId": {"S": "e"}},
            },
            ConditionFailed({"eventId": {"S": "e"}}, retried=True),
        ),
        (
            {
                "Error": {"Code": "ConditionalCheckFailedException"},
                "ResponseMetadata": {"RetryAttempts": 0},
            },
            ConditionFailed(None, retried=False),
        ),
        (
            {"Error": {"Code": "TransactionCanceledException"}},
            TransactionCancelled([], in_progress=False),
        ),
        (
            {
                "Error": {"Code": "TransactionCanceledException"},
                "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
            },
            TransactionCancelled(
                [{"Code": "None"}, {"Code": "TransactionConflict"}], in_progress=False
            ),
        ),
        (
            {"Error": {"Code": "TransactionInProgressException"}},
            TransactionCancelled([], in_progress=True),
        ),
    ],
    ids=[
        "throttled",
        "no table",
        "no error code",
        "condition",
        "condition after a retry",
        "condition, no retry",
        "cancelled, no reasons",
        "cancelled",
        "in progress",
    ],
)
def test_the_exception_map_reads_every_shape_botocore_hands_it(
    response: dict[str, Any], expected: Exception
) -> None:
    """What each ClientError becomes, including those missing a part botocore's own
    ClientError does not insist on (no Error, no ResponseMetadata, no reasons)."""
    with pytest.raises(type(expected)) as raised, dynamodb_errors():
        raise ClientError(response, "GetItem")  # type: ignore[arg-type]
    mapped = raised.value
    if isinstance(expected, StoreUnavailable):
        assert mapped.detail == expected.detail  # type: ignore[attr-defined]
    if isinstance(expected, ConditionFailed):
        assert (mapped.item, mapped.retried) == (expected.item, expected.retried)  # type: ignore[attr-defined]
    if isinstance(expected, TransactionCancelled):
        actual = (mapped.reasons, mapped.in_progress)  # type: ignore[attr-defined]
        assert actual == (expected.reasons, expected.in_progress)
        assert type(mapped.in_progress) is bool  # type: ignore[attr-defined]


def test_the_client_keeps_the_settings_timeouts_and_attempts(settings: Settings) -> None:
    """A DynamoDB that stops answering is a 503 within the request budget the settings
    work out from these (Settings.dynamodb_request_budget), not after botocore's 60 s."""
    config: Any = create_dynamodb_client(settings).meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        settings.dynamodb_connect_timeout,
        settings.dynamodb_read_timeout,
    )
    assert config.retries == {
        "mode": "standard",
        "total_max_attempts": settings.dynamodb_max_attempts,
    }
    # Kept-alive sockets outlive idle network paths; every shard read at once has one.
    assert (config.tcp_keepalive, config.max_pool_connections) == (True, 10)
    many: Any = create_dynamodb_client(settings.model_copy(update={"status_shards": 16}))
    assert many.meta.config.max_pool_connections == 16 + 2
