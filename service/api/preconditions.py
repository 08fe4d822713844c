"""`If-Match` and `If-None-Match` on the writes to one event, as RFC 9110 §13 defines them.

- Each header is one comma-separated list, however many lines it came in (§5.3).
- An entity tag is opaque: this API's are `"<version>"`, so `"01"` is no tag of ours.
- If-Match compares strongly (§13.1.1): `W/"1"` never matches. `*` matches an event that
  exists. A value that is not `*` or a list of entity tags can never match.
- If-None-Match compares weakly (§13.1.2): the write is refused if the event is at a listed
  version, or exists at all for `*`.
- A false condition is a 412, except a false If-None-Match on a read (GET, HEAD): 304 Not
  Modified, with the event's ETag (§13.2.2 step 3). They are judged only once the request
  is otherwise valid (§13.2.1): the dependency only reads the headers, the route judges
  them after FastAPI has validated the body. A read of an event that does not exist is a
  404 whatever its conditions say (§13.2.1: without them it would not be a 2xx).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.errors import EventNotFound, VersionMismatch

MAX_TAGS = 10
# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, in a list with optional
# whitespace and empty elements.
_LIST_ELEMENT = re.compile(r'[ \t]*(?:((?:W/)?"[\x21\x23-\x7e\x80-\xff]*")[ \t]*)?(?:,|$)')
_OUR_TAG = re.compile(r'"([1-9][0-9]{0,17})"')
# What the OpenAPI document shows: `*`, or a list of this API's entity tags.
_ENTITY_TAG = r'(?:W/)?"[0-9]{1,18}"'
IF_MATCH_PATTERN = rf"^(?:\*|{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG}){{0,{MAX_TAGS - 1}}})$"


def _entity_tags(value: str) -> list[str] | None:
    """The tags of a header's list (`["*"]` for `*`); None when the value is no list."""
    value = value.strip(" \t")
    if value == "*":
        return ["*"]
    tags: list[str] = []
    position = 0
    while position < len(value):
        element = _LIST_ELEMENT.match(value, position)
        if element is None or element.end() == position:
            return None
        if element.group(1):
            tags.append(element.group(1))
        position = element.end()
    return tags if 0 < len(tags) <= MAX_TAGS else None


def _versions(tags: list[str], weak: bool) -> set[int]:
    """The versions the tags name; weak tags count only for the weak comparison."""
    versions = set()
    for tag in tags:
        if tag.startswith("W/"):
            if not weak:
                continue
            tag = tag[2:]
        if match := _OUR_TAG.fullmatch(tag):
            versions.add(int(match.group(1)))
    return versions


@dataclass(frozen=True)
class Preconditions:
    """The request's If-Match and If-None-Match, each all its lines joined; None if absent."""

    if_match: str | None
    if_none_match: str | None

    def expected_versions(self, event_id: str) -> list[int] | None:
        """If-Match as the versions a write may apply to; None when any will do."""
        versions = self._matched_versions()
        if versions is None:
            return None
        if not versions:
            raise self._refused(event_id, f"If-Match {_shown(self.if_match)} matches no version")
        return sorted(versions)

    def check_match(self, event_id: str, current_version: int) -> None:
        """Step 1 of §13.2.2 against the event as it is now: a false If-Match is a 412."""
        versions = self._matched_versions()
        if versions is not None and current_version not in versions:
            raise VersionMismatch.at(event_id, current_version)

    def _matched_versions(self) -> set[int] | None:
        """The versions If-Match names (strongly); None when it is absent or `*`."""
        if self.if_match is None:
            return None
        tags = _entity_tags(self.if_match)
        return None if tags == ["*"] else _versions(tags or [], weak=False)

    def check_none_match(self, event_id: str, current_version: int) -> None:
        """Step 3 of §13.2.2 for a write, against the event as it is now."""
        listed = self._none_match_lists(current_version)
        if listed is None:
            raise self._refused(
                event_id,
                f"If-None-Match {_shown(self.if_none_match)} is not a list of tags",
            )
        if listed:
            raise self._refused(event_id, f"If-None-Match: it is at version {current_version}")

    def has_current(self, event_id: str, current_version: int) -> bool:
        """Steps 1 and 3 of §13.2.2 for a read of the event as it is: True when the
        client's If-None-Match lists its version (or is `*`), which makes the answer a 304;
        a false If-Match is a 412, and so is an If-None-Match that is no list of tags, as
        on a write."""
        self.check_match(event_id, current_version)
        listed = self._none_match_lists(current_version)
        if listed is None:
            raise VersionMismatch(
                f"If-None-Match {_shown(self.if_none_match)} is not a list of entity tags."
            )
        return listed

    def _none_match_lists(self, current_version: int) -> bool | None:
        """Whether If-None-Match (weakly) lists the version or is `*`; False when it is
        absent, None when it is no list of tags."""
        if self.if_none_match is None:
            return False
        tags = _entity_tags(self.if_none_match)
        if tags is None:
            return None
        return tags == ["*"] or current_version in _versions(tags, weak=True)

    @contextmanager
    def missing_is_refused(self) -> Iterator[None]:
        """If-Match is false when the event does not exist (§13.1.1): 412, not 404."""
        try:
            yield
        except EventNotFound as error:
            if self.if_match is None:
                raise
            raise VersionMismatch(f"{error.detail} If-Match cannot match.") from None

    @staticmethod
    def _refused(event_id: str, reason: str) -> VersionMismatch:
        return VersionMismatch(f"Not changed: {reason} (event {event_id!r}).")


def _shown(value: str | None) -> str:
    """A header's value as a refusal quotes it: its first 100 characters."""
    return repr((value or "")[:100])


def _joined(request: Request, name: str) -> str | None:
    lines = request.headers.getlist(name)
    return ", ".join(lines) if lines else None


IF_MATCH_DOC = (
    "Only act if the event is at this version: the ETag of a previous response, "
    'such as `"3"` (weak tags never match). `*` matches any existing event.'
)
IF_NONE_MATCH_DOC = (
    "Only act if the event is at none of these versions (weak tags count); `*`: "
    "only if the event does not exist. A read finding the event at a listed version "
    "answers 304 Not Modified; an update or delete is refused with 412."
)
# How the OpenAPI document shows the two headers on each route that reads them
# (`openapi_extra`): declared as FastAPI header parameters instead, both would be validated
# on every request, for nothing, since their values are read from every line below.
DOCUMENTED_HEADERS = [
    {
        "name": name.lower(),
        "in": "header",
        "required": False,
        "schema": {
            "type": "string",
            "description": doc,
            "pattern": IF_MATCH_PATTERN,
            "title": name,
        },
        "description": doc,
    }
    for name, doc in (("If-Match", IF_MATCH_DOC), ("If-None-Match", IF_NONE_MATCH_DOC))
]


async def read_preconditions(request: Request) -> Preconditions:
    # async: FastAPI would run a plain function in its threadpool, on every request.
    return Preconditions(_joined(request, "if-match"), _joined(request, "if-none-match"))


PreconditionsDep = Annotated[Preconditions, Depends(read_preconditions)]
