"""`make seed` on DynamoDB Local: deterministic, realistic, idempotent, never clobbering."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from local import run_state
from local.dynamodb_local import DynamoDBLocal
from local.paths import REPO_ROOT
from local.run_state import advertised
from service.models import Event
from service.settings import Settings
from service.store import EventStore
from tests.conftest import service_environment, table_snapshot
from tools import seed
from tools.seed import PLACES, REFERENCE_DAY, main, sample_events

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")


def test_the_sample_set_is_deterministic_and_grows_without_changing() -> None:
    assert list(sample_events(40, seed=7)) == list(sample_events(40, seed=7))
    assert list(sample_events(15, seed=7)) == list(sample_events(40, seed=7))[:15]
    assert list(sample_events(15, seed=7)) != list(sample_events(15, seed=8))


def test_the_sample_set_is_valid_and_spread_over_dates_statuses_and_places() -> None:
    events = list(sample_events(400))

    for event in events:
        Event.model_validate(event)  # exactly the shape the API serves
    assert len({event["eventId"] for event in events}) == 400
    statuses = Counter(event["status"] for event in events)
    assert set(statuses) == {"active", "cancelled", "completed"}
    assert min(statuses.values()) >= 20
    days = sorted(dt.date.fromisoformat(event["date"]) for event in events)
    assert (days[-1] - days[0]).days > 2 * 365
    assert len({event["date"][:7] for event in events}) >= 30  # most months of three years
    for event in events:
        over = dt.date.fromisoformat(event["date"]) < REFERENCE_DAY
        assert event["status"] != ("active" if over else "completed")
        assert event["createdAt"] < event["date"]
    assert len({event["location"] for event in events}) == len(PLACES) + 1  # and "Online"
    for field in ("title", "organizer"):
        assert len({event[field] for event in events}) >= 40


def test_seeding_twice_adds_nothing_and_keeps_edits(
    dynamodb_local: DynamoDBLocal,
    dynamodb: Any,
    table_name: str,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = ["--count", "130", "--table", table_name, "--endpoint", dynamodb_local.endpoint_url]

    assert main(arguments) == 0
    first = capsys.readouterr()
    assert "130 written, 0 already there" in first.out
    assert "130/130" in first.err  # the progress bar
    store = EventStore.from_settings(settings)
    edited = store.update("sample-2026-000003", {"title": "Renamed on purpose"})
    before = table_snapshot(dynamodb, table_name)

    assert main([*arguments, "--no-progress"]) == 0

    assert "0 written, 130 already there" in capsys.readouterr().out
    assert table_snapshot(dynamodb, table_name) == before
    assert store.get("sample-2026-000003") == edited
    expected = Counter(event["status"] for event in sample_events(130))
    for status, count in expected.items():
        assert len(store.list_events(status=status, limit=100).items) == min(count, 100)


@pytest.fixture
def state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where `make run` leaves its state: a fresh path, not the repository's."""
    path = tmp_path / ".data" / "endpoint"
    monkeypatch.setattr(run_state, "STATE_FILE", path)
    for variable in ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return path


def test_seed_targets_the_running_make_run_server_when_no_endpoint_is_set(
    dynamodb_local: DynamoDBLocal,
    dynamodb: Any,
    table_name: str,
    state_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with advertised(dynamodb_local.endpoint_url, "http://127.0.0.1:8000") as owner:
        assert owner
        assert main(["--count", "9", "--table", table_name, "--no-progress"]) == 0

    assert f"at {dynamodb_local.endpoint_url} (the `make run` of process" in capsys.readouterr().out
    assert not state_file.exists()
    assert len(table_snapshot(dynamodb, table_name)) == 9


def test_a_configured_endpoint_wins_over_the_make_run_file(
    dynamodb_local: DynamoDBLocal,
    dynamodb: Any,
    table_name: str,
    state_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)
    with advertised("http://127.0.0.1:9", "http://127.0.0.1:8000"):  # nothing listens there
        assert main(["--count", "4", "--table", table_name, "--no-progress"]) == 0

    assert len(table_snapshot(dynamodb, table_name)) == 4


def test_a_second_instance_leaves_the_first_ones_state(state_file: Path) -> None:
    with advertised("http://127.0.0.1:1111", "http://127.0.0.1:8000") as first:
        with advertised("http://127.0.0.1:2222", "http://127.0.0.1:8001") as second:
            assert (first, second) == (True, False)
        state = run_state.running_instance()
        assert state is not None
        assert state.dynamodb_endpoint == "http://127.0.0.1:1111"
    assert not state_file.exists()


def test_a_missing_table_is_a_clear_error(
    dynamodb_local: DynamoDBLocal, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--count", "3", "--table", "no-such-table", "--no-progress"]

    assert main([*arguments, "--endpoint", dynamodb_local.endpoint_url]) == 1

    error = capsys.readouterr().err
    assert "'no-such-table'" in error
    assert "make run" in error


def test_make_seed_loads_count_events_into_the_configured_table(
    dynamodb_local: DynamoDBLocal, dynamodb: Any, table_name: str
) -> None:
    environment = service_environment(dynamodb_local, table_name)

    result = subprocess.run(
        ["make", "--no-print-directory", "seed", "COUNT=7"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "7 written" in result.stdout
    assert len(table_snapshot(dynamodb, table_name)) == 7


def test_the_readme_names_the_ids_the_default_seed_gives() -> None:
    ids = [event["eventId"] for event in sample_events(seed.DEFAULT_COUNT)]
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"`{ids[0]}` to\n`{ids[-1]}` for the default {seed.DEFAULT_COUNT}" in readme
