"""The OpenAPI document declares the API key exactly when the stack requires one."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings

OPERATIONS = {"get", "put", "post", "patch", "delete"}


def served_document(settings: Settings) -> dict[str, Any]:
    # The document as a browser gets it; building the app opens no connection.
    response = TestClient(create_app(settings)).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_with_a_key_required_every_operation_declares_the_header() -> None:
    document = served_document(Settings.model_validate({"EVENTS_API_KEY_REQUIRED": "true"}))

    assert document["components"]["securitySchemes"] == {
        "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}
    }
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if method in OPERATIONS
    ]
    assert {path for path, _, _ in operations} == {"/health", "/events", "/events/{eventId}"}
    for path, method, operation in operations:
        security = operation.get("security", document.get("security"))
        assert security == [{"apiKey": []}], (method, path)


@pytest.mark.parametrize("environment", [{}, {"EVENTS_API_KEY_REQUIRED": "false"}])
def test_without_a_key_required_the_document_declares_none(environment: dict[str, str]) -> None:
    document = served_document(Settings.model_validate(environment))

    assert "securitySchemes" not in document["components"]
    assert "security" not in document
    assert not any(
        "security" in operation
        for methods in document["paths"].values()
        for operation in methods.values()
    )


def test_the_setting_is_read_from_the_environment_the_stack_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTS_API_KEY_REQUIRED", "true")
    assert Settings().api_key_required is True
    monkeypatch.setenv("EVENTS_API_KEY_REQUIRED", "false")
    assert Settings().api_key_required is False


def test_no_route_runs_a_dependency_in_the_threadpool(settings: Settings) -> None:
    """FastAPI runs a plain-function dependency in its threadpool, on every request: one
    such (the preconditions', once) put the warm GET at 1.98 times its floor instead of
    1.47. Every dependency of every route, however deep, is a coroutine function."""
    from fastapi.dependencies.models import Dependant
    from fastapi.routing import APIRoute

    def calls(dependant: Dependant) -> list[Any]:
        found = [dependant.call] if dependant.call is not None else []
        return found + [call for sub in dependant.dependencies for call in calls(sub)]

    def api_routes(routes: list[Any]) -> list[APIRoute]:
        # Included routers sit in the table as one entry each, holding their own routes.
        found = []
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):
                found += api_routes(route.original_router.routes)
        return found

    routes = api_routes(create_app(settings).routes)
    assert {route.path for route in routes} >= {"/events", "/events/{eventId}", "/health"}
    for route in routes:
        for dependency in calls(route.dependant)[1:]:  # [0] is the endpoint itself
            assert inspect.iscoroutinefunction(dependency), (route.path, dependency)
