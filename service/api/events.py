"""The /events routes: validate, make one store call, shape the HTTP response."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic.json_schema import SkipJsonSchema

from service.api.deps import IfMatchDep, StoreDep, call_store, require_json
from service.api.idempotency import (
    REPLAYED_HEADER,
    IdempotencyKeyDep,
    caller_scope,
    with_key_answers,
)
from service.api.responses import event_responses, page_responses, problem_responses
from service.cursor import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from service.models import (
    EVENT_ID_PATTERN,
    EVENT_ID_RULE,
    MAX_EVENT_ID_LENGTH,
    Event,
    EventCreate,
    EventDate,
    EventPage,
    EventStatus,
    EventUpdate,
)
from service.store import EventRecord

router = APIRouter(prefix="/events", tags=["events"])

LIST_PARAMETERS = frozenset({"status", "limit", "cursor", "from", "to"})
EventIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_EVENT_ID_LENGTH,
        pattern=EVENT_ID_PATTERN,
        description=EVENT_ID_RULE,
        examples=["pycon-2026"],
    ),
]
JSON_BODY = [Depends(require_json)]


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


def _query_error(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


def _check_query(request: Request, date_range: bool, status: EventStatus | None) -> None:
    names = request.query_params.keys()
    for name in names:
        if name not in LIST_PARAMETERS:
            raise _query_error(name, "Unknown query parameter.")
        if len(request.query_params.getlist(name)) > 1:
            raise _query_error(name, "Give this parameter at most once.")
    if date_range and status is None:
        raise _query_error("status", "status is required for date ranges (from, to).")


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
    """
    fields = body.model_dump(by_alias=True, mode="json", exclude_none=True)
    if key is None:
        event = await call_store(request, store.create, fields)
        return event_response(request, event, status_code=201, created=True)
    created = await call_store(request, store.create_with_key, caller_scope(request), key, fields)
    response = event_response(request, created.event, status_code=201, created=True)
    if created.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


@router.get(
    "",
    response_model=EventPage,
    summary="List events",
    operation_id="listEvents",
    responses=page_responses(400, 413, 422, 503),
)
async def list_events(
    request: Request,
    store: StoreDep,
    status: Annotated[
        EventStatus | SkipJsonSchema[None],
        Query(description="Only events with this status, ordered by date then eventId"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1-100")] = 50,
    cursor: Annotated[
        str | SkipJsonSchema[None],
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="`nextCursor` of the previous page, with the same `status`, `from` "
            "and `to`; opaque",
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
    _check_query(request, date_from is not None or date_to is not None, status)
    if date_from and date_to and date_from > date_to:
        raise _query_error("from", "from must not be after to.")
    page = await call_store(
        request,
        store.list_events,
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
    "/{event_id}",
    response_model=Event,
    summary="Get an event",
    operation_id="readEvent",
    responses=event_responses(200, 404, 413, 422, 503),
)
async def read_event(request: Request, event_id: EventIdPath, store: StoreDep) -> Response:
    return event_response(request, await call_store(request, store.get, event_id))


async def _update(
    request: Request,
    event_id: EventIdPath,
    body: EventUpdate,
    store: StoreDep,
    versions: IfMatchDep,
) -> Response:
    changes = body.model_dump(by_alias=True, mode="json", exclude_unset=True)
    if changes.pop("eventId", event_id) != event_id:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "eventId"),
                    "msg": "eventId cannot change: it must equal the id in the path.",
                    "type": "value_error",
                }
            ]
        )
    return event_response(
        request, await call_store(request, store.update, event_id, changes, versions)
    )


_UPDATE_DOC = {
    "response_model": Event,
    "responses": event_responses(200, 400, 404, 412, 413, 415, 422, 503),
    "dependencies": JSON_BODY,
    "description": "Change only the fields sent (both PUT and PATCH are partial updates). "
    "With `If-Match`, the update happens only if the event is still at that version.",
}


@router.put(
    "/{event_id}",
    summary="Update an event",
    operation_id="updateEvent",
    **_UPDATE_DOC,  # type: ignore[arg-type]
)
async def update_event(
    request: Request,
    event_id: EventIdPath,
    body: EventUpdate,
    store: StoreDep,
    versions: IfMatchDep,
) -> Response:
    return await _update(request, event_id, body, store, versions)


@router.patch(
    "/{event_id}",
    summary="Update an event (same as PUT)",
    operation_id="patchEvent",
    **_UPDATE_DOC,  # type: ignore[arg-type]
)
async def patch_event(
    request: Request,
    event_id: EventIdPath,
    body: EventUpdate,
    store: StoreDep,
    versions: IfMatchDep,
) -> Response:
    return await _update(request, event_id, body, store, versions)


@router.delete(
    "/{event_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an event",
    operation_id="deleteEvent",
    responses=problem_responses(404, 412, 413, 422, 503),
)
async def delete_event(
    request: Request, event_id: EventIdPath, store: StoreDep, versions: IfMatchDep
) -> Response:
    await call_store(request, store.delete, event_id, versions)
    return Response(status_code=204)
