"""Settings: read from the environment, checked whole, one plain line per bad variable."""

from __future__ import annotations

import pytest

from service.settings import LOCAL_CURSOR_SECRET, Settings, SettingsError

# Set in every case below: no message may ever show it.
CANARY_SECRET = "CANARY-cursor-secret-0123456789-abcdef"


def test_listings_read_the_shards_written_unless_told_otherwise() -> None:
    assert Settings(EVENTS_STATUS_SHARDS=8).status_shards_to_read == 8
    during_a_migration = Settings(EVENTS_STATUS_SHARDS=4, EVENTS_STATUS_SHARDS_READ=16)
    assert (during_a_migration.status_shards, during_a_migration.status_shards_to_read) == (4, 16)


def test_settings_read_the_variables_their_aliases_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_TABLE_NAME", "events-from-env")
    monkeypatch.delenv("AWS_REGION", raising=False)  # it would win over AWS_DEFAULT_REGION
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("EVENTS_CORS_ORIGINS", "https://a.example, http://localhost:3000,")
    monkeypatch.setenv("EVENTS_DYNAMODB_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.table_name == "events-from-env"
    assert settings.aws_region == "eu-west-1"
    assert settings.cors_origins == ["https://a.example", "http://localhost:3000"]
    assert settings.dynamodb_max_attempts == 5
    assert settings.log_level == "DEBUG"


def test_values_given_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_TABLE_NAME", "events-from-env")
    assert Settings(EVENTS_TABLE_NAME="given").table_name == "given"


def test_only_the_aliases_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTS_TABLE_NAME", raising=False)
    monkeypatch.setenv("table_name", "not-a-configured-variable")
    assert Settings().table_name == "Events"


WHOLE = "allowed: a whole number from 1 to 64."
CASES = {
    "shards-not-a-number": (
        {"EVENTS_STATUS_SHARDS": "abc"},
        f"EVENTS_STATUS_SHARDS='abc' is not a whole number; {WHOLE}",
    ),
    "shards-zero": (
        {"EVENTS_STATUS_SHARDS": "0"},
        f"EVENTS_STATUS_SHARDS='0' is out of range; {WHOLE}",
    ),
    "shards-65": (
        {"EVENTS_STATUS_SHARDS": "65"},
        f"EVENTS_STATUS_SHARDS='65' is out of range; {WHOLE}",
    ),
    "read-shards-zero": (
        {"EVENTS_STATUS_SHARDS_READ": "0"},
        f"EVENTS_STATUS_SHARDS_READ='0' is out of range; {WHOLE}",
    ),
    "fewer-read-than-written": (
        {"EVENTS_STATUS_SHARDS": "16", "EVENTS_STATUS_SHARDS_READ": "4"},
        "EVENTS_STATUS_SHARDS_READ=4 is below EVENTS_STATUS_SHARDS=16; allowed: at least",
    ),
    "negative-timeout": (
        {"EVENTS_DYNAMODB_READ_TIMEOUT": "-1"},
        "EVENTS_DYNAMODB_READ_TIMEOUT='-1' is out of range; allowed: a number of seconds above 0.",
    ),
    "infinite-budget": (
        {"EVENTS_DYNAMODB_REQUEST_BUDGET": "inf"},
        "EVENTS_DYNAMODB_REQUEST_BUDGET='inf' is not a finite number; allowed: a number",
    ),
    "attempts-not-a-number": (
        {"EVENTS_DYNAMODB_MAX_ATTEMPTS": "three"},
        "EVENTS_DYNAMODB_MAX_ATTEMPTS='three' is not a whole number; allowed: a whole number "
        "from 1 to 10.",
    ),
    "api-key-flag": (
        {"EVENTS_API_KEY_REQUIRED": "maybe"},
        "EVENTS_API_KEY_REQUIRED='maybe' is not true or false; allowed: true or false.",
    ),
    "log-level": (
        {"LOG_LEVEL": "LOUD"},
        "LOG_LEVEL='LOUD' is not a log level; allowed: one of DEBUG, INFO, WARNING, ERROR, "
        "CRITICAL.",
    ),
    "origin-with-a-slash": (
        {"EVENTS_CORS_ORIGINS": "https://ok.example,http://a.example/"},
        "EVENTS_CORS_ORIGINS='https://ok.example,http://a.example/' has 'http://a.example/', "
        "which has a path; allowed: comma-separated origins",
    ),
    "origin-without-a-scheme": (
        {"EVENTS_CORS_ORIGINS": "a.example"},
        "EVENTS_CORS_ORIGINS='a.example' has 'a.example', which is not scheme://host[:port]; "
        "allowed:",
    ),
    "empty-table-name": (
        {"EVENTS_TABLE_NAME": ""},
        "EVENTS_TABLE_NAME='' is empty; allowed: 3 to 255 letters, digits, '_', '-' or '.'.",
    ),
    "table-name-with-a-space": (
        {"EVENTS_TABLE_NAME": "my events"},
        "EVENTS_TABLE_NAME='my events' is not a valid name; allowed: 3 to 255 letters",
    ),
    "keys-table-name-with-a-space": (
        {"EVENTS_IDEMPOTENCY_TABLE_NAME": "bad name!"},
        "EVENTS_IDEMPOTENCY_TABLE_NAME='bad name!' is not a valid name; allowed: 3 to 255",
    ),
}


@pytest.mark.parametrize(("variables", "line"), list(CASES.values()), ids=list(CASES))
def test_each_bad_variable_gets_one_plain_line_without_the_secret(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], line: str
) -> None:
    monkeypatch.setenv("EVENTS_CURSOR_SECRET", CANARY_SECRET)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as raised:
        Settings()

    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith(line)
    assert CANARY_SECRET not in str(raised.value)
    assert CANARY_SECRET[-8:] not in repr(raised.value)


def test_every_bad_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for variables, _ in CASES.values():
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("EVENTS_STATUS_SHARDS", "abc")
    monkeypatch.setenv("EVENTS_STATUS_SHARDS_READ", "0")

    with pytest.raises(SettingsError) as raised:
        Settings()

    named = [problem.split("=")[0].split(" ")[0] for problem in raised.value.problems]
    assert sorted(named) == sorted({name for variables, _ in CASES.values() for name in variables})


def test_a_short_secret_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_CURSOR_SECRET", "hunter2")
    with pytest.raises(SettingsError) as raised:
        Settings()
    assert str(raised.value).startswith("EVENTS_CURSOR_SECRET (value not shown) is too short;")
    assert "hunter2" not in str(raised.value)


def test_the_secret_is_not_in_the_settings_repr() -> None:
    assert CANARY_SECRET not in repr(Settings(EVENTS_CURSOR_SECRET=CANARY_SECRET))


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "is unset or the built-in local secret, which Lambda refuses"),
        (LOCAL_CURSOR_SECRET, "is unset or the built-in local secret, which Lambda refuses"),
        ("x" * 40, "is too weak for Lambda (short, or one repeated character)"),
        ("A-31-character-secret-not-32ch!", "is too weak for Lambda"),
    ],
    ids=["unset", "built-in", "one-repeated-character", "31-characters"],
)
def test_on_lambda_the_local_or_a_weak_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, secret: str | None, reason: str
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "events-api-dev")
    monkeypatch.delenv("EVENTS_CURSOR_SECRET", raising=False)
    if secret is not None:
        monkeypatch.setenv("EVENTS_CURSOR_SECRET", secret)

    with pytest.raises(SettingsError) as raised:
        Settings()

    (line,) = raised.value.problems
    assert line.startswith("EVENTS_CURSOR_SECRET")
    assert reason in line
    assert "32 characters or more" in line
    assert secret is None or secret not in line


def test_on_lambda_a_strong_secret_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "events-api-dev")
    monkeypatch.setenv("EVENTS_CURSOR_SECRET", CANARY_SECRET)
    assert Settings().cursor_secret == CANARY_SECRET


def test_locally_the_built_in_secret_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("EVENTS_CURSOR_SECRET", raising=False)
    assert Settings().cursor_secret == LOCAL_CURSOR_SECRET
