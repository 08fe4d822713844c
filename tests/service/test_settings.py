"""Settings: the shard counts a deploy writes and reads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_listings_read_the_shards_written_unless_told_otherwise() -> None:
    assert Settings.model_validate({"EVENTS_STATUS_SHARDS": 8}).status_shards_to_read == 8
    during_a_migration = Settings.model_validate(
        {"EVENTS_STATUS_SHARDS": 4, "EVENTS_STATUS_SHARDS_READ": 16}
    )
    assert (during_a_migration.status_shards, during_a_migration.status_shards_to_read) == (4, 16)


@pytest.mark.parametrize(
    ("written", "read"), [(16, 4), (4, 0), (4, 65)], ids=["fewer", "zero", "too-many"]
)
def test_reading_fewer_shards_than_written_is_refused(written: int, read: int) -> None:
    with pytest.raises(ValidationError, match=r"EVENTS_STATUS_SHARDS_READ|status_shards_read"):
        Settings.model_validate(
            {"EVENTS_STATUS_SHARDS": written, "EVENTS_STATUS_SHARDS_READ": read}
        )


def test_settings_read_the_variables_their_aliases_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_TABLE_NAME", "events-from-env")
    monkeypatch.delenv("AWS_REGION", raising=False)  # it would win over AWS_DEFAULT_REGION
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("EVENTS_CORS_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("EVENTS_DYNAMODB_MAX_ATTEMPTS", "5")
    settings = Settings()
    assert settings.table_name == "events-from-env"
    assert settings.aws_region == "eu-west-1"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.dynamodb_max_attempts == 5


def test_values_given_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_TABLE_NAME", "events-from-env")
    assert Settings(EVENTS_TABLE_NAME="given").table_name == "given"


def test_only_the_aliases_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTS_TABLE_NAME", raising=False)
    monkeypatch.setenv("table_name", "not-a-configured-variable")
    assert Settings().table_name == "Events"


def test_an_invalid_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_STATUS_SHARDS", "0")
    with pytest.raises(ValidationError, match="EVENTS_STATUS_SHARDS"):
        Settings()
