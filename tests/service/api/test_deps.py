"""Where store calls run: inline under Lambda, in a worker thread under an ASGI server.

A Lambda execution environment hands the function one event at a time, so a blocking
DynamoDB call on the event loop's thread delays nobody; under uvicorn it would stall every
other request, so there it must run in the threadpool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from local.lambda_events import SHAPES, LambdaClient
from service.handler import build_handler
from service.store import EventStore
from tests.conftest import new_event


def _on_event_loop_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class WhereCalled:
    """The app's store, noting for every call whether it ran on the event loop's thread."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.on_loop: list[bool] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.on_loop.append(_on_event_loop_thread())
            return method(*args, **kwargs)

        return call


Send = Callable[..., int]


def every_route(send: Send) -> None:
    body = new_event()
    event_path = f"/events/{body['eventId']}"
    assert send("POST", "/events", json_body=body) == 201
    assert send("GET", event_path) == 200
    assert send("GET", "/events", query=[("status", "active")]) == 200
    assert send("PATCH", event_path, json_body={"capacity": 10}) == 200
    assert send("PUT", event_path, json_body={"capacity": 20}) == 200
    assert send("DELETE", event_path) == 204


@pytest.fixture
def recorded(app: FastAPI) -> WhereCalled:
    app.state.store = WhereCalled(app.state.store)
    recorder: WhereCalled = app.state.store
    return recorder


def test_under_lambda_the_store_runs_inline(app: FastAPI, recorded: WhereCalled) -> None:
    lambda_client = LambdaClient(build_handler(app), SHAPES[0])

    def send(method: str, path: str, **options: Any) -> int:
        return lambda_client.request(method, path, **options).status_code

    every_route(send)
    assert recorded.on_loop == [True] * 6


def test_under_an_asgi_server_the_store_runs_in_worker_threads(
    client: TestClient, recorded: WhereCalled
) -> None:
    def send(method: str, path: str, json_body: Any = None, query: Any = None) -> int:
        return client.request(method, path, json=json_body, params=query).status_code

    every_route(send)
    assert recorded.on_loop == [False] * 6
