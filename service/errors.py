"""Domain errors, and their one translation to RFC 9457 problem documents.

The store raises these; nothing above it ever sees a botocore type. Each error knows its
HTTP status, so `problem_response` is the single place an error becomes a response.
"""

from __future__ import annotations

import http
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:events-api:problem:"
# Clients (and the SDKs in front of DynamoDB) back off for this long after a 503.
RETRY_AFTER_SECONDS = 1


class EventsError(Exception):
    """Base of every error the service turns into a 4xx or 5xx problem document."""

    status = 500
    slug = "internal-error"
    title = "Internal server error"
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class EventNotFound(EventsError):
    status = 404
    slug = "event-not-found"
    title = "Event not found"


class EventAlreadyExists(EventsError):
    status = 409
    slug = "event-already-exists"
    title = "Event already exists"


class VersionMismatch(EventsError):
    """`If-Match` named a version the event no longer has."""

    status = 412
    slug = "version-mismatch"
    title = "Precondition failed"

    @classmethod
    def at(cls, event_id: str, version: object) -> VersionMismatch:
        """The event is at `version`, which If-Match does not name."""
        return cls(f"Event {event_id!r} is at version {version}; If-Match did not match it.")


class IdempotencyKeyReused(EventsError):
    """The `Idempotency-Key` was first used with another request body."""

    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency key reused"


class IdempotentRequestInFlight(EventsError):
    """A request with the same `Idempotency-Key` is being processed right now."""

    status = 409
    slug = "idempotent-request-in-flight"
    title = "Request in progress"
    headers: ClassVar[Mapping[str, str]] = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class UnsupportedMediaType(EventsError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class InvalidCursor(EventsError):
    status = 400
    slug = "invalid-cursor"
    title = "Invalid cursor"


class StoreUnavailable(EventsError):
    """DynamoDB is unreachable, too slow or throttling after the SDK's own retries."""

    status = 503
    slug = "store-unavailable"
    title = "Service temporarily unavailable"
    headers: ClassVar[Mapping[str, str]] = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class StoreFailure(EventsError):
    """DynamoDB refused a call for a reason no retry gets past (a ValidationException,
    AccessDeniedException, a request the store built wrong); the store logs the cause.

    A 500, not a 503: a 503 with Retry-After tells clients and their SDKs to come back,
    and they would, for a fault only a fix or a deploy removes (a policy, a bug). It also
    keeps these apart from throttling in the logs and on the 5xx alarm's runbook.
    """

    slug = "store-failure"


def problem_body(
    status: int,
    title: str,
    detail: str,
    slug: str | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
    error_count: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
        body["errorCount"] = len(errors) if error_count is None else error_count
    return body


def problem_response(
    status: int,
    title: str,
    detail: str,
    slug: str | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    error_count: int | None = None,
) -> Response:
    return Response(
        content=json.dumps(problem_body(status, title, detail, slug, errors, error_count)).encode(),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def http_problem(
    status: int, detail: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A plain HTTP error (no route, wrong method, body too large): its phrase as title."""
    phrase = http.HTTPStatus(status).phrase
    return problem_response(status, phrase, detail or phrase, headers=headers)


def error_response(error: EventsError) -> Response:
    return problem_response(
        error.status, error.title, error.detail, error.slug, headers=error.headers
    )
