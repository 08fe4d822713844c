"""Configuration, read once from the environment.

Every setting has a safe local default, so `make run` needs no configuration. In
AWS the Pulumi program sets the same variables on the function.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.table import DEFAULT_STATUS_SHARDS, MAX_STATUS_SHARDS

# Only good for a laptop: every deployed stack sets its own secret (see infra/).
LOCAL_CURSOR_SECRET = "local-development-cursor-secret"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

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
    cursor_secret: str = Field(
        default=LOCAL_CURSOR_SECRET, min_length=16, validation_alias="EVENTS_CURSOR_SECRET"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="EVENTS_CORS_ORIGINS"
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
