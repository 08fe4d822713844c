"""Request and response schemas of the events API, and the rules each field follows.

JSON fields are camelCase; Python attributes are snake_case. Request models forbid
unknown fields, so a misspelt field is a 422 rather than silently dropped data.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

# URL-safe characters, but never "." or "..": clients resolve those as dot-segments, so
# /events/.. would reach "/" instead of the event. (No lookahead: pydantic's regex has none.)
EVENT_ID_PATTERN = r"^(?:[A-Za-z0-9\-_.~]*[A-Za-z0-9\-_~][A-Za-z0-9\-_.~]*|\.{3,})$"
MAX_EVENT_ID_LENGTH = 100
EVENT_ID_RULE = "1-100 characters of A-Z a-z 0-9 - _ . ~, not just . or .."
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MAX_CAPACITY = 1_000_000

# Character classes shared by the validators and the patterns the OpenAPI document shows,
# so the two cannot disagree. Control characters (C0 with NUL, DEL, C1) never belong in
# text. (Lone surrogates, which JSON can escape but UTF-8 cannot encode, are refused by
# pydantic before any of this runs.)
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Tabs and line breaks: fine in a description, not in a one-line field.
_BREAKS = r"\t\n\r\u2028\u2029"
# The other characters str.strip() removes: a value made only of these is blank.
_SPACES = r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
_CONTROL_CHARS = re.compile(f"[{_CONTROLS}]")
_LINE_BREAKS = re.compile(f"[{_BREAKS}]")
ONE_LINE_TEXT_PATTERN = (
    f"^[^{_CONTROLS}{_BREAKS}]*[^{_CONTROLS}{_BREAKS}{_SPACES}][^{_CONTROLS}{_BREAKS}]*$"
)
TEXT_PATTERN = f"^[^{_CONTROLS}]*[^{_CONTROLS}{_BREAKS}{_SPACES}][^{_CONTROLS}]*$"


class EventStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if _CONTROL_CHARS.search(value):
        raise ValueError("must not contain control characters")
    return value


def _single_line(value: str) -> str:
    if _LINE_BREAKS.search(value):
        raise ValueError("must be a single line")
    return value


def _calendar_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real calendar date (YYYY-MM-DD)") from None
    return value


EventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_EVENT_ID_LENGTH, pattern=EVENT_ID_PATTERN),
    Field(
        description=EVENT_ID_RULE,
        examples=["pycon-2026"],
    ),
]
# A required, non-blank text field; the line-break rule applies to the one-line fields.
Text = Annotated[
    str,
    StringConstraints(min_length=1),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": TEXT_PATTERN}),
]
Line = Annotated[
    Text, AfterValidator(_single_line), Field(json_schema_extra={"pattern": ONE_LINE_TEXT_PATTERN})
]
Title = Annotated[Line, StringConstraints(max_length=200), Field(examples=["PyCon 2026"])]
Description = Annotated[
    Text, StringConstraints(max_length=1000), Field(examples=["Three days of talks and sprints."])
]
Location = Annotated[Line, StringConstraints(max_length=200), Field(examples=["Pittsburgh, PA"])]
Organizer = Annotated[
    Line, StringConstraints(max_length=200), Field(examples=["Python Software Foundation"])
]
EventDate = Annotated[
    str,
    StringConstraints(pattern=DATE_PATTERN),
    AfterValidator(_calendar_date),
    Field(
        description="A calendar date, YYYY-MM-DD",
        examples=["2026-05-14"],
        json_schema_extra={"format": "date"},
    ),
]


def _whole_number(value: object) -> object:
    # JSON has one number type: 2500.0 is the integer 2500 to JSON Schema, and so to us.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Capacity = Annotated[
    StrictInt,
    Field(ge=1, le=MAX_CAPACITY, description="Whole number of seats", examples=[2500]),
    BeforeValidator(_whole_number),
]


class _Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False)


class _Request(_Schema):
    model_config = ConfigDict(extra="forbid")


class EventCreate(_Request):
    """A new event. `eventId` is generated when absent; `status` defaults to active."""

    event_id: EventId | None = None
    title: Title
    description: Description
    date: EventDate
    location: Location
    capacity: Capacity
    organizer: Organizer
    status: EventStatus = EventStatus.ACTIVE


def _needs_a_change(schema: dict[str, Any]) -> None:
    """In the document: at least one field besides eventId, which alone changes nothing."""
    changeable = [name for name in schema["properties"] if name != "eventId"]
    schema["anyOf"] = [{"required": [name]} for name in changeable]


class EventUpdate(_Request):
    """A partial update: only the fields sent change. At least one field is required.

    `eventId` may be sent only if it equals the id in the path.
    """

    model_config = ConfigDict(json_schema_extra=_needs_a_change)

    # None is only the "not sent" default: a field sent as null is refused, and the
    # document does not advertise null.
    event_id: EventId | SkipJsonSchema[None] = None
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    date: EventDate | SkipJsonSchema[None] = None
    location: Location | SkipJsonSchema[None] = None
    capacity: Capacity | SkipJsonSchema[None] = None
    organizer: Organizer | SkipJsonSchema[None] = None
    status: EventStatus | SkipJsonSchema[None] = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> EventUpdate:
        if not self.model_fields_set - {"event_id"}:
            raise ValueError("Send at least one field to change.")
        return self


class Event(_Schema):
    """A stored event, as every response shows it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "eventId": "pycon-2026",
                    "title": "PyCon 2026",
                    "description": "Three days of talks and sprints.",
                    "date": "2026-05-14",
                    "location": "Pittsburgh, PA",
                    "capacity": 2500,
                    "organizer": "Python Software Foundation",
                    "status": "active",
                    "createdAt": "2026-01-10T09:30:00.000Z",
                    "updatedAt": "2026-01-10T09:30:00.000Z",
                    "version": 1,
                }
            ]
        }
    )

    event_id: EventId
    title: str
    description: str
    date: str
    location: str
    capacity: int
    organizer: str
    status: EventStatus
    created_at: str = Field(description="RFC 3339 UTC, set by the server")
    updated_at: str = Field(description="RFC 3339 UTC, set by the server")
    version: int = Field(ge=1, description="1 on create, +1 on every update")


class EventPage(_Schema):
    items: list[Event]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document; every 4xx and 5xx answer is one."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="Present on 422: one entry per invalid field"
    )
