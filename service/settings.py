"""Configuration, read once from the environment.

Every setting has a safe local default, so `make run` needs no configuration. In
AWS the Pulumi program sets the same variables on the function.
"""

from __future__ import annotations

import os
from functools import cache, lru_cache
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from service.table import DEFAULT_STATUS_SHARDS, MAX_STATUS_SHARDS, keys_table_name

# Only good for a laptop: every deployed stack sets its own secret (see infra/).
LOCAL_CURSOR_SECRET = "local-development-cursor-secret"  # noqa: S105


class Settings(BaseModel):
    """Each field reads the environment variable its alias names; values given win.

    A plain pydantic model rather than pydantic-settings' BaseSettings: that package's
    import (its cloud secret providers, dotenv, CLI parsing) cost every cold start about
    75 ms, for a lookup in os.environ (bench/README.md has the figures).
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    def __init__(self, **values: Any) -> None:
        variables = {name: os.environ[name] for name in variable_names() if name in os.environ}
        super().__init__(**{**variables, **values})

    table_name: str = Field(default="Events", validation_alias="EVENTS_TABLE_NAME")
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
        default=LOCAL_CURSOR_SECRET, min_length=16, validation_alias="EVENTS_CURSOR_SECRET"
    )
    cors_origins: list[str] = Field(default_factory=list, validation_alias="EVENTS_CORS_ORIGINS")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    # API Gateway checks the key, never the service; set by a stack that requires one
    # (requireApiKey), so that the OpenAPI document declares it.
    api_key_required: bool = Field(default=False, validation_alias="EVENTS_API_KEY_REQUIRED")
    # Lambda's API Gateway integration gives up after 29 s; these keep one request
    # (all SDK retries included) well inside that, and inside the function timeout.
    dynamodb_connect_timeout: float = Field(
        default=2.0, gt=0, validation_alias="EVENTS_DYNAMODB_CONNECT_TIMEOUT"
    )
    dynamodb_read_timeout: float = Field(
        default=3.0, gt=0, validation_alias="EVENTS_DYNAMODB_READ_TIMEOUT"
    )
    dynamodb_max_attempts: int = Field(
        default=3, ge=1, le=10, validation_alias="EVENTS_DYNAMODB_MAX_ATTEMPTS"
    )
    # A listing may need several DynamoDB calls; none starts after this many seconds, so
    # a request lasts at most this plus one call's limit (10 + 18 s by default).
    dynamodb_request_budget: float = Field(
        default=10.0, gt=0, validation_alias="EVENTS_DYNAMODB_REQUEST_BUDGET"
    )

    # Idempotency-Key records (service/store/idempotency.py): their table (unset: the
    # events table's name plus "-idempotency-keys") and how long a key is remembered.
    idempotency_table_name: str | None = Field(
        default=None, min_length=3, validation_alias="EVENTS_IDEMPOTENCY_TABLE_NAME"
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

    @model_validator(mode="after")
    def _reads_cover_writes(self) -> Settings:
        if self.status_shards_read is not None and self.status_shards_read < self.status_shards:
            raise ValueError(
                "EVENTS_STATUS_SHARDS_READ must be at least EVENTS_STATUS_SHARDS: a listing "
                "that skips shards being written would miss events."
            )
        return self

    @property
    def status_shards_to_read(self) -> int:
        return self.status_shards_read or self.status_shards


@cache
def variable_names() -> frozenset[str]:
    """The environment variables the fields read: each alias, or each of its choices."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names.update(choice for choice in choices if isinstance(choice, str))
    return frozenset(names)


@lru_cache
def get_settings() -> Settings:
    return Settings()
