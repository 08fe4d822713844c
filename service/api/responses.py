"""The problem-document responses each route declares in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from service.errors import PROBLEM_MEDIA_TYPE
from service.models import Problem

_DESCRIPTIONS = {
    400: "Malformed request: body is not JSON, or the cursor is not one this API issued",
    404: "No event with this eventId",
    409: "An event with this eventId already exists; it is left untouched",
    412: "If-Match does not match the event's current version",
    413: "Request body larger than 64 KiB",
    415: "Request body is not application/json",
    422: "Invalid field or parameter; `errors` names each one",
    503: "DynamoDB is unavailable or throttling; retry after `Retry-After` seconds",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": _DESCRIPTIONS[status],
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        if status == 503:
            response["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
        responses[status] = response
    return responses
