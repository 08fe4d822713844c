"""The DynamoDB Local launcher that `make run` and the whole suite stand on."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, ensure_table


def test_a_persisted_database_survives_a_restart(tmp_path: Path) -> None:
    with DynamoDBLocal(tmp_path / "db", engine="java") as first:
        ensure_table(first.client(), "kept")
    with DynamoDBLocal(tmp_path / "db", engine="java") as second:
        assert "kept" in second.client().list_tables()["TableNames"]


def test_an_engine_that_exits_at_start_up_is_reported_with_its_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        DynamoDBLocal,
        "_arguments",
        staticmethod(lambda port, data_dir: ["-jar", "DynamoDBLocal.jar", "-noSuchOption"]),
    )
    with pytest.raises(DynamoDBLocalError, match="exited at start-up") as raised:
        DynamoDBLocal(engine="java").start()
    assert "Error processing the supplied command line arguments" in str(raised.value)


def test_an_unknown_engine_is_refused_by_name() -> None:
    with pytest.raises(DynamoDBLocalError, match="auto, docker or java, not 'podman'"):
        DynamoDBLocal(engine="podman").start()
