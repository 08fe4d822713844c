"""One pure-ASGI middleware for what every request needs, whatever route answers it.

It assigns the request id, caps the body size (chunked bodies included), adds the
security headers, turns any unexpected exception into a bare 500 problem, and writes
the single access-log line. Pure ASGI rather than BaseHTTPMiddleware: no extra task or
body copy per request. Also here: Starlette's CORS middleware, answering a refused
preflight with a problem document instead of plain text.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import http_problem, problem_response
from service.logs import logger

MAX_BODY_BYTES = 64 * 1024
# The methods whose routes read a body; other requests' bodies are never read, so never
# refused (and their operations document no 413).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
REQUEST_ID_HEADER = "x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
NOSNIFF = (b"x-content-type-options", b"nosniff")
# API answers are per-request and may be private: never cached, unless a route says otherwise.
NO_STORE = (b"cache-control", b"no-store")


TOO_LARGE_DETAIL = f"The request body is larger than {MAX_BODY_BYTES} bytes."


class BodyTooLarge(HTTPException):
    """Raised from `receive` mid-body: FastAPI lets HTTPExceptions out of body parsing, and
    the app's HTTP error handler turns it into the same document as a declared length."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE_DETAIL)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _aws_ids(scope: Scope) -> dict[str, Any]:
    """The Lambda and API Gateway request ids, when Mangum put the event in the scope."""
    ids: dict[str, Any] = {}
    context = scope.get("aws.context")
    if context is not None:
        ids["lambda_request_id"] = getattr(context, "aws_request_id", None)
    event = scope.get("aws.event")
    if isinstance(event, dict):
        ids["apigw_request_id"] = (event.get("requestContext") or {}).get("requestId")
    return ids


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent_id = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = sent_id if sent_id and _SANE_REQUEST_ID.match(sent_id) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                headers.append(NOSNIFF)
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = _header(scope, b"content-length")
            if (
                scope.get("method") in BODY_METHODS
                and declared
                and declared.isdigit()
                and int(declared) > MAX_BODY_BYTES
            ):
                await http_problem(413, TOO_LARGE_DETAIL)(scope, receive, send_with_headers)
            else:
                await self.app(scope, _limited(receive), send_with_headers)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                response = problem_response(
                    500, "Internal server error", "The server failed to answer this request."
                )
                await response(scope, receive, send_with_headers)
        finally:
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    **_aws_ids(scope),
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )


def _limited(receive: Receive) -> Receive:
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise BodyTooLarge()
        return message

    return limited_receive


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight is a problem document like any error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in {"content-length", "content-type"}
        }
        return problem_response(
            400,
            "Cross-origin request refused",
            f"This cross-origin request is not allowed: {refused}.",
            "cors-refused",
            headers=headers,
        )
