"""Stack settings: both stack files are complete and valid; a bad value stops the program."""

from __future__ import annotations

import pytest

from infra.config import SETTINGS, ConfigError, parse_config
from service.table import MAX_STATUS_SHARDS
from tests.infra.conftest import PROJECT, STACKS, deploy, short_settings, stack_settings


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_file_states_every_setting_and_it_parses(stack: str) -> None:
    values = short_settings(stack)

    assert set(values) == {setting.key for setting in SETTINGS}
    parse_config(PROJECT, stack, values)


def test_dev_is_disposable_and_prod_is_locked_down() -> None:
    dev = parse_config(PROJECT, "dev", short_settings("dev"))
    prod = parse_config(PROJECT, "prod", short_settings("prod"))

    assert (dev.protect_data, prod.protect_data) == (False, True)
    assert (dev.usage_plan, prod.usage_plan is not None) == (None, True)
    assert (dev.enable_waf, prod.enable_waf) == (False, True)
    assert dev.log_retention_days < prod.log_retention_days
    assert dev.architecture == prod.architecture == "arm64"


def test_defaults_fill_settings_a_stack_leaves_out() -> None:
    config = parse_config(PROJECT, "scratch", {})

    assert config.architecture == "arm64"
    assert config.platform == "linux/arm64"
    assert config.reserved_concurrency is None
    assert config.usage_plan is None
    assert config.cors_origins == ()
    assert config.status_shards_read is None
    assert config.status_shards_to_read == config.status_shards


@pytest.mark.parametrize(
    ("written", "read", "expected"),
    [("4", "0", 4), ("16", "0", 16), ("16", "16", 16), ("4", "16", 16), ("64", "64", 64)],
)
def test_listings_read_at_least_the_shards_written(written: str, read: str, expected: int) -> None:
    config = parse_config(PROJECT, "dev", {"statusShards": written, "statusShardsRead": read})

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
        },
    )

    assert config.platform == "linux/amd64"
    assert config.reserved_concurrency == 25
    assert config.cors_origins == ("https://app.example.com", "http://localhost:3000")
    assert config.usage_plan is not None
    assert config.usage_plan.throttle.rate_limit == 2.5
    assert config.usage_plan.quota_period == "WEEK"
    assert config.alarm_email == "oncall@example.com"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("memorySize", "64", "from 128 to 10240"),
        ("memorySize", "lots", "must be an integer"),
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
        ("statusShardsRead", str(MAX_STATUS_SHARDS + 1), f"to {MAX_STATUS_SHARDS}"),
        ("statusShardsRead", "-1", "must be 0 (read what statusShards writes)"),
        ("statusShardsRead", "", "must be 0"),
        ("corsOrigins", "https://app.example.com", "list of origins"),
        ("corsOrigins", '["https://app.example.com/path"]', "no path"),
        ("tracing", "yes", "true or false"),
        ("throttleRateLimit", "0", "above 0"),
        ("throttleBurstLimit", "5001", "from 1 to 5000"),
        ("apiKeyQuotaPeriod", "YEAR", "one of DAY, WEEK, MONTH"),
        ("ecrKeepImages", "1", "from 2 to 1000"),
        ("alarmEmail", "oncall", "e-mail address"),
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
    assert repr(value) in message


def test_a_misspelt_setting_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown setting events-api:memorySise; did you mean events-api:memorySize\?",
    ):
        parse_config(PROJECT, "dev", {"memorySise": "512"})


def test_a_stack_name_that_cannot_name_a_stage_is_refused() -> None:
    with pytest.raises(ConfigError, match="stack name 'my stack'"):
        parse_config(PROJECT, "my stack", {})


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
