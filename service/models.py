"""The event's schema family and the rules each field follows, written once.

`EventBase` holds the fields and their rules; `EventCreate` adds the optional eventId,
`EventUpdate` is the same fields all optional, `Event` is the public shape every response
has. Anything else that needs the field names (`PUBLIC_FIELDS`) or a valid event
(`sample_event`) takes them from here.

JSON fields are camelCase; Python attributes are snake_case. Request models forbid
unknown fields, so a misspelt field is a 422 rather than silently dropped data. Every
rule is one validator with a plain message, so an invalid value is one error in words.
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
    model_validator,
)
from pydantic.alias_generators import to_camel

# URL-safe characters, but never "." or "..": clients resolve those as dot-segments, so
# /events/.. would reach "/" instead of the event. (No lookahead: pydantic's regex has none.)
EVENT_ID_PATTERN = r"^(?:[A-Za-z0-9\-_.~]*[A-Za-z0-9\-_~][A-Za-z0-9\-_.~]*|\.{3,})$"
MAX_EVENT_ID_LENGTH = 100
EVENT_ID_RULE = "1-100 characters of A-Z a-z 0-9 - _ . ~, not just . or .."
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MAX_CAPACITY = 1_000_000

# Character classes shared by the validators and the patterns the OpenAPI document shows,
# so the two cannot disagree. Control characters (C0 with NUL, DEL, C1) never belong in
# text.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Tabs and line breaks: fine in a description, not in a one-line field.
_BREAKS = r"\t\n\r\u2028\u2029"
# What a reader cannot see: the spaces str.strip() removes, and the format characters that
# draw nothing (zero-width space, direction marks and overrides, word joiner, BOM). A
# value made only of these is blank. Written out rather than taken from unicodedata, so the
# published pattern does not change with the Python version.
_SPACES = (
    r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
    r"\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
)
_CONTROL_CHARS = re.compile(f"[{_CONTROLS}]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile(f"[{_BREAKS}]")
_VISIBLE = re.compile(f"[^{_CONTROLS}{_BREAKS}{_SPACES}]")
ONE_LINE_TEXT_PATTERN = (
    f"^[^{_CONTROLS}{_BREAKS}]*[^{_CONTROLS}{_BREAKS}{_SPACES}][^{_CONTROLS}{_BREAKS}]*$"
)
TEXT_PATTERN = f"^[^{_CONTROLS}]*[^{_CONTROLS}{_BREAKS}{_SPACES}][^{_CONTROLS}]*$"
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_DATE = re.compile(DATE_PATTERN)


class EventStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


def _event_id(value: str) -> str:
    if not 1 <= len(value) <= MAX_EVENT_ID_LENGTH or not _EVENT_ID.fullmatch(value):
        raise ValueError(f"must be {EVENT_ID_RULE}")
    return value


def _text(max_length: int, one_line: bool) -> AfterValidator:
    """One check for a text field, so a bad value gets one message in words."""

    def check(value: str) -> str:
        if _SURROGATES.search(value):
            # JSON can escape half of a UTF-16 pair ("\ud800"); no UTF-8 text holds one.
            raise ValueError("must be valid Unicode text")
        if _CONTROL_CHARS.search(value):
            raise ValueError("must not contain control characters")
        if one_line and _LINE_BREAKS.search(value):
            raise ValueError("must be a single line")
        if not _VISIBLE.search(value):
            raise ValueError("must not be blank")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value

    return AfterValidator(check)


def _calendar_date(value: str) -> str:
    try:
        # fromisoformat alone also takes 20260514 and 2026-W20-4.
        if not _DATE.fullmatch(value):
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real calendar date, YYYY-MM-DD") from None
    return value


def _whole_number(value: object) -> object:
    # JSON has one number type: 2500.0 is the integer 2500 to JSON Schema, and so to us.
    # (The body parser already reads JSON numbers exactly, so 0.99999999999999999 reaches
    # this as a Decimal and stays refused: service/api/strict_json.py.)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _whole_number_from(low: int, high: int, text: bool = False) -> BeforeValidator:
    """A whole number in range; `text`: given as digits (a query parameter), so `1.0` and
    `1e2` are refused like any other non-integer."""
    message = f"must be a whole number from {low} to {high}"

    def check(value: object) -> int:
        if text and isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value[:20])
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(message)
        return value

    return BeforeValidator(check)


EventId = Annotated[
    str,
    AfterValidator(_event_id),
    Field(
        description=EVENT_ID_RULE,
        examples=["pycon-2026"],
        json_schema_extra={
            "minLength": 1,
            "maxLength": MAX_EVENT_ID_LENGTH,
            "pattern": EVENT_ID_PATTERN,
        },
    ),
]


def _text_schema(max_length: int, one_line: bool, example: str) -> Any:
    """The same rules as `_text`, as the OpenAPI document shows them."""
    return Field(
        examples=[example],
        json_schema_extra={
            "minLength": 1,
            "maxLength": max_length,
            "pattern": ONE_LINE_TEXT_PATTERN if one_line else TEXT_PATTERN,
        },
    )


Title = Annotated[str, _text(200, True), _text_schema(200, True, "PyCon 2026")]
Description = Annotated[
    str, _text(1000, False), _text_schema(1000, False, "Three days of talks and sprints.")
]
Location = Annotated[str, _text(200, True), _text_schema(200, True, "Pittsburgh, PA")]
Organizer = Annotated[str, _text(200, True), _text_schema(200, True, "Python Software Foundation")]
EventDate = Annotated[
    str,
    AfterValidator(_calendar_date),
    Field(
        description="A calendar date, YYYY-MM-DD",
        examples=["2026-05-14"],
        json_schema_extra={"format": "date", "pattern": DATE_PATTERN},
    ),
]
Capacity = Annotated[
    int,
    _whole_number_from(1, MAX_CAPACITY),
    BeforeValidator(_whole_number),
    Field(
        description="Whole number of seats",
        examples=[2500],
        json_schema_extra={"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY},
    ),
]

MAX_PAGE_SIZE = 100
PageSize = Annotated[
    int,
    _whole_number_from(1, MAX_PAGE_SIZE, text=True),
    Field(json_schema_extra={"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
]


Status = Annotated[EventStatus, Field(examples=[EventStatus.ACTIVE.value])]


class _Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False)


class _Request(_Schema):
    model_config = ConfigDict(extra="forbid")


class EventBase(_Request):
    """The fields a client sets, and their rules."""

    event_id: EventId
    title: Title
    description: Description
    date: EventDate
    location: Location
    capacity: Capacity
    organizer: Organizer
    status: Status = EventStatus.ACTIVE


class EventCreate(EventBase):
    """A new event. `eventId` is generated when absent; `status` defaults to active."""


def _update_schema(schema: dict[str, Any]) -> None:
    # A field left out is left unchanged: no default to show.
    for field in schema["properties"].values():
        field.pop("default", None)
    schema["minProperties"] = 1


class EventUpdate(EventBase):
    """A partial update: only the fields sent change; send at least one besides eventId.

    `eventId` may be sent only if it equals the id in the path.
    """

    model_config = ConfigDict(json_schema_extra=_update_schema)

    @model_validator(mode="after")
    def _changes_something(self) -> EventUpdate:
        if not self.model_fields_set - {"event_id"}:
            raise ValueError("Send at least one field to change.")
        return self


def _optional(model: type[BaseModel], *names: str) -> None:
    """Make fields optional with the same annotation, so the same rules and the same
    published schema, and a default that is never validated (a field sent as null is still
    checked, and refused). A union with None would instead report each invalid value twice,
    once per member. Pydantic copies a parent's fields into a subclass: EventBase keeps its
    fields required."""
    for name in names:
        model.model_fields[name].default = None
    model.model_rebuild(force=True)


_optional(EventCreate, "event_id")
_optional(EventUpdate, *EventUpdate.model_fields)


class Event(EventBase):
    """A stored event, as every response shows it: the fields, with eventId and status
    always present, and what the server sets."""

    status: Status
    created_at: str = Field(
        description="RFC 3339 UTC, set by the server", examples=["2026-01-10T09:30:00.000Z"]
    )
    updated_at: str = Field(
        description="RFC 3339 UTC, set by the server", examples=["2026-01-10T09:30:00.000Z"]
    )
    version: int = Field(ge=1, description="1 on create, +1 on every update", examples=[1])


PUBLIC_FIELDS: tuple[str, ...] = tuple(
    field.alias or name for name, field in Event.model_fields.items()
)
"""An event's fields as every response shows them, in order."""


def _example(model: type[BaseModel]) -> dict[str, Any]:
    """Each field's first example, from the field rules themselves."""
    example = {}
    for name, field in model.model_fields.items():
        if field.examples:
            example[field.alias or name] = field.examples[0]
    return example


def sample_event(**overrides: Any) -> dict[str, Any]:
    """A valid create body, from the fields' own examples; override any field (`...`
    leaves it out). Tests, tools and the benchmarks take their events from here."""
    body = {**_example(EventCreate), **overrides}
    return {name: value for name, value in body.items() if value is not ...}


Event.model_config["json_schema_extra"] = {"examples": [_example(Event)]}
Event.model_rebuild(force=True)


class EventPage(_Schema):
    items: list[Event]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page"
    )


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class FieldError(BaseModel):
    field: str = Field(description="Public name of the offending field or parameter")
    message: str


MAX_FIELD_ERRORS = 20


class Problem(BaseModel):
    """An RFC 9457 problem document; every 4xx and 5xx answer is one."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None,
        description=f"Present on 422: one entry per invalid field or parameter, the first "
        f"{MAX_FIELD_ERRORS}",
    )
    error_count: int | None = Field(
        default=None, alias="errorCount", description="Present on 422: how many are invalid"
    )
