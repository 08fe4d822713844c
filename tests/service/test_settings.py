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
