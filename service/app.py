"""create_app(): the FastAPI application, its middleware, routers and error handlers.

One function builds the whole app from a `service.settings.Settings` (and, for tests, a
ready DynamoDB client), so the Lambda handler, `make run` and the tests all serve the
same thing. It also owns the OpenAPI document: every error response is declared as
`application/problem+json` with the `Problem` schema, as the error handlers send it.
"""

from __future__ import annotations

import http
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.api import events, health
from service.api.idempotency import IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER
from service.api.strict_json import MalformedBody
from service.docs import add_docs
from service.errors import (
    PROBLEM_MEDIA_TYPE,
    EventsError,
    StoreUnavailable,
    error_response,
    http_problem,
    problem_response,
)
from service.field_errors import bounded, field_errors
from service.logs import configure_logging, logger
from service.methods import MethodsMiddleware, served_methods
from service.middleware import ProblemCORSMiddleware, RequestContextMiddleware
from service.settings import Settings, get_settings
from service.store import EventStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

API_DESCRIPTION = """
Create, read, list, update and delete events. Every error is an RFC 9457
`application/problem+json` document; every response carries `X-Request-ID`.

Writes are conditional: send the `ETag` of a response back as `If-Match` to update or
delete only the version you saw.
"""
# API Gateway's header for API keys (it reads it case-insensitively).
API_KEY_HEADER = "x-api-key"


def create_app(
    settings: Settings | None = None, dynamodb_client: DynamoDBClient | None = None
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Events API",
        version="1.0.0",
        description=API_DESCRIPTION,
        # service.docs serves both pages from the service itself, not from a CDN.
        docs_url=None,
        redoc_url=None,
        # A body with no Content-Type is read as JSON (curl users); any other non-JSON
        # type is refused with 415 by the routes' require_json dependency.
        strict_content_type=False,
        # "/events/x/" is a 404 problem, not a 307 to a URL rebuilt from Host and scheme
        # (behind API Gateway that URL can lose the stage or the https).
        redirect_slashes=False,
    )
    app.state.store = EventStore.from_settings(settings, dynamodb_client)
    app.include_router(health.router)
    app.include_router(events.router)
    add_docs(app)
    _add_error_handlers(app)
    app.add_middleware(MethodsMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "X-Request-ID",
                "X-Api-Key",
                IDEMPOTENCY_KEY_HEADER,
            ],
            expose_headers=["ETag", "Location", "X-Request-ID", "Retry-After", REPLAYED_HEADER],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware)
    api_key_required = settings.api_key_required
    app.openapi = lambda: _openapi(app, api_key_required)  # type: ignore[method-assign]
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EventsError)
    async def events_error(request: Request, error: EventsError) -> Response:
        if isinstance(error, StoreUnavailable):
            logger.warning(
                "event store unavailable",
                extra={
                    "request_id": request.scope.get("state", {}).get("request_id"),
                    "cause": type(error.__cause__).__name__,
                },
            )
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            return _malformed_json()
        errors, count = bounded(field_errors(error.errors()))
        return problem_response(
            422,
            "Invalid request",
            "One or more fields or parameters are invalid; see errors"
            + (f" (the first {len(errors)} of {count})." if count > len(errors) else "."),
            "validation-error",
            errors=errors,
            error_count=count,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 400 and isinstance(error.__cause__, ValueError | RecursionError):
            # FastAPI's own 400 for a body the parser refused: not UTF-8, a repeated key,
            # nested too deep, or an integer of more digits than Python converts.
            cause = error.__cause__
            return _malformed_json(cause.detail if isinstance(cause, MalformedBody) else None)
        phrase = http.HTTPStatus(error.status_code).phrase
        detail = error.detail if isinstance(error.detail, str) else None
        if error.status_code == 404 and detail in (None, phrase):
            detail = f"Nothing is served at {request.url.path[:200]!r}."
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(served_methods(request.scope))
        return http_problem(error.status_code, detail, headers)


def _malformed_json(detail: str | None = None) -> Response:
    return problem_response(
        400, "Malformed JSON", detail or "The request body is not valid JSON.", "malformed-json"
    )


def _openapi(app: FastAPI, api_key_required: bool) -> dict[str, Any]:
    """FastAPI's document, with every error response declared as problem+json, and the
    API key when the stack requires one (the docs pages themselves need none)."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        openapi_version=app.openapi_version,
    )
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_MEDIA_TYPE: problem}
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    if api_key_required:
        # Gives Swagger UI's "Try it out" an Authorize button, and generated clients a key.
        schema["components"]["securitySchemes"] = {
            "apiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
        }
        schema["security"] = [{"apiKey": []}]
    app.openapi_schema = schema
    return schema
