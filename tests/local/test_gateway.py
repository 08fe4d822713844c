"""The local gateway: real HTTP through uvicorn, REST API events, the handler in-process."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local.dynamodb_local import DynamoDBLocal, free_port
from local.gateway import (
    RIE_INVOCATIONS_PATH,
    FunctionError,
    InProcessFunction,
    LambdaEvent,
    LocalGateway,
    RemoteFunction,
    parse_arguments,
)
from local.lambda_context import LocalContext
from local.lambda_events import rest_api_event
from local.paths import REPO_ROOT
from local.server_process import wait_until_serving
from service.errors import PROBLEM_MEDIA_TYPE
from service.handler import build_handler
from tests.conftest import new_event, service_environment
from tests.servers import serve


class Recorder:
    """Wraps an invoker and keeps every event it passes on."""

    def __init__(self, function: InProcessFunction) -> None:
        self.function = function
        self.events: list[LambdaEvent] = []

    async def __call__(self, event: LambdaEvent) -> Any:
        self.events.append(event)
        return await self.function(event)


@pytest.fixture
def recorder(app: FastAPI) -> Iterator[Recorder]:
    with InProcessFunction(build_handler(app)) as function:
        yield Recorder(function)


@pytest.fixture
def gateway(recorder: Recorder) -> Iterator[httpx.Client]:
    with serve(LocalGateway(recorder, stage="dev")) as url, httpx.Client(base_url=url) as client:
        yield client


def test_the_contract_through_the_gateway_with_a_stage(gateway: httpx.Client) -> None:
    body = new_event(eventId="via-gateway", title="Café ✓")
    created = gateway.post("/dev/events", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/dev/events/via-gateway"
    assert created.headers["etag"] == '"1"'
    assert created.json()["title"] == "Café ✓"

    read = gateway.get(created.headers["location"])
    assert (read.status_code, read.json()) == (200, created.json())
    listed = gateway.get("/dev/events", params={"status": "active", "from": "2026-01-01"})
    assert [item["eventId"] for item in listed.json()["items"]] == ["via-gateway"]
    patched = gateway.patch(
        "/dev/events/via-gateway", json={"capacity": 10}, headers={"If-Match": '"1"'}
    )
    assert (patched.status_code, patched.headers["etag"]) == (200, '"2"')
    deleted = gateway.delete("/dev/events/via-gateway")
    assert (deleted.status_code, deleted.content) == (204, b"")
    missing = gateway.get("/dev/events/via-gateway")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM_MEDIA_TYPE)
    assert missing.json()["status"] == 404


def test_docs_are_served_under_the_stage(gateway: httpx.Client) -> None:
    docs = gateway.get("/dev/docs")
    assert docs.status_code == 200
    assert 'data-openapi-url="/dev/openapi.json"' in docs.text
    assert gateway.get("/dev/openapi.json").json()["servers"] == [{"url": "/dev"}]


def test_paths_outside_the_stage_are_forbidden_as_on_api_gateway(
    gateway: httpx.Client, recorder: Recorder
) -> None:
    for path in ("/events", "/development/events", "/"):
        response = gateway.get(path)
        assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
    assert recorder.events == []


def test_events_have_the_shape_api_gateway_sends(gateway: httpx.Client, recorder: Recorder) -> None:
    gateway.get("/dev/events", params=[("status", "active")], headers={"X-Custom": "one"})
    (event,) = recorder.events
    sample = rest_api_event("GET", "/events")
    assert set(event) == set(sample)
    assert set(event["requestContext"]) >= set(sample["requestContext"])
    assert event["path"] == "/events"
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "events"}
    assert event["requestContext"]["path"] == "/dev/events"
    assert event["requestContext"]["stage"] == "dev"
    assert event["requestContext"]["requestId"]
    assert event["headers"]["x-custom"] == "one"
    assert event["multiValueHeaders"]["x-custom"] == ["one"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_a_repeated_query_parameter_arrives_as_multiple_values(
    gateway: httpx.Client, recorder: Recorder
) -> None:
    response = gateway.get("/dev/events?status=active&status=cancelled")
    (event,) = recorder.events
    assert event["multiValueQueryStringParameters"] == {"status": ["active", "cancelled"]}
    assert event["queryStringParameters"] == {"status": "cancelled"}
    assert response.status_code == 422
    assert {"field": "status", "message": "must be given at most once"} in response.json()["errors"]


def test_binary_request_bodies_travel_base64_and_arrive_intact(
    gateway: httpx.Client, recorder: Recorder
) -> None:
    payload = bytes(range(256)) * 4
    response = gateway.post(
        "/dev/events", content=payload, headers={"Content-Type": "application/json"}
    )
    (event,) = recorder.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    assert (response.status_code, response.json()["title"]) == (400, "Malformed JSON")


def _binary_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        response = Response(await request.body(), media_type="application/octet-stream")
        response.set_cookie("first", "1")
        response.set_cookie("second", "2")
        return response

    return app


def test_binary_responses_and_repeated_headers_come_back_intact() -> None:
    payload = bytes(range(255, -1, -1))
    with (
        InProcessFunction(build_handler(_binary_app())) as function,
        serve(LocalGateway(function)) as url,
    ):
        response = httpx.post(f"{url}/echo", content=payload)
    assert response.status_code == 200
    assert response.content == payload
    assert response.headers["content-length"] == str(len(payload))
    cookies = response.headers.get_list("set-cookie")
    assert [cookie.split(";")[0] for cookie in cookies] == ["first=1", "second=2"]


def test_without_a_stage_the_api_is_served_at_the_root(app: FastAPI) -> None:
    with InProcessFunction(build_handler(app)) as function, serve(LocalGateway(function)) as url:
        created = httpx.post(f"{url}/events", json=new_event(eventId="rooted"))
        docs = httpx.get(f"{url}/docs")
    assert created.headers["location"] == "/events/rooted"
    assert 'data-openapi-url="/openapi.json"' in docs.text


def test_a_failing_function_is_a_502_as_on_api_gateway() -> None:
    def broken(event: LambdaEvent, context: LocalContext) -> Any:
        raise RuntimeError("boom")

    with InProcessFunction(broken) as function, serve(LocalGateway(function)) as url:
        response = httpx.get(f"{url}/health")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


@contextmanager
def _behind_invoke_api(handler: Any) -> Iterator[RemoteFunction]:
    """`handler` behind Lambda's Invoke API as the Runtime Interface Emulator serves it
    (tests only), and the RemoteFunction that calls it there."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    with InProcessFunction(handler) as function:

        async def invoke(request: Request) -> Response:
            event = json.loads(await request.body())
            try:
                return JSONResponse(await function(event))
            except FunctionError as error:
                # The emulator answers 200 with an error document when the handler raises.
                cause = error.__cause__
                return JSONResponse({"errorMessage": str(cause), "errorType": type(cause).__name__})

        endpoint = Starlette(routes=[Route(RIE_INVOCATIONS_PATH, invoke, methods=["POST"])])
        with serve(endpoint) as invoke_url:
            yield RemoteFunction(invoke_url + RIE_INVOCATIONS_PATH)


def test_with_a_function_url_events_go_to_the_invoke_endpoint(app: FastAPI) -> None:
    with (
        _behind_invoke_api(build_handler(app)) as remote,
        serve(LocalGateway(remote, stage="prod")) as url,
    ):
        created = httpx.post(f"{url}/prod/events", json=new_event(eventId="remote"))
        read = httpx.get(f"{url}/prod/events/remote")
    assert (created.status_code, created.headers["location"]) == (201, "/prod/events/remote")
    assert read.json()["eventId"] == "remote"


def test_an_error_document_from_the_invoke_endpoint_is_a_502() -> None:
    def broken(event: LambdaEvent, context: LocalContext) -> Any:
        raise ValueError("bad")

    with _behind_invoke_api(broken) as remote, serve(LocalGateway(remote)) as url:
        response = httpx.get(f"{url}/health")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


@pytest.mark.parametrize(
    "arguments",
    [
        ["--stage", "/dev"],
        ["--stage", ""],
        ["--function-url", "http://localhost:9000", "--dynamodb-local"],
    ],
)
def test_bad_arguments_are_usage_errors(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(arguments)
    assert exit_info.value.code == 2


def test_the_command_serves_the_module_handler(
    dynamodb_local: DynamoDBLocal, table_name: str, tmp_path: Path
) -> None:
    """`python -m local.gateway --stage dev`, as a user runs it, configured by environment."""
    port = free_port()
    environment = service_environment(dynamodb_local, table_name)
    command = [sys.executable, "-m", "local.gateway", "--port", str(port), "--stage", "dev"]
    url = f"http://127.0.0.1:{port}/dev"
    log = tmp_path / "gateway.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # our own interpreter and module
            command, env=environment, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_until_serving(process, url, log)
        health = httpx.get(f"{url}/health")
        created = httpx.post(f"{url}/events", json=new_event(eventId="from-cli"))
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (created.status_code, created.headers["location"]) == (201, "/dev/events/from-cli")
