"""The problem-document responses each route declares in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from service.errors import PROBLEM_MEDIA_TYPE
from service.models import Problem

_DESCRIPTIONS = {
    400: "Malformed request: body is not JSON, or the cursor is not one this API issued",
    404: "No event with this eventId",
    409: "An event with this eventId already exists; it is left untouched",
    412: "If-Match or If-None-Match is false for the event as it is now",
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


_ETAG = {
    "description": 'The event\'s version as an entity tag, such as `"3"`: send it as If-Match',
    "schema": {"type": "string", "pattern": r'^"[0-9]+"$'},
}
_LOCATION = {"description": "Path of the new event", "schema": {"type": "string"}}
_BY_ID = {"path.eventId": "$response.body#/eventId"}
_AT_THIS_VERSION = {**_BY_ID, "header.If-Match": "$response.header.ETag"}
# OpenAPI links: what a client (or a stateful fuzzer) can do next with the event it got.
_EVENT_LINKS = {
    "readEvent": {"operationId": "readEvent", "parameters": _BY_ID},
    "updateEvent": {"operationId": "updateEvent", "parameters": _AT_THIS_VERSION},
    "patchEvent": {"operationId": "patchEvent", "parameters": _BY_ID},
    "deleteEvent": {"operationId": "deleteEvent", "parameters": _AT_THIS_VERSION},
}
_NEXT_PAGE_LINKS = {
    "nextPage": {
        "operationId": "listEvents",
        # With the same status, from and to as the request that got this page.
        "parameters": {"query.cursor": "$response.body#/nextCursor"},
    }
}


def event_responses(
    status: int, *problems: int, created: bool = False, not_modified: bool = False
) -> dict[int | str, Any]:
    """A route answering with one event: its ETag (and Location), links, then its problems;
    `not_modified` for a read that If-None-Match can answer with a 304."""
    headers = {"ETag": _ETAG, **({"Location": _LOCATION} if created else {})}
    success = {"description": "The event", "headers": headers, "links": _EVENT_LINKS}
    responses: dict[int | str, Any] = {status: success}
    if not_modified:
        responses[304] = {
            "description": "If-None-Match lists the event's version: the client's copy is "
            "current. No body.",
            "headers": {"ETag": _ETAG},
        }
    return {**responses, **problem_responses(*problems)}


def page_responses(*problems: int) -> dict[int | str, Any]:
    return {
        200: {"description": "A page of events", "links": _NEXT_PAGE_LINKS},
        **problem_responses(*problems),
    }
