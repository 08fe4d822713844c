"""Dependencies shared by the routes, as `Annotated` aliases, and how routes call the store.

The dependencies are `async def`: they never block, and FastAPI runs every plain `def`
dependency in a worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Header, Request
from pydantic.json_schema import SkipJsonSchema
from starlette.concurrency import run_in_threadpool

from service.errors import UnsupportedMediaType, VersionMismatch
from service.store import EventStore

MAX_IF_MATCH_TAGS = 10
_ENTITY_TAG = r'(?:W/)?"[0-9]{1,18}"'
# "*", or one to ten of the entity tags this API issues; anything else can never match.
IF_MATCH_PATTERN = (
    rf"^(?:\*|{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG}){{0,{MAX_IF_MATCH_TAGS - 1}}})$"
)
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_VERSION = re.compile(r'"([0-9]+)"')


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


async def expected_versions(
    if_match: Annotated[
        str | SkipJsonSchema[None],
        Header(
            description="Only act if the event is at this version: the ETag of a previous "
            'response, such as `"3"`. `*` matches any existing event.',
            json_schema_extra={"pattern": IF_MATCH_PATTERN},
        ),
    ] = None,
) -> list[int] | None:
    """The versions an `If-Match` header accepts; None when any version will do.

    A value that is not `*` or a list of our entity tags can never match, so it is a 412
    like any other mismatch.
    """
    if if_match is None:
        return None
    value = if_match.strip(" \t")
    if not _IF_MATCH.fullmatch(value):
        raise VersionMismatch(f"If-Match {if_match[:100]!r} matches no version of this event.")
    if value == "*":
        return None
    return [int(version) for version in _VERSION.findall(value)]


IfMatchDep = Annotated[list[int] | None, Depends(expected_versions)]


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
