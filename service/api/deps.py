"""Dependencies shared by the routes, as `Annotated` aliases, and how routes call the store.

The dependencies are `async def`: they never block, and FastAPI runs every plain `def`
dependency in a worker thread.

A route awaits the store (`event = await store.update(event_id, changes, versions)`):
`StoreDep` hands it an `AsyncEventStore`, which alone decides where the blocking
DynamoDB calls of `EventStore` run for this request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar, Unpack

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from service.errors import UnsupportedMediaType
from service.store import EventRecord, EventStore, ListingQuery, Page
from service.store.idempotency import Created


async def require_json(request: Request) -> None:
    """Bodies must be JSON; a missing Content-Type is read as JSON, as curl users expect."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaType(f"Send the body as application/json, not {media_type[:100]!r}.")


P = ParamSpec("P")
R = TypeVar("R")


class AsyncEventStore:
    """The app's `EventStore` as one request's route awaits it.

    Under Lambda (Mangum puts the event in the scope) the process serves one event at a
    time, so the calls run inline: a worker thread would add a thread start and two
    hand-offs to every invocation, as the thread lives only as long as Mangum's task for
    that one event (bench/README.md has the figures). Under an ASGI server that serves
    many requests at once, they run in the threadpool so the event loop keeps serving.
    """

    def __init__(self, store: EventStore, inline: bool) -> None:
        self._store = store
        self._inline = inline

    async def create(self, fields: Mapping[str, Any]) -> EventRecord:
        return await self._run(self._store.create, fields)

    async def create_with_key(self, scope: str, key: str, fields: Mapping[str, Any]) -> Created:
        return await self._run(self._store.create_with_key, scope, key, fields)

    async def get(self, event_id: str) -> EventRecord:
        return await self._run(self._store.get, event_id)

    async def update(
        self,
        event_id: str,
        changes: Mapping[str, Any],
        expected_versions: Sequence[int] | None = None,
    ) -> EventRecord:
        return await self._run(self._store.update, event_id, changes, expected_versions)

    async def delete(self, event_id: str, expected_versions: Sequence[int] | None = None) -> None:
        await self._run(self._store.delete, event_id, expected_versions)

    async def list_events(self, **query: Unpack[ListingQuery]) -> Page:
        return await self._run(self._store.list_events, **query)

    async def _run(self, method: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._inline:
            return method(*args, **kwargs)
        return await run_in_threadpool(method, *args, **kwargs)


async def get_store(request: Request) -> AsyncEventStore:
    return AsyncEventStore(request.app.state.store, inline="aws.event" in request.scope)


StoreDep = Annotated[AsyncEventStore, Depends(get_store)]
