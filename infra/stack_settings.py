"""The stack's settings, one typed group per component that reads them.

The stack files keep flat keys (`events-api:memorySize`); each group takes the keys it
owns (camelCase of its field names) and checks them, then `check` refuses combinations
AWS or the program cannot serve. infra/config.py reads and parses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from infra.limits import (
    DYNAMODB_CALL_LIMIT_SECONDS,
    INTEGRATION_TIMEOUT_SECONDS,
    MAX_TIMEOUT_SECONDS,
    MIN_TIMEOUT_SECONDS,
)
from infra.setting_types import Allowed, ConfigError, Flag, KeyName, SettingsGroup, field_name
from service.table import DEFAULT_STATUS_SHARDS, MAX_STATUS_SHARDS

# The one architecture setting drives both the image build and the function.
PLATFORMS = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}
# The only values CloudWatch Logs accepts for retentionInDays.
RetentionDays = Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096]
LOG_RETENTION_DAYS: tuple[int, ...] = get_args(RetentionDays)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
PINNED_IMAGE = r"^[^:@]+@sha256:[0-9a-f]{64}$"
SNS_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"


def _not_zero(value: int) -> int:
    if value == 0:
        raise ValueError("0 would throttle every request")
    return value


def _origins(value: tuple[str, ...]) -> tuple[str, ...]:
    for origin in value:
        if not _ORIGIN.match(origin):
            raise PydanticCustomError(
                "setting",
                "has {origin}: an origin is scheme://host[:port], with no path",
                {"origin": repr(origin)},
            )
    return value


class DataSettings(SettingsGroup):
    """The table (infra/data.py)."""

    _empty_is_unset = ("existing_table_name",)
    # prod: deletion protection on, and the table survives `pulumi destroy`.
    protect_data: Flag = False
    # Recovery only (docs/operations.md): serve a restored table instead of the stack's own.
    existing_table_name: Annotated[
        str | None,
        Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$"),
        Allowed("a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), or empty"),
    ] = None


class ImageSettings(SettingsGroup):
    """The ECR repository and the image (infra/image.py)."""

    _empty_is_unset = ("image_uri",)
    architecture: Literal["arm64", "x86_64"] = "arm64"
    # At least two, so the image before the current one is still there to roll back to.
    ecr_keep_images: Annotated[int, Field(ge=2, le=1_000)] = 5
    # Recovery only: run an image already in the stack's repository instead of building.
    image_uri: Annotated[
        str | None,
        Field(pattern=PINNED_IMAGE),
        Allowed("<repository url>@sha256:<64 hex digits>, or empty"),
    ] = None

    @property
    def platform(self) -> str:
        """The Docker platform of the image, matching the function's architecture."""
        return PLATFORMS[self.architecture]


class FunctionSettings(SettingsGroup):
    """The Lambda function, its versions and its `live` alias (infra/function.py)."""

    memory_size: Annotated[int, Field(ge=128, le=10_240)] = 512
    timeout: Annotated[
        int,
        Field(ge=MIN_TIMEOUT_SECONDS, le=MAX_TIMEOUT_SECONDS),
        Allowed(
            f"an integer from {MIN_TIMEOUT_SECONDS} to {MAX_TIMEOUT_SECONDS} (seconds): API "
            f"Gateway stops waiting for the function after {INTEGRATION_TIMEOUT_SECONDS} s, "
            f"and the service needs up to {DYNAMODB_CALL_LIMIT_SECONDS:g} s for one DynamoDB "
            "call with its retries"
        ),
    ] = 25
    # -1 is Lambda's "no reservation"; 0 would throttle every request, so it is refused.
    reserved_concurrency: Annotated[
        int,
        Field(ge=-1, le=10_000),
        AfterValidator(_not_zero),
        Allowed("-1 (unreserved) or an integer from 1 to 10000"),
    ] = -1
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    cors_origins: Annotated[
        tuple[str, ...],
        Field(strict=False),
        AfterValidator(_origins),
        Allowed("a list of origins such as [https://app.example.com]"),
    ] = ()
    status_shards: Annotated[int, Field(ge=1, le=MAX_STATUS_SHARDS)] = DEFAULT_STATUS_SHARDS
    # 0: read what statusShards writes (0 rather than empty: the stack files hold a number).
    # Higher only while a migration changes the count (docs/scaling.md).
    status_shards_read: Annotated[
        int,
        Field(ge=0, le=MAX_STATUS_SHARDS),
        Allowed(
            "0 (read what statusShards writes) or an integer from statusShards "
            f"to {MAX_STATUS_SHARDS}"
        ),
    ] = 0
    # 0: `live` serves the version this deploy publishes. A number pins it to that
    # published version: an instant rollback (docs/operations.md).
    live_version: Annotated[
        int,
        Field(ge=0),
        Allowed("0 (the version this deploy publishes) or a published version number"),
    ] = 0
    # Share of `live`'s traffic sent to the newly published version, the rest staying on
    # liveVersion: a canary.
    canary_percent: Annotated[int, Field(ge=0, le=99)] = 0
    # Environments kept initialised on `live`, billed whether used or not.
    provisioned_concurrency: Annotated[int, Field(ge=0, le=10_000)] = 0
    # Lambda SnapStart on published versions (AWS refuses it with provisioned concurrency).
    snap_start: Flag = False

    @property
    def reserved(self) -> int | None:
        """The reserved concurrency, None when unreserved."""
        return None if self.reserved_concurrency == -1 else self.reserved_concurrency

    @property
    def status_shards_to_read(self) -> int:
        """The shards a listing reads: more than are written only during a migration."""
        return self.status_shards_read or self.status_shards

    @property
    def pinned_version(self) -> int | None:
        return self.live_version or None

    def check(self, key: KeyName) -> None:
        # The service refuses the same at start-up (service/settings.py); refused here, it
        # never reaches a deployed function.
        if self.status_shards_read and self.status_shards_read < self.status_shards:
            raise ConfigError(
                f"{key('statusShardsRead')} must be 0 or at least statusShards "
                f"({self.status_shards}): a listing that skips shards being written misses "
                f"events, got {str(self.status_shards_read)!r}"
            )
        if self.canary_percent and not self.live_version:
            raise ConfigError(
                f"{key('canaryPercent')} {self.canary_percent} needs {key('liveVersion')}: "
                "the published version that keeps the rest of the traffic"
            )
        if self.snap_start and self.provisioned_concurrency:
            raise ConfigError(
                f"{key('snapStart')} true cannot go with {key('provisionedConcurrency')} "
                f"{self.provisioned_concurrency}: AWS refuses SnapStart on a function with "
                "provisioned concurrency; set one of the two (provisionedConcurrency 0, or "
                "snapStart false)"
            )
        reserved = self.reserved
        if reserved is not None and self.provisioned_concurrency > reserved:
            raise ConfigError(
                f"{key('provisionedConcurrency')} must be at most reservedConcurrency "
                f"({reserved}): Lambda keeps provisioned environments inside the "
                f"reservation, got {str(self.provisioned_concurrency)!r}"
            )


@dataclass(frozen=True)
class Throttle:
    rate_limit: float  # requests per second, sustained
    burst_limit: int  # requests at once


@dataclass(frozen=True)
class UsagePlan:
    """What one API key may do: its own throttle and a request quota per period."""

    throttle: Throttle
    quota_limit: int
    quota_period: str


# 10,000 requests per second and a burst of 5,000 are the account-level defaults.
RateLimit = Annotated[float, Field(gt=0, le=10_000)]
BurstLimit = Annotated[int, Field(ge=1, le=5_000)]


class ApiSettings(SettingsGroup):
    """API Gateway and its firewall (infra/api.py, infra/waf.py)."""

    throttle_rate_limit: RateLimit = 50
    throttle_burst_limit: BurstLimit = 100
    require_api_key: Flag = False
    api_key_rate_limit: RateLimit = 20
    api_key_burst_limit: BurstLimit = 40
    api_key_quota_limit: Annotated[int, Field(ge=1, le=1_000_000_000)] = 100_000
    api_key_quota_period: Literal["DAY", "WEEK", "MONTH"] = "DAY"
    # API Gateway's CloudWatch role is one setting per account and region: exactly one
    # stack there owns it (README, "Settings worth knowing").
    manage_api_gateway_account: Flag = False
    enable_waf: Flag = False
    # AWS WAF's own bounds for a rate-based rule, counted per IP over 5 minutes.
    waf_rate_limit: Annotated[int, Field(ge=10, le=2_000_000_000)] = 1_000

    @property
    def stage_throttle(self) -> Throttle:
        return Throttle(self.throttle_rate_limit, self.throttle_burst_limit)

    @property
    def usage_plan(self) -> UsagePlan | None:
        """The API key's plan, or None when the API needs no key."""
        if not self.require_api_key:
            return None
        throttle = Throttle(self.api_key_rate_limit, self.api_key_burst_limit)
        return UsagePlan(throttle, self.api_key_quota_limit, self.api_key_quota_period)


class TelemetrySettings(SettingsGroup):
    """Logs and traces, of the function and of the API alike."""

    log_retention_days: Annotated[
        RetentionDays,
        Allowed(f"a CloudWatch Logs retention: {', '.join(map(str, LOG_RETENTION_DAYS))}"),
    ] = 7
    tracing: Flag = False


class AlarmSettings(SettingsGroup):
    """Where the alarms go (infra/alarms.py)."""

    _empty_is_unset = ("alarm_email", "alarm_topic_arn")
    alarm_email: Annotated[
        str | None,
        Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        Allowed("an e-mail address, or empty"),
    ] = None
    # An SNS topic the stack does not own (a team's on-call topic), instead of its own.
    alarm_topic_arn: Annotated[
        str | None,
        Field(pattern=SNS_TOPIC_ARN),
        Allowed("an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), or empty"),
    ] = None
    # The explicit opt-out: alarms that notify nobody (dev).
    silent_alarms: Flag = False

    def check(self, key: KeyName) -> None:
        targets = [name for name in ("alarmEmail", "alarmTopicArn") if self._value(name)]
        if len(targets) > 1:
            raise ConfigError(
                f"{key('alarmEmail')} and {key('alarmTopicArn')} are both set: set one (an "
                "e-mail address subscribes to the stack's own topic; a topic ARN replaces it)"
            )
        if self.silent_alarms and targets:
            raise ConfigError(
                f"{key('silentAlarms')} true contradicts {key(targets[0])}: "
                "set silentAlarms false to notify it, or empty the target"
            )
        if not self.silent_alarms and not targets:
            raise ConfigError(
                f"{key('alarmEmail')} or {key('alarmTopicArn')} must be set: this stack's "
                f"alarms would notify nobody. Set {key('silentAlarms')} true to deploy "
                "without notifications (as dev does)"
            )

    def _value(self, alias: str) -> str | None:
        value: str | None = getattr(self, field_name(type(self), alias))
        return value


GROUPS: dict[str, type[SettingsGroup]] = {
    "data": DataSettings,
    "image": ImageSettings,
    "function": FunctionSettings,
    "api": ApiSettings,
    "telemetry": TelemetrySettings,
    "alarms": AlarmSettings,
}


class StackConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    stack: str
    data: DataSettings
    image: ImageSettings
    function: FunctionSettings
    api: ApiSettings
    telemetry: TelemetrySettings
    alarms: AlarmSettings
