"""The stack's settings: every value the program reads, parsed and checked in one place.

A misspelt key or an out-of-range value stops the program before any resource is
declared, so `pulumi preview` fails with a message that names the setting instead of an
AWS error half-way through `pulumi up`. Pulumi.dev.yaml and Pulumi.prod.yaml list every
setting below with its value for that environment.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi.runtime.config

from service.settings import Settings
from service.table import DEFAULT_STATUS_SHARDS, MAX_STATUS_SHARDS

# The one architecture setting drives both the image build and the function.
PLATFORMS = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The only values CloudWatch Logs accepts for retentionInDays.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096)
QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")
# API Gateway stage names allow only these characters; the stage is named after the stack.
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
PINNED_IMAGE = re.compile(r"^[^:@]+@sha256:[0-9a-f]{64}$")
# API Gateway answers 504 once a Lambda integration has run this long (REST API default).
INTEGRATION_TIMEOUT_SECONDS = 29
# The service must answer (503 at worst) before Lambda stops it: a timed-out invocation is a
# bare 502 from API Gateway. One DynamoDB call with its retries can take this long
# (service/settings.py), a listing starts no call after its budget (at least a second),
# and the answer needs a second more.
DYNAMODB_CALL_LIMIT_SECONDS = Settings.model_construct().dynamodb_call_limit
ANSWER_MARGIN_SECONDS = 1
MIN_TIMEOUT_SECONDS = math.ceil(DYNAMODB_CALL_LIMIT_SECONDS) + 1 + ANSWER_MARGIN_SECONDS


class ConfigError(pulumi.RunError):
    """A stack setting is unknown or invalid; the message names it.

    RunError makes Pulumi print the message alone, without a Python traceback.
    """


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


@dataclass(frozen=True)
class StackConfig:
    stack: str
    architecture: str
    memory_size: int
    timeout: int
    reserved_concurrency: int | None
    log_level: str
    log_retention_days: int
    cors_origins: tuple[str, ...]
    status_shards: int
    status_shards_read: int | None  # None: the shards status_shards writes
    tracing: bool
    throttle_rate_limit: float
    throttle_burst_limit: int
    require_api_key: bool
    api_key_rate_limit: float
    api_key_burst_limit: int
    api_key_quota_limit: int
    api_key_quota_period: str
    manage_api_gateway_account: bool
    protect_data: bool
    ecr_keep_images: int
    alarm_email: str | None
    enable_waf: bool
    waf_rate_limit: int
    existing_table_name: str | None
    image_uri: str | None

    @property
    def platform(self) -> str:
        """The Docker platform of the image, matching the function's architecture."""
        return PLATFORMS[self.architecture]

    @property
    def status_shards_to_read(self) -> int:
        """The shards a listing reads: more than are written only during a migration."""
        return self.status_shards_read or self.status_shards

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


Parser = Callable[[str], object]
_T = TypeVar("_T")


class _Invalid(ValueError):
    """A raw value failed its check; the message says what is expected."""


def _integer(low: int, high: int, expected: str | None = None) -> Callable[[str], int]:
    """An integer from low to high; `expected` replaces the message that says so."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise _Invalid(expected or f"must be an integer from {low} to {high}")
        return value

    return parse


def _optional(unset: str, parse: Callable[[str], _T]) -> Callable[[str], _T | None]:
    """None for the `unset` value (such as "-1" or ""), otherwise what `parse` makes of it."""

    def parse_optional(raw: str) -> _T | None:
        return None if raw == unset else parse(raw)

    return parse_optional


def _number(low_exclusive: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = None
        if value is None or not low_exclusive < value <= high:
            raise _Invalid(f"must be a number above {low_exclusive:g} and at most {high:g}")
        return value

    return parse


def _boolean(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise _Invalid("must be true or false")
    return raw == "true"


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise _Invalid(f"must be one of {', '.join(choices)}")
        return raw

    return parse


def _retention(raw: str) -> int:
    if raw not in {str(days) for days in LOG_RETENTION_DAYS}:
        raise _Invalid(
            f"must be a CloudWatch Logs retention: {', '.join(map(str, LOG_RETENTION_DAYS))}"
        )
    return int(raw)


def _origins(raw: str) -> tuple[str, ...]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid("must be a list of origins such as [https://app.example.com]")
    for origin in value:
        if not _ORIGIN.match(origin):
            raise _Invalid(f"has {origin!r}: an origin is scheme://host[:port], with no path")
    return tuple(value)


def _matching(pattern: re.Pattern[str], expected: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not pattern.match(raw):
            raise _Invalid(expected)
        return raw

    return parse


_email = _matching(_EMAIL, "must be an e-mail address, or empty for no subscription")
_table_name = _matching(
    _TABLE_NAME, "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), or empty"
)
_pinned_image = _matching(PINNED_IMAGE, "must be <repository url>@sha256:<64 hex digits>, or empty")


@dataclass(frozen=True)
class _Setting:
    key: str
    field: str
    parse: Parser
    default: str


# Defaults are the cheap, disposable choice; each stack file states every value anyway.
SETTINGS: tuple[_Setting, ...] = (
    _Setting("architecture", "architecture", _choice(*PLATFORMS), "arm64"),
    _Setting("memorySize", "memory_size", _integer(128, 10_240), "512"),
    # A function still running when API Gateway gives up only keeps working for a client
    # that has had its 504: its timeout must end first. It must also leave the service
    # time to give up on DynamoDB and answer 503 itself.
    _Setting(
        "timeout",
        "timeout",
        _integer(
            MIN_TIMEOUT_SECONDS,
            INTEGRATION_TIMEOUT_SECONDS - 1,
            f"must be an integer from {MIN_TIMEOUT_SECONDS} to {INTEGRATION_TIMEOUT_SECONDS - 1}"
            f" (seconds): API Gateway stops waiting for the function after "
            f"{INTEGRATION_TIMEOUT_SECONDS} s, and the service needs up to "
            f"{DYNAMODB_CALL_LIMIT_SECONDS:g} s for one DynamoDB call with its retries",
        ),
        "25",
    ),
    # 0 would throttle every request, so it is refused rather than deployed.
    _Setting(
        "reservedConcurrency",
        "reserved_concurrency",
        _optional(
            "-1", _integer(1, 10_000, "must be -1 (unreserved) or an integer from 1 to 10000")
        ),
        "-1",
    ),
    _Setting("logLevel", "log_level", _choice(*LOG_LEVELS), "INFO"),
    _Setting("logRetentionDays", "log_retention_days", _retention, "7"),
    _Setting("corsOrigins", "cors_origins", _origins, "[]"),
    _Setting(
        "statusShards",
        "status_shards",
        _integer(1, MAX_STATUS_SHARDS),
        str(DEFAULT_STATUS_SHARDS),
    ),
    # 0: read what statusShards writes (0 rather than empty: the stack files hold a number).
    # Higher only while a migration changes the count (docs/scaling.md); parse_config
    # checks it against statusShards.
    _Setting(
        "statusShardsRead",
        "status_shards_read",
        _optional(
            "0",
            _integer(
                1,
                MAX_STATUS_SHARDS,
                "must be 0 (read what statusShards writes) or an integer from statusShards "
                f"to {MAX_STATUS_SHARDS}",
            ),
        ),
        "0",
    ),
    _Setting("tracing", "tracing", _boolean, "false"),
    # 10,000 requests per second and a burst of 5,000 are the account-level defaults.
    _Setting("throttleRateLimit", "throttle_rate_limit", _number(0, 10_000), "50"),
    _Setting("throttleBurstLimit", "throttle_burst_limit", _integer(1, 5_000), "100"),
    _Setting("requireApiKey", "require_api_key", _boolean, "false"),
    _Setting("apiKeyRateLimit", "api_key_rate_limit", _number(0, 10_000), "20"),
    _Setting("apiKeyBurstLimit", "api_key_burst_limit", _integer(1, 5_000), "40"),
    _Setting("apiKeyQuotaLimit", "api_key_quota_limit", _integer(1, 1_000_000_000), "100000"),
    _Setting("apiKeyQuotaPeriod", "api_key_quota_period", _choice(*QUOTA_PERIODS), "DAY"),
    _Setting("manageApiGatewayAccount", "manage_api_gateway_account", _boolean, "true"),
    _Setting("protectData", "protect_data", _boolean, "false"),
    # At least two, so the image before the current one is still there to roll back to.
    _Setting("ecrKeepImages", "ecr_keep_images", _integer(2, 1_000), "5"),
    _Setting("alarmEmail", "alarm_email", _optional("", _email), ""),
    _Setting("enableWaf", "enable_waf", _boolean, "false"),
    # AWS WAF's own bounds for a rate-based rule, counted per IP over 5 minutes.
    _Setting("wafRateLimit", "waf_rate_limit", _integer(10, 2_000_000_000), "1000"),
    # Recovery settings (docs/operations.md), normally empty: serve a restored table
    # instead of the stack's own, or pin the function to an image already in the repository.
    _Setting("existingTableName", "existing_table_name", _optional("", _table_name), ""),
    _Setting("imageUri", "image_uri", _optional("", _pinned_image), ""),
)


def _config_keys() -> set[str]:
    """Every configuration key the program was given, whatever its namespace.

    pulumi.Config can only look keys up, not list them. The CLI hands the program its
    configuration as the PULUMI_CONFIG JSON map; the Automation API and the tests'
    mocks may also set it in-process, so both sources are read.
    """
    return set(pulumi.runtime.get_config_env()) | set(pulumi.runtime.config.CONFIG.get())


def parse_config(project: str, stack: str, values: Mapping[str, str]) -> StackConfig:
    """Check raw settings (short key -> string, as Pulumi stores them) and type them."""
    if not _STAGE_NAME.match(stack):
        raise ConfigError(
            f"stack name {stack!r} must be 1-128 letters, digits, '-' or '_': "
            "it names the API Gateway stage"
        )
    known = {setting.key for setting in SETTINGS}
    for key in sorted(set(values) - known):
        hint = difflib.get_close_matches(key, sorted(known), n=1)
        suggestion = f"; did you mean {project}:{hint[0]}?" if hint else ""
        raise ConfigError(f"unknown setting {project}:{key}{suggestion}")
    fields: dict[str, Any] = {"stack": stack}
    for setting in SETTINGS:
        raw = values.get(setting.key, setting.default)
        try:
            fields[setting.field] = setting.parse(raw)
        except _Invalid as error:
            raise ConfigError(f"{project}:{setting.key} {error}, got {raw!r}") from None
    config = StackConfig(**fields)
    # The service refuses the same at start-up (service/settings.py); refused here, it
    # never reaches a deployed function.
    read = config.status_shards_read
    if read is not None and read < config.status_shards:
        raise ConfigError(
            f"{project}:statusShardsRead must be 0 or at least statusShards "
            f"({config.status_shards}): a listing that skips shards being written misses "
            f"events, got {values['statusShardsRead']!r}"
        )
    return config


def load_config() -> StackConfig:
    """Read this stack's settings from Pulumi's configuration, failing on any bad one."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    config = pulumi.Config()
    prefix = f"{project}:"
    keys = {key[len(prefix) :] for key in _config_keys() if key.startswith(prefix)}
    values = {key: value for key in keys if (value := config.get(key)) is not None}
    return parse_config(project, stack, values)
