"""The Lambda entry point, driven with real-shaped events against DynamoDB Local.

Every row of the contract goes through `handler(event, context)` as each of the event
shapes the function can receive, and the links in the answers must carry the prefix the
client's URL had (`/dev` on a REST API or HTTP API named stage, nothing otherwise).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from fastapi import FastAPI

from local.dynamodb_local import DynamoDBLocal
from local.lambda_events import SHAPES, LambdaClient, LambdaResponse, Shape, rest_api_event
from local.paths import REPO_ROOT
from service.errors import PROBLEM_MEDIA_TYPE
from service.handler import build_handler
from tests.conftest import make_settings, new_event, service_environment, table_snapshot


@pytest.fixture(params=SHAPES, ids=[shape.name for shape in SHAPES])
def shape(request: pytest.FixtureRequest) -> Shape:
    chosen: Shape = request.param
    return chosen


@pytest.fixture
def lambda_client(app: FastAPI, shape: Shape) -> LambdaClient:
    return LambdaClient(build_handler(app), shape)


def assert_problem(response: LambdaResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.result
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    # Text, not base64: a REST API without binary media types would pass base64 on as is.
    assert response.result["isBase64Encoded"] is False
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_every_endpoint_of_the_contract(
    lambda_client: LambdaClient, shape: Shape, dynamodb: Any, table_name: str
) -> None:
    root = shape.root_path
    body = new_event(eventId="pycon-2026", date="2026-05-14")

    created = lambda_client.request("POST", "/events", json_body=body)
    assert created.status_code == 201, created.result
    assert created.headers["location"] == f"{root}/events/pycon-2026"
    assert created.headers["etag"] == '"1"'
    assert created.headers["content-type"] == "application/json"
    assert len(created.headers["x-request-id"]) == 32
    assert created.headers["x-content-type-options"] == "nosniff"
    event = created.json()
    assert {key: event[key] for key in body} == body
    assert event["version"] == 1

    read = lambda_client.request("GET", "/events/pycon-2026")
    assert (read.status_code, read.headers["etag"], read.json()) == (200, '"1"', event)
    unchanged = lambda_client.request(
        "GET", "/events/pycon-2026", headers={"If-None-Match": read.headers["etag"]}
    )
    assert (unchanged.status_code, unchanged.headers["etag"], unchanged.content) == (
        304,
        '"1"',
        b"",
    )

    listed = lambda_client.request(
        "GET",
        "/events",
        query=[("status", "active"), ("from", "2026-05-01"), ("to", "2026-05-31"), ("limit", "5")],
    )
    assert listed.status_code == 200, listed.result
    assert listed.json() == {"items": [event], "nextCursor": None}
    assert lambda_client.request("GET", "/events").json()["items"] == [event]

    patched = lambda_client.request(
        "PATCH", "/events/pycon-2026", json_body={"capacity": 3000}, headers={"If-Match": '"1"'}
    )
    assert (patched.status_code, patched.headers["etag"]) == (200, '"2"'), patched.result
    assert patched.json()["capacity"] == 3000
    put = lambda_client.request("PUT", "/events/pycon-2026", json_body={"status": "cancelled"})
    assert (put.status_code, put.headers["etag"], put.json()["status"]) == (200, '"3"', "cancelled")

    before = table_snapshot(dynamodb, table_name)
    stale = lambda_client.request("DELETE", "/events/pycon-2026", headers={"If-Match": '"1"'})
    assert_problem(stale, 412)
    assert_problem(lambda_client.request("POST", "/events", json_body=body), 409)
    invalid = lambda_client.request(
        "POST", "/events", json_body={**body, "eventId": "x", "capacity": 0}
    )
    assert assert_problem(invalid, 422)["errors"] == [
        {"field": "capacity", "message": "must be a whole number from 1 to 1000000"}
    ]
    assert table_snapshot(dynamodb, table_name) == before

    deleted = lambda_client.request("DELETE", "/events/pycon-2026", headers={"If-Match": '"3"'})
    assert (deleted.status_code, deleted.content) == (204, b"")
    missing = assert_problem(lambda_client.request("GET", "/events/pycon-2026"), 404)
    assert missing["title"] == "Event not found"

    health = lambda_client.request("GET", "/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})


def test_docs_load_the_openapi_document_under_the_prefix(
    lambda_client: LambdaClient, shape: Shape
) -> None:
    root = shape.root_path
    docs = lambda_client.request("GET", "/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert f'data-openapi-url="{root}/openapi.json"' in docs.text
    assert f'src="{root}/docs/assets/swagger-ui-bundle.js"' in docs.text
    redoc = lambda_client.request("GET", "/redoc")
    assert f'spec-url="{root}/openapi.json"' in redoc.text

    document = lambda_client.request("GET", "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    # Swagger UI's "Try it out" sends requests to the first server's URL.
    assert document.get("servers", []) == ([{"url": root}] if root else [])
    assert "/events/{eventId}" in document["paths"]


def test_unknown_paths_are_404_problems_naming_the_requested_path(
    lambda_client: LambdaClient, shape: Shape
) -> None:
    problem = assert_problem(lambda_client.request("GET", "/nothing/here"), 404)
    assert problem["detail"] == f"Nothing is served at '{shape.root_path}/nothing/here'."
    assert_problem(lambda_client.request("DELETE", "/events"), 405)


def test_repeated_query_parameters_reach_the_app_repeated(lambda_client: LambdaClient) -> None:
    response = lambda_client.request(
        "GET", "/events", query=[("status", "active"), ("status", "cancelled")]
    )
    problem = assert_problem(response, 422)
    assert problem["errors"] == [{"field": "status", "message": "must be given at most once"}]


def test_base64_encoded_bodies_are_decoded(lambda_client: LambdaClient, shape: Shape) -> None:
    event = lambda_client.event(
        "POST", "/events", json_body=new_event(eventId="b64", title="Ünïcode ✓"), as_base64=True
    )
    assert event["isBase64Encoded"] is True
    created = lambda_client.send(event)
    assert created.status_code == 201, created.result
    assert created.json()["title"] == "Ünïcode ✓"
    assert created.headers["location"] == f"{shape.root_path}/events/b64"


def test_binary_bodies_are_400_problems(lambda_client: LambdaClient) -> None:
    response = lambda_client.request(
        "POST",
        "/events",
        body=bytes(range(256)),
        headers={"Content-Type": "application/json"},
        as_base64=True,
    )
    assert assert_problem(response, 400)["title"] == "Malformed JSON"


def test_request_id_is_echoed(lambda_client: LambdaClient) -> None:
    response = lambda_client.request("GET", "/health", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"


def test_cors_when_configured(dynamodb_local: DynamoDBLocal, table_name: str, shape: Shape) -> None:
    from service.app import create_app

    settings = make_settings(
        dynamodb_local, table_name, EVENTS_CORS_ORIGINS="https://app.example.com"
    )
    lambda_client = LambdaClient(build_handler(create_app(settings)), shape)
    origin = {"Origin": "https://app.example.com"}

    created = lambda_client.request("POST", "/events", json_body=new_event(), headers=origin)
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == "https://app.example.com"
    exposed = {
        name.strip().lower() for name in created.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "location", "x-request-id"} <= exposed

    preflight = lambda_client.request(
        "OPTIONS",
        "/events/anything",
        headers={
            **origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "if-match, content-type",
        },
    )
    assert preflight.status_code == 200
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"

    foreign = lambda_client.request("GET", "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers


def test_the_module_handler_is_configured_from_the_environment(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    """`service.handler.handler`, imported in a fresh process as Lambda does, serves the table."""
    events = [
        rest_api_event(
            "POST",
            "/events",
            headers=[("Content-Type", "application/json")],
            body=json.dumps(new_event(eventId="cold")).encode(),
        ),
        rest_api_event("GET", "/events/cold"),
    ]
    results, _ = run_module_handler(events, dynamodb_local, table_name)
    assert [result["statusCode"] for result in results] == [201, 200], results
    assert results[0]["headers"]["location"] == "/dev/events/cold"
    assert json.loads(results[1]["body"])["eventId"] == "cold"


def run_module_handler(
    events: list[dict[str, Any]], dynamodb_local: DynamoDBLocal, table_name: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Invoke `service.handler.handler` in a new process; its results, and its stdout lines."""
    script = (
        "import json, sys\n"
        "from local.lambda_context import LocalContext\n"
        "from service.handler import handler\n"
        "for number, event in enumerate(json.load(sys.stdin)):\n"
        "    context = LocalContext(aws_request_id=f'lambda-request-{number}')\n"
        "    print(json.dumps(handler(event, context)), file=sys.stderr)\n"
    )
    environment = service_environment(
        dynamodb_local, table_name, EVENTS_CURSOR_SECRET="module-handler-test-secret"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO_ROOT,
        timeout=60,
        check=True,
    )
    results = [json.loads(line) for line in completed.stderr.splitlines() if line.startswith("{")]
    return results, completed.stdout.splitlines()
