"""Configuration, read once from the environment and checked whole before anything starts.

Every setting has a safe local default, so `make run` needs no configuration. In
AWS the Pulumi program sets the same variables on the function. A bad value is a
SettingsError: one line per variable naming it, what is wrong and what is allowed, and
never the value of a secret.
"""

from __future__ import annotations

import os
import re
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from service.table import DEFAULT_STATUS_SHARDS, MAX_STATUS_SHARDS, keys_table_name, shards_to_read

# Only good for a laptop: every deployed stack sets its own secret (see infra/).
LOCAL_CURSOR_SECRET = "local-development-cursor-secret"  # noqa: S105
# A deployed secret signs every cursor of every instance: long and random (infra/ makes 48).
MIN_DEPLOYED_SECRET_LENGTH = 32
# Set by the Lambda runtime (and its emulator) in every execution environment.
LAMBDA_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# What a browser sends in Origin: scheme://host[:port], with no path, not even "/".
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
# DynamoDB's rule for table names.
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
TABLE_NAME_RULE: dict[str, Any] = {"allowed": "3 to 255 letters, digits, '_', '-' or '.'"}


class SettingsError(ValueError):
    """The environment configures the service wrongly: one line per bad variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseModel):
    """Each field reads the environment variable its alias names; values given win.

    A plain pydantic model rather than pydantic-settings' BaseSettings: that package's
    import (its cloud secret providers, dotenv, CLI parsing) cost every cold start about
    75 ms, for a lookup in os.environ (bench/README.md has the figures).
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    def __init__(self, **values: Any) -> None:
        variables = {name: os.environ[name] for name in variable_names() if name in os.environ}
        given = {**variables, **values}
        try:
            super().__init__(**given)
        except ValidationError as error:
            # `from None`: the chained ValidationError would print the values, secrets too.
            raise SettingsError([_problem(detail, given) for detail in error.errors()]) from None

    table_name: str = Field(
        default="Events",
        pattern=TABLE_NAME,
        validation_alias="EVENTS_TABLE_NAME",
        json_schema_extra=TABLE_NAME_RULE,
    )
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    # AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_DYNAMODB are read by botocore itself; this one
    # exists so tests and local tooling can point one client at DynamoDB Local explicitly.
    dynamodb_endpoint_url: str | None = Field(
        default=None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")
    )
    status_shards: int = Field(
        default=DEFAULT_STATUS_SHARDS,
        ge=1,
        le=MAX_STATUS_SHARDS,
        validation_alias="EVENTS_STATUS_SHARDS",
    )
    # Shards a listing reads; more than are written only while a migration changes the
    # count (see docs/scaling.md). Unset: the same as status_shards.
    status_shards_read: int | None = Field(
        default=None, ge=1, le=MAX_STATUS_SHARDS, validation_alias="EVENTS_STATUS_SHARDS_READ"
    )
    cursor_secret: str = Field(
        default=LOCAL_CURSOR_SECRET,
        validate_default=True,  # the default is what Lambda must refuse
        min_length=16,
        validation_alias="EVENTS_CURSOR_SECRET",
        repr=False,
        json_schema_extra={
            "secret": True,
            "allowed": f"locally 16 characters or more; on Lambda a random secret of "
            f"{MIN_DEPLOYED_SECRET_LENGTH} characters or more (each stack sets its own)",
        },
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        validation_alias="EVENTS_CORS_ORIGINS",
        json_schema_extra={
            "allowed": "comma-separated origins, scheme://host[:port] with no path or "
            "trailing slash, such as https://app.example.com"
        },
    )
    log_level: str = Field(
        default="INFO",
        validation_alias="LOG_LEVEL",
        json_schema_extra={"allowed": f"one of {', '.join(LOG_LEVELS)}"},
    )
    # API Gateway checks the key, never the service; set by a stack that requires one
    # (requireApiKey), so that the OpenAPI document declares it.
    api_key_required: bool = Field(default=False, validation_alias="EVENTS_API_KEY_REQUIRED")
    # Lambda's API Gateway integration gives up after 29 s; these keep one request
    # (all SDK retries included) well inside that, and inside the function timeout.
    dynamodb_connect_timeout: float = Field(
        default=2.0, gt=0, allow_inf_nan=False, validation_alias="EVENTS_DYNAMODB_CONNECT_TIMEOUT"
    )
    dynamodb_read_timeout: float = Field(
        default=3.0, gt=0, allow_inf_nan=False, validation_alias="EVENTS_DYNAMODB_READ_TIMEOUT"
    )
    dynamodb_max_attempts: int = Field(
        default=3, ge=1, le=10, validation_alias="EVENTS_DYNAMODB_MAX_ATTEMPTS"
    )
    # A listing may need several DynamoDB calls; none starts after this many seconds, so
    # a request lasts at most this plus one call's limit (10 + 18 s by default).
    dynamodb_request_budget: float = Field(
        default=10.0, gt=0, allow_inf_nan=False, validation_alias="EVENTS_DYNAMODB_REQUEST_BUDGET"
    )

    # Idempotency-Key records (service/store/idempotency.py): their table (unset: the
    # events table's name plus "-idempotency-keys") and how long a key is remembered.
    idempotency_table_name: str | None = Field(
        default=None,
        pattern=TABLE_NAME,
        validation_alias="EVENTS_IDEMPOTENCY_TABLE_NAME",
        json_schema_extra=TABLE_NAME_RULE,
    )
    idempotency_key_ttl: int = Field(
        default=24 * 3600, ge=1, validation_alias="EVENTS_IDEMPOTENCY_KEY_TTL"
    )

    @property
    def keys_table_name(self) -> str:
        return self.idempotency_table_name or keys_table_name(self.table_name)

    @property
    def dynamodb_call_limit(self) -> float:
        """The longest one DynamoDB call can take: every attempt, and the back-off between.

        Standard-mode retries wait at most min(2**i, 20) s before retry i+1 (throttling;
        other errors wait far less): see botocore.retries.standard.ExponentialBackoff.
        """
        attempts = self.dynamodb_max_attempts
        backoff = sum(min(2.0**retry, 20.0) for retry in range(attempts - 1))
        return attempts * (self.dynamodb_connect_timeout + self.dynamodb_read_timeout) + backoff

    @property
    def request_time_limit(self) -> float:
        """The longest a request waits on DynamoDB before it answers (503 at worst)."""
        return self.dynamodb_request_budget + self.dynamodb_call_limit

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _are_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not ORIGIN.match(origin):
                path = urlsplit(origin).path if "://" in origin else ""
                reason = "has a path" if path else "is not scheme://host[:port]"
                raise ValueError(f"has {origin!r}, which {reason}")
        return origins

    @field_validator("log_level")
    @classmethod
    def _is_log_level(cls, level: str) -> str:
        if level.upper() not in LOG_LEVELS:
            raise ValueError("is not a log level")
        return level.upper()

    @field_validator("cursor_secret")
    @classmethod
    def _strong_on_lambda(cls, secret: str) -> str:
        # The built-in secret is public (it is in this file): a deployed function using it
        # would accept cursors anyone can forge. Never echo the value.
        if not os.environ.get(LAMBDA_VARIABLE):
            return secret
        if secret == LOCAL_CURSOR_SECRET:
            raise ValueError("is unset or the built-in local secret, which Lambda refuses")
        if len(secret) < MIN_DEPLOYED_SECRET_LENGTH or len(set(secret)) == 1:
            raise ValueError("is too weak for Lambda (short, or one repeated character)")
        return secret

    @model_validator(mode="after")
    def _reads_cover_writes(self) -> Settings:
        try:
            shards_to_read(self.status_shards, self.status_shards_read)
        except ValueError as error:
            raise ValueError(
                f"EVENTS_STATUS_SHARDS_READ={self.status_shards_read} is below "
                f"EVENTS_STATUS_SHARDS={self.status_shards}; allowed: at least "
                "EVENTS_STATUS_SHARDS, since a listing that skips shards being written "
                "would miss events."
            ) from error
        return self

    @property
    def status_shards_to_read(self) -> int:
        return shards_to_read(self.status_shards, self.status_shards_read)


@cache
def variable_names() -> frozenset[str]:
    """The environment variables the fields read: each alias, or each of its choices."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names.update(choice for choice in choices if isinstance(choice, str))
    return frozenset(names)


def _field(name: str) -> tuple[str, FieldInfo] | None:
    """The field an error location names: by one of its variables, or by its own name."""
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if name == field_name or name in choices:
            return field_name, info
    return None


def _variable(field_name: str, info: FieldInfo, given: dict[str, Any]) -> str:
    alias = info.validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
    names = [choice for choice in choices if isinstance(choice, str)]
    return next((name for name in names if name in given), names[0] if names else field_name)


def _allowed(info: FieldInfo) -> str:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("allowed"), str):
        return str(extra["allowed"])
    bounds = {type(item).__name__: item for item in info.metadata}
    if info.annotation is bool:
        return "true or false"
    if "Ge" in bounds and "Le" in bounds:
        return f"a whole number from {bounds['Ge'].ge} to {bounds['Le'].le}"
    if "Ge" in bounds:
        return f"a whole number, {bounds['Ge'].ge} or more"
    if "Gt" in bounds:
        return f"a number of seconds above {bounds['Gt'].gt}"
    return "a text value"


_WRONG = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "int_type": "is not a whole number",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "finite_number": "is not a finite number",
    "bool_parsing": "is not true or false",
    "greater_than": "is out of range",
    "greater_than_equal": "is out of range",
    "less_than": "is out of range",
    "less_than_equal": "is out of range",
    "string_too_short": "is too short",
    "string_pattern_mismatch": "is not a valid name",
}


def _problem(detail: ErrorDetails, given: dict[str, Any]) -> str:
    """One line for one error: the variable, what is wrong, what is allowed; no secret."""
    found = _field(str(detail["loc"][0])) if detail["loc"] else None
    if found is None:  # a rule across variables: its message names them
        return str(detail.get("ctx", {}).get("error", detail["msg"]))
    field_name, info = found
    name = _variable(field_name, info, given)
    secret = isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")
    value = given.get(name)
    if detail["type"] == "value_error":
        wrong = str(detail.get("ctx", {}).get("error", detail["msg"]))
    elif value == "":
        wrong = "is empty"
    else:
        wrong = _WRONG.get(detail["type"], "is not valid")
    if value is None:
        shown = name
    elif secret:
        shown = f"{name} (value not shown)"
    else:
        shown = f"{name}={str(value)[:80]!r}"
    return f"{shown} {wrong}; allowed: {_allowed(info)}."


@lru_cache
def get_settings() -> Settings:
    return Settings()
