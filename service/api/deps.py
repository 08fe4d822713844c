"""Dependencies shared by the routes, as `Annotated` aliases, and how routes call the store.

The dependencies are `async def`: they never block, and FastAPI runs every plain `def`
dependency in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from service.errors import UnsupportedMediaType
from service.store import EventStore


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


async def get_store(request: Request) -> EventStore:
    store: EventStore = request.app.state.store
    return store


StoreDep = Annotated[EventStore, Depends(get_store)]


P = ParamSpec("P")
R = TypeVar("R")


async def call_store(
    request: Request, method: Callable[P, R], *args: P.args, **kwargs: P.kwargs
) -> R:
    """Run a blocking store method for this request.

    Under Lambda (Mangum puts the event in the scope) the process serves one event at a
    time, so the call runs inline: a worker thread would add a thread start and two
    hand-offs to every invocation, as the thread lives only as long as Mangum's task for
    that one event (bench/README.md has the figures). Under an ASGI server that serves
    many requests at once, the call runs in the threadpool so the event loop keeps serving.
    """
    if "aws.event" in request.scope:
        return method(*args, **kwargs)
    return await run_in_threadpool(method, *args, **kwargs)
