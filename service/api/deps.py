"""Dependencies shared by the routes, as `Annotated` aliases."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request

from service.errors import UnsupportedMediaType, VersionMismatch
from service.store import EventStore

MAX_IF_MATCH_TAGS = 10
_ENTITY_TAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def require_json(request: Request) -> None:
    """Bodies must be JSON; a missing Content-Type is read as JSON, as curl users expect."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaType(f"Send the body as application/json, not {media_type[:100]!r}.")


def get_store(request: Request) -> EventStore:
    store: EventStore = request.app.state.store
    return store


StoreDep = Annotated[EventStore, Depends(get_store)]


def expected_versions(
    if_match: Annotated[
        str | None,
        Header(
            description="Only act if the event is at this version: the ETag of a previous "
            'response, such as `"3"`. `*` matches any existing event.',
        ),
    ] = None,
) -> list[int] | None:
    """The versions an `If-Match` header accepts; None when any version will do.

    A tag that is not one of ours can never match, so it is a 412 like any other mismatch.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    versions = []
    for tag in if_match.split(",")[:MAX_IF_MATCH_TAGS]:
        match = _ENTITY_TAG.match(tag.strip())
        if match:
            versions.append(int(match.group(1)))
    if not versions:
        raise VersionMismatch(f"If-Match {if_match[:100]!r} matches no version of this event.")
    return versions


IfMatchDep = Annotated[list[int] | None, Depends(expected_versions)]
