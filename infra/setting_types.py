"""How a stack setting is declared, read from the stack file and described when refused.

infra/stack_settings.py declares the settings with these pieces; infra/config.py reads
them from Pulumi and turns the first refusal into one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

import annotated_types
import pulumi
from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core.core_schema import ValidationInfo


class ConfigError(pulumi.RunError):
    """A stack setting is unknown or invalid; the message names it.

    RunError makes Pulumi print the message alone, without a Python traceback.
    """


@dataclass(frozen=True)
class Allowed:
    """What a setting may be, for its error line, when its type alone does not say it."""

    text: str


Flag = Annotated[bool, Allowed("true or false")]
# Spells a setting's full name from its short key: "memorySize" -> "events-api:memorySize".
KeyName = Callable[[str], str]


class SettingsGroup(BaseModel):
    """Settings one component reads, by their stack-file keys (camelCase)."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", strict=True, alias_generator=to_camel, populate_by_name=True
    )
    # Empty in the stack file means "not set" for these fields.
    _empty_is_unset: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _from_stack_file(cls, value: object, info: ValidationInfo) -> object:
        """Pulumi hands every value over as a string: numbers, booleans and lists as JSON."""
        if not isinstance(value, str) or info.field_name is None:
            return value
        if info.field_name in cls._empty_is_unset:
            return value or None
        if _takes_text(cls.model_fields[info.field_name].annotation):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value  # refused by the field's type, with the raw text in the message

    def check(self, key: KeyName) -> None:
        """Refuse combinations of this group's settings; `key` spells a setting's full name."""


def _takes_text(annotation: Any) -> bool:
    """str, or str | None: a value the stack file holds as text, never JSON."""
    return annotation is str or (
        get_origin(annotation) in (Union, UnionType) and str in get_args(annotation)
    )


def field_name(group: type[SettingsGroup], alias: str) -> str:
    (name,) = [name for name, field in group.model_fields.items() if field.alias == alias]
    return name


def allowed_text(field: FieldInfo) -> str:
    """What a field accepts, in words, from its Allowed note or its type and bounds."""
    for item in field.metadata:
        if isinstance(item, Allowed):
            return item.text
    annotation = field.annotation
    if get_origin(annotation) is Literal:
        return f"one of {', '.join(map(str, get_args(annotation)))}"
    bounds: dict[str, Any] = {}
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge | annotated_types.Gt | annotated_types.Le):
            bounds.update({name: getattr(item, name) for name in item.__slots__})
    if annotation is int:
        return f"an integer from {bounds['ge']} to {bounds['le']}"
    if annotation is float:
        return f"a number above {bounds['gt']:g} and at most {bounds['le']:g}"
    raise TypeError(f"say with Allowed(...) what {field.alias} accepts")
