"""Stack settings: both stack files are complete and valid; a bad value stops the program
with one line naming the key, what is wrong and what is allowed."""

from __future__ import annotations

import pytest

from infra.config import parse_config, setting_keys
from infra.setting_types import ConfigError
from infra.stack_settings import GROUPS
from service.table import MAX_STATUS_SHARDS
from tests.infra.conftest import (
    ONCALL,
    PROJECT,
    STACKS,
    deploy,
    deployed_settings,
    short_settings,
    stack_settings,
)

TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_file_states_every_setting_and_it_parses(stack: str) -> None:
    assert set(short_settings(stack)) == setting_keys()
    parse_config(PROJECT, stack, deployed_settings(stack))


def test_each_key_belongs_to_one_component() -> None:
    keys = [str(field.alias) for group in GROUPS.values() for field in group.model_fields.values()]

    assert len(keys) == len(set(keys)) == len(setting_keys())


def test_dev_is_disposable_and_prod_is_locked_down() -> None:
    dev = parse_config(PROJECT, "dev", deployed_settings("dev"))
    prod = parse_config(PROJECT, "prod", deployed_settings("prod"))

    assert (dev.data.protect_data, prod.data.protect_data) == (False, True)
    assert (dev.api.usage_plan, prod.api.usage_plan is not None) == (None, True)
    assert (dev.api.enable_waf, prod.api.enable_waf) == (False, True)
    assert dev.telemetry.log_retention_days < prod.telemetry.log_retention_days
    assert dev.image.architecture == prod.image.architecture == "arm64"
    # One owner of API Gateway's account-wide logging role, so both fit one account.
    assert (dev.api.manage_api_gateway_account, prod.api.manage_api_gateway_account) == (
        False,
        True,
    )
    assert (dev.alarms.silent_alarms, prod.alarms.silent_alarms) == (True, False)
    assert (dev.function.provisioned_concurrency, prod.function.provisioned_concurrency) == (0, 2)
    assert dev.function.snap_start is prod.function.snap_start is False


def test_prod_as_shipped_waits_for_a_notification_target() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(PROJECT, "prod", short_settings("prod"))

    assert str(error.value) == (
        "events-api:alarmEmail or events-api:alarmTopicArn must be set: this stack's alarms "
        "would notify nobody. Set events-api:silentAlarms true to deploy without "
        "notifications (as dev does)"
    )


def test_defaults_fill_settings_a_stack_leaves_out() -> None:
    config = parse_config(PROJECT, "scratch", ONCALL)

    assert config.image.architecture == "arm64"
    assert config.image.platform == "linux/arm64"
    assert config.function.reserved is None
    assert config.api.usage_plan is None
    assert config.function.cors_origins == ()
    assert config.function.status_shards_read == 0
    assert config.function.status_shards_to_read == config.function.status_shards
    assert config.function.pinned_version is None
    assert config.api.manage_api_gateway_account is False
    assert config.alarms.alarm_topic_arn is None


@pytest.mark.parametrize(
    ("written", "read", "expected"),
    [("4", "0", 4), ("16", "0", 16), ("16", "16", 16), ("4", "16", 16), ("64", "64", 64)],
)
def test_listings_read_at_least_the_shards_written(written: str, read: str, expected: int) -> None:
    config = parse_config(
        PROJECT, "dev", {**ONCALL, "statusShards": written, "statusShardsRead": read}
    ).function

    assert config.status_shards == int(written)
    assert config.status_shards_to_read == expected


def test_values_are_typed() -> None:
    config = parse_config(
        PROJECT,
        "dev",
        {
            "architecture": "x86_64",
            "reservedConcurrency": "25",
            "corsOrigins": '["https://app.example.com", "http://localhost:3000"]',
            "requireApiKey": "true",
            "apiKeyRateLimit": "2.5",
            "apiKeyQuotaPeriod": "WEEK",
            "alarmEmail": "oncall@example.com",
            "liveVersion": "7",
            "canaryPercent": "10",
        },
    )

    assert config.image.platform == "linux/amd64"
    assert config.function.reserved == 25
    assert config.function.cors_origins == ("https://app.example.com", "http://localhost:3000")
    assert config.api.usage_plan is not None
    assert config.api.usage_plan.throttle.rate_limit == 2.5
    assert config.api.usage_plan.quota_period == "WEEK"
    assert config.alarms.alarm_email == "oncall@example.com"
    assert (config.function.pinned_version, config.function.canary_percent) == (7, 10)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("memorySize", "64", "from 128 to 10240"),
        ("memorySize", "lots", "must be an integer"),
        ("memorySize", "512.5", "must be an integer from 128 to 10240"),
        ("memorySize", "true", "must be an integer from 128 to 10240"),
        ("timeout", "60", "from 20 to 28 (seconds)"),
        ("timeout", "29", "API Gateway stops waiting for the function after 29"),
        ("timeout", "19", "18 s for one DynamoDB call with its retries"),
        ("timeout", "0", "from 20 to 28"),
        ("reservedConcurrency", "0", "-1 (unreserved)"),
        ("architecture", "arm", "one of arm64, x86_64"),
        ("logLevel", "verbose", "one of DEBUG"),
        ("logRetentionDays", "10", "CloudWatch Logs retention"),
        ("statusShards", "0", f"from 1 to {MAX_STATUS_SHARDS}"),
        ("statusShards", str(MAX_STATUS_SHARDS + 1), f"from 1 to {MAX_STATUS_SHARDS}"),
        ("statusShardsRead", "2", "at least statusShards (4)"),
        ("liveVersion", "-1", "0 (the version this deploy publishes) or a published version"),
        ("liveVersion", "latest", "or a published version number"),
        ("canaryPercent", "100", "must be an integer from 0 to 99"),
        ("provisionedConcurrency", "-2", "must be an integer from 0 to 10000"),
        ("snapStart", "on", "must be true or false"),
        ("statusShardsRead", str(MAX_STATUS_SHARDS + 1), f"to {MAX_STATUS_SHARDS}"),
        ("statusShardsRead", "-1", "must be 0 (read what statusShards writes)"),
        ("statusShardsRead", "", "must be 0"),
        ("corsOrigins", "https://app.example.com", "list of origins"),
        ("corsOrigins", '["https://app.example.com/path"]', "has 'https://app.example.com/path'"),
        ("tracing", "yes", "true or false"),
        ("throttleRateLimit", "0", "above 0"),
        ("throttleBurstLimit", "5001", "from 1 to 5000"),
        ("apiKeyQuotaPeriod", "YEAR", "one of DAY, WEEK, MONTH"),
        ("ecrKeepImages", "1", "from 2 to 1000"),
        ("alarmEmail", "oncall", "must be an e-mail address, or empty"),
        ("alarmTopicArn", "oncall-topic", "must be an SNS topic ARN"),
        ("silentAlarms", "1", "must be true or false"),
        ("manageApiGatewayAccount", "True", "must be true or false"),
        ("wafRateLimit", "5", "from 10 to 2000000000"),
        ("existingTableName", "a", "DynamoDB table name"),
        ("imageUri", "repo:latest", "@sha256:"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_setting(
    key: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(PROJECT, "dev", {**short_settings("dev"), key: value})

    message = str(error.value)
    assert message.startswith(f"{PROJECT}:{key} ")
    assert expected in message
    assert message.endswith(f", got {value!r}")
    assert "\n" not in message


def test_a_misspelt_setting_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown setting events-api:memorySise; did you mean events-api:memorySize\?",
    ):
        parse_config(PROJECT, "dev", {"memorySise": "512"})


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"canaryPercent": "10"},
            "events-api:canaryPercent 10 needs events-api:liveVersion: the published version "
            "that keeps the rest of the traffic",
        ),
        (
            {"snapStart": "true", "provisionedConcurrency": "2"},
            "events-api:snapStart true cannot go with events-api:provisionedConcurrency 2: AWS "
            "refuses SnapStart on a function with provisioned concurrency; set one of the two "
            "(provisionedConcurrency 0, or snapStart false)",
        ),
        (
            {"reservedConcurrency": "5", "provisionedConcurrency": "6"},
            "events-api:provisionedConcurrency must be at most reservedConcurrency (5): Lambda "
            "keeps provisioned environments inside the reservation, got '6'",
        ),
        (
            {"alarmEmail": "oncall@example.com", "alarmTopicArn": TOPIC},
            "events-api:alarmEmail and events-api:alarmTopicArn are both set: set one (an "
            "e-mail address subscribes to the stack's own topic; a topic ARN replaces it)",
        ),
        (
            {"alarmTopicArn": TOPIC, "silentAlarms": "true"},
            "events-api:silentAlarms true contradicts events-api:alarmTopicArn: set "
            "silentAlarms false to notify it, or empty the target",
        ),
    ],
    ids=[
        "canary-unpinned",
        "snapstart-provisioned",
        "provisioned-over-reserved",
        "two-targets",
        "silent-target",
    ],
)
def test_a_combination_aws_or_the_program_cannot_serve_is_refused(
    settings: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(PROJECT, "prod", {**short_settings("prod"), **settings})

    assert str(error.value) == expected


@pytest.mark.parametrize(
    "settings",
    [
        {"snapStart": "true", "provisionedConcurrency": "0"},
        {"snapStart": "false", "provisionedConcurrency": "2"},
        {"reservedConcurrency": "-1", "provisionedConcurrency": "50"},
        {"alarmTopicArn": "", "alarmEmail": "oncall@example.com"},
        {"alarmTopicArn": "", "silentAlarms": "true"},
    ],
)
def test_each_allowed_combination_parses(settings: dict[str, str]) -> None:
    parse_config(PROJECT, "prod", {**short_settings("prod"), "alarmTopicArn": TOPIC, **settings})


def test_a_stack_name_that_cannot_name_a_stage_is_refused() -> None:
    with pytest.raises(ConfigError, match="stack name 'my stack'"):
        parse_config(PROJECT, "my stack", ONCALL)


def test_the_program_stops_before_declaring_anything_on_a_bad_setting() -> None:
    # The same check, through the program as `pulumi preview` runs it.
    with pytest.raises(ConfigError, match=r"events-api:timeout must be an integer from 20 to 28"):
        deploy("dev", {"timeout": "900"})


def test_the_program_refuses_to_read_fewer_shards_than_it_writes() -> None:
    # The first step of a migration from 4 to 16 shards, with the read count forgotten.
    with pytest.raises(
        ConfigError, match=r"events-api:statusShardsRead must be 0 or at least statusShards \(16\)"
    ):
        deploy("prod", {"statusShards": "16", "statusShardsRead": "4"})


def test_the_program_refuses_a_misspelt_key_in_the_stack_file() -> None:
    with pytest.raises(ConfigError, match="unknown setting events-api:enableWAF"):
        deploy("prod", {"enableWAF": "true"})


def test_settings_of_other_namespaces_are_not_checked() -> None:
    # aws:region and aws:defaultTags belong to the AWS provider, which checks them itself.
    assert "aws:region" in stack_settings("dev")
    deploy("dev", {})
