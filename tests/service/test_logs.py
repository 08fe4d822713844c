"""The access log, as the Lambda function writes it to stdout for CloudWatch."""

from __future__ import annotations

import json

from local.dynamodb_local import DynamoDBLocal
from local.lambda_events import rest_api_event
from tests.conftest import new_event
from tests.service.test_handler import run_module_handler

ACCESS_FIELDS = {
    "timestamp",
    "level",
    "message",
    "logger",
    "request_id",
    "lambda_request_id",
    "apigw_request_id",
    "method",
    "path",
    "status",
    "duration_ms",
}
SECRET_TOKEN = "Bearer s3cr3t-token-value"  # a marker that must never be logged
SECRET_TEXT = "private-description-text"


def test_each_request_writes_exactly_one_json_access_line_without_bodies_or_headers(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Authorization", SECRET_TOKEN),
        ("Cookie", "session=s3cr3t"),
        ("X-Request-ID", "trace-1"),
    ]
    body = json.dumps(new_event(eventId="logged", description=SECRET_TEXT)).encode()
    events = [
        rest_api_event("POST", "/events", headers=headers, body=body),
        rest_api_event("GET", "/events/missing", headers=headers),
    ]
    results, lines = run_module_handler(events, dynamodb_local, table_name)
    assert [result["statusCode"] for result in results] == [201, 404]

    assert len(lines) == 2, lines
    created, missing = (json.loads(line) for line in lines)
    assert set(created) == ACCESS_FIELDS
    assert created == {
        **created,
        "level": "INFO",
        "message": "request",
        "request_id": "trace-1",
        "lambda_request_id": "lambda-request-0",
        "apigw_request_id": events[0]["requestContext"]["requestId"],
        "method": "POST",
        "path": "/dev/events",
        "status": 201,
    }
    assert isinstance(created["duration_ms"], float)
    assert created["duration_ms"] >= 0
    assert created["timestamp"].endswith("Z")
    assert (missing["lambda_request_id"], missing["path"], missing["status"]) == (
        "lambda-request-1",
        "/dev/events/missing",
        404,
    )
    for secret in (SECRET_TOKEN, "s3cr3t", SECRET_TEXT, "Authorization", "Pittsburgh"):
        assert secret.lower() not in "\n".join(lines).lower()
