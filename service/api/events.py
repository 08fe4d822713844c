"""The /events routes: validate, call the store, shape the HTTP response."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic.json_schema import SkipJsonSchema

from service.api.deps import AsyncEventStore, StoreDep, require_json
from service.api.idempotency import (
    REPLAYED_HEADER,
    IdempotencyKeyDep,
    caller_scope,
    with_key_answers,
)
from service.api.preconditions import DOCUMENTED_HEADERS, Preconditions, PreconditionsDep
from service.api.query import query_error
from service.api.responses import event_responses, page_responses, problem_responses
from service.api.route import ApiRoute
from service.cursor import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from service.models import (
    Event,
    EventCreate,
    EventDate,
    EventId,
    EventPage,
    EventStatus,
    EventUpdate,
    PageSize,
)
from service.store import EventRecord

router = APIRouter(prefix="/events", tags=["events"], route_class=ApiRoute)

# The URL, the OpenAPI document and every error name it `eventId`, like the body field.
EventIdPath = Annotated[EventId, Path(alias="eventId")]
JSON_BODY = [Depends(require_json)]
# The routes that take If-Match and If-None-Match (PreconditionsDep) document them so.
CONDITIONAL = {"parameters": DOCUMENTED_HEADERS}


def event_response(
    request: Request, event: EventRecord, status_code: int = 200, created: bool = False
) -> Response:
    # The stored record is already exactly the public shape: serialise it once, directly.
    headers = {"ETag": f'"{event["version"]}"'}
    if created:
        headers["Location"] = f"{request.scope.get('root_path', '')}/events/{event['eventId']}"
    return Response(
        content=json.dumps(event, ensure_ascii=False).encode(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "",
    status_code=201,
    response_model=Event,
    summary="Create an event",
    operation_id="createEvent",
    responses=with_key_answers(event_responses(201, 400, 409, 413, 415, 422, 503, created=True)),
    dependencies=JSON_BODY,
)
async def create_event(
    request: Request, body: EventCreate, store: StoreDep, key: IdempotencyKeyDep
) -> Response:
    """Store a new event. Answers 409, leaving the stored event untouched, if the id exists.

    With `Idempotency-Key`, a retry gets the first answer again instead of a second event.
    POST only ever creates: `If-None-Match: *` may say so, and changes nothing.
    """
    fields = body.model_dump(by_alias=True, mode="json", exclude_none=True)
    if key is None:
        event = await store.create(fields)
        return event_response(request, event, status_code=201, created=True)
    created = await store.create_with_key(caller_scope(request), key, fields)
    response = event_response(request, created.event, status_code=201, created=True)
    if created.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


@router.get(
    "",
    response_model=EventPage,
    summary="List events",
    operation_id="listEvents",
    responses=page_responses(400, 422, 503),
)
async def list_events(
    request: Request,
    store: StoreDep,
    status: Annotated[
        EventStatus | SkipJsonSchema[None],
        Query(description="Only events with this status, ordered by date then eventId"),
    ] = None,
    limit: Annotated[PageSize, Query(description="Page size, 1-100")] = 50,
    cursor: Annotated[
        str | SkipJsonSchema[None],
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="`nextCursor` of the previous page, with the same `status`, `from` "
            "and `to`; opaque",
            pattern=CURSOR_PATTERN,
            # FastAPI leaves a validated pattern out of an optional parameter's schema.
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
    date_from: Annotated[
        EventDate | SkipJsonSchema[None],
        Query(
            alias="from",
            description="Earliest event date (YYYY-MM-DD), inclusive; needs `status`; "
            "not after `to`",
        ),
    ] = None,
    date_to: Annotated[
        EventDate | SkipJsonSchema[None],
        Query(alias="to", description="Latest event date (YYYY-MM-DD), inclusive; needs `status`"),
    ] = None,
) -> Response:
    """Page through events. Follow `nextCursor` until it is null to see each event once.

    Without `status` the order is unspecified (a table scan, paged). With `status` the
    events come by date then eventId, optionally between `from` and `to` (either bound
    may be left out); a page costs the same however many events there are.
    Events created while you page show up if they sort after the last one you have seen.
    """
    if (date_from or date_to) and status is None:
        raise query_error("status", "is required for date ranges (from, to)")
    if date_from and date_to and date_from > date_to:
        raise query_error("from", "must not be after to")
    page = await store.list_events(
        status=status.value if status else None,
        limit=limit,
        cursor=cursor,
        date_from=date_from,
        date_to=date_to,
    )
    body: dict[str, Any] = {"items": page.items, "nextCursor": page.next_cursor}
    return Response(
        content=json.dumps(body, ensure_ascii=False).encode(), media_type="application/json"
    )


@router.get(
    "/{eventId}",
    response_model=Event,
    summary="Get an event",
    operation_id="readEvent",
    responses=event_responses(200, 404, 412, 422, 503, not_modified=True),
    openapi_extra=CONDITIONAL,
)
async def read_event(
    request: Request, event_id: EventIdPath, store: StoreDep, preconditions: PreconditionsDep
) -> Response:
    event = await store.get(event_id)
    if preconditions.has_current(event_id, event["version"]):
        # RFC 9110 §15.4.5: the headers a 200 would carry that describe the event, no body.
        return Response(status_code=304, headers={"ETag": f'"{event["version"]}"'})
    return event_response(request, event)


async def _versions(
    store: AsyncEventStore, event_id: str, preconditions: Preconditions
) -> list[int] | None:
    """The versions a write may apply to, after RFC 9110 §13.2.2 steps 1 and 3."""
    versions = preconditions.expected_versions(event_id)
    if preconditions.if_none_match is None:
        return versions
    # If-None-Match needs the current version; the write is then pinned to it, so a
    # change in between is a 412 rather than a write the condition never saw.
    with preconditions.missing_is_refused():
        current = (await store.get(event_id))["version"]
    preconditions.check_match(event_id, current)
    preconditions.check_none_match(event_id, current)
    return [current]


async def _update(
    request: Request,
    event_id: str,
    body: EventUpdate,
    store: AsyncEventStore,
    preconditions: Preconditions,
) -> Response:
    changes = body.model_dump(by_alias=True, mode="json", exclude_unset=True)
    if changes.pop("eventId", event_id) != event_id:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "eventId"),
                    "msg": "cannot change: it must equal the eventId in the path",
                    "type": "value_error",
                }
            ]
        )
    versions = await _versions(store, event_id, preconditions)
    with preconditions.missing_is_refused():
        event = await store.update(event_id, changes, versions)
    return event_response(request, event)


_UPDATE_DOC = {
    "response_model": Event,
    "responses": event_responses(200, 400, 404, 412, 413, 415, 422, 503),
    "dependencies": JSON_BODY,
    "openapi_extra": CONDITIONAL,
    "description": "Change only the fields sent (both PUT and PATCH are partial updates). "
    "With `If-Match`, the update happens only if the event is still at that version; with "
    "`If-None-Match`, only if it is at none of the versions listed.",
}


@router.put(
    "/{eventId}",
    summary="Update an event",
    operation_id="updateEvent",
    **_UPDATE_DOC,  # type: ignore[arg-type]
)
async def update_event(
    request: Request,
    event_id: EventIdPath,
    body: EventUpdate,
    store: StoreDep,
    preconditions: PreconditionsDep,
) -> Response:
    return await _update(request, event_id, body, store, preconditions)


@router.patch(
    "/{eventId}",
    summary="Update an event (same as PUT)",
    operation_id="patchEvent",
    **_UPDATE_DOC,  # type: ignore[arg-type]
)
async def patch_event(
    request: Request,
    event_id: EventIdPath,
    body: EventUpdate,
    store: StoreDep,
    preconditions: PreconditionsDep,
) -> Response:
    return await _update(request, event_id, body, store, preconditions)


@router.delete(
    "/{eventId}",
    status_code=204,
    response_class=Response,
    summary="Delete an event",
    operation_id="deleteEvent",
    responses=problem_responses(404, 412, 422, 503),
    openapi_extra=CONDITIONAL,
)
async def delete_event(
    request: Request, event_id: EventIdPath, store: StoreDep, preconditions: PreconditionsDep
) -> Response:
    versions = await _versions(store, event_id, preconditions)
    with preconditions.missing_is_refused():
        await store.delete(event_id, versions)
    return Response(status_code=204)
