"""Changing the shard count of a live table: read both layouts, migrate, switch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local.dynamodb_local import DynamoDBLocal
from service.errors import EventNotFound, StoreUnavailable
from service.store import EventStore, from_item, to_item
from service.table import shard_of
from tests.conftest import (
    make_settings,
    make_table,
    settings_values,
    store_event,
    table_snapshot,
)
from tests.service.store.conftest import STATUSES, bulk_load, sort_key, walk
from tools.migrate_shards import MigrationState, main, migrate
from tools.table_admin import TableAdmin

Answers = list[tuple[list[dict[str, Any]], str | None]]


def open_store(
    dynamodb_local: DynamoDBLocal, dynamodb: Any, table: str, shards: int, read: int | None = None
) -> EventStore:
    """A store as a deployed function would build it from its settings."""
    overrides: dict[str, Any] = {"EVENTS_STATUS_SHARDS": shards}
    if read is not None:
        overrides["EVENTS_STATUS_SHARDS_READ"] = read
    return EventStore.from_settings(make_settings(dynamodb_local, table, **overrides), dynamodb)


def answers(store: EventStore) -> Answers:
    """Every page, cursors included, of a spread of listings."""
    result: Answers = []
    for status in STATUSES:
        for limit, dates in [
            (9, {}),
            (50, {}),
            (4, {"date_from": "2026-04-01", "date_to": "2026-06-30"}),
        ]:
            cursor = None
            while True:
                page = store.list_events(status=status, limit=limit, cursor=cursor, **dates)
                result.append((page.items, page.next_cursor))
                cursor = page.next_cursor
                if cursor is None:
                    break
    return result


def fresh_copy(dynamodb_local: DynamoDBLocal, dynamodb: Any, table: str, shards: int) -> str:
    """A new table holding the same events, written from scratch with `shards`."""
    copy = make_table(dynamodb)
    events = [from_item(item) for item in table_snapshot(dynamodb, table)]
    TableAdmin(dynamodb, copy, shards).put_items([to_item(event, shards) for event in events])
    return copy


def moving_ids(old: int, new: int, count: int) -> list[str]:
    """Event ids whose shard differs between the two counts."""
    ids = [f"mover{number}" for number in range(1000)]
    moving = [event_id for event_id in ids if shard_of(event_id, old) != shard_of(event_id, new)]
    return moving[:count]


@pytest.mark.parametrize(("old", "new"), [(4, 16), (16, 4)])
def test_a_migrated_table_answers_exactly_as_a_fresh_one(
    dynamodb_local: DynamoDBLocal, dynamodb: Any, table_name: str, old: int, new: int
) -> None:
    before = open_store(dynamodb_local, dynamodb, table_name, old)
    events = bulk_load(before, dynamodb, 150)
    copies = []

    # 1. Deploy: write with the new count, read both layouts. Nothing has moved yet.
    both = open_store(dynamodb_local, dynamodb, table_name, new, read=max(old, new))
    assert answers(both) == answers(before)
    # Writes of this phase land in the new layout, next to events still in the old one.
    store_event(both, eventId="created-meanwhile", date="2026-05-05")
    both.update(events[0]["eventId"], {"status": "cancelled", "date": "2026-04-04"})
    both.update(events[1]["eventId"], {"title": "Renamed, shard untouched"})
    both.delete(events[2]["eventId"])
    copies.append(fresh_copy(dynamodb_local, dynamodb, table_name, new))
    assert answers(both) == answers(open_store(dynamodb_local, dynamodb, copies[0], new))

    # 2. Migrate, in three scan segments.
    mover = TableAdmin(dynamodb, table_name, new)
    state = migrate(mover, MigrationState.start(table_name, new, 3), batch_size=40)
    assert state.finished
    assert state.scanned == len(events)  # one created, one deleted
    assert state.moved > 0
    assert state.skipped == 0

    # 3. Switch: read only the new layout. Same answers, same items as a fresh table.
    after = open_store(dynamodb_local, dynamodb, table_name, new)
    copies.append(fresh_copy(dynamodb_local, dynamodb, table_name, new))
    assert answers(after) == answers(open_store(dynamodb_local, dynamodb, copies[1], new))
    assert table_snapshot(dynamodb, table_name) == table_snapshot(dynamodb, copies[1])
    for copy in copies:
        dynamodb.delete_table(TableName=copy)


def test_a_walk_spanning_the_whole_migration_sees_each_event_once(
    dynamodb_local: DynamoDBLocal, dynamodb: Any, table_name: str
) -> None:
    before = open_store(dynamodb_local, dynamodb, table_name, 4)
    active = [event for event in bulk_load(before, dynamodb, 200) if event["status"] == "active"]
    both = open_store(dynamodb_local, dynamodb, table_name, 16, read=16)
    after = open_store(dynamodb_local, dynamodb, table_name, 16)
    listed: list[dict[str, Any]] = []
    cursor = None

    def next_page(store: EventStore) -> None:
        nonlocal cursor
        page = store.list_events(status="active", limit=6, cursor=cursor)
        listed.extend(page.items)
        cursor = page.next_cursor

    # Cursors hold no shard count: one issued before a step carries on after it.
    next_page(before)
    next_page(before)
    next_page(both)
    migrate(TableAdmin(dynamodb, table_name, 16), MigrationState.start(table_name, 16, 1))
    next_page(both)
    while cursor is not None:
        next_page(after)
    assert [event["eventId"] for event in listed] == [
        event["eventId"] for event in sorted(active, key=sort_key)
    ]


def test_a_move_never_revives_a_deleted_event_or_undoes_an_update(
    dynamodb_local: DynamoDBLocal, dynamodb: Any, table_name: str
) -> None:
    before = open_store(dynamodb_local, dynamodb, table_name, 4)
    gone, changed, kept = moving_ids(4, 16, 3)
    for event_id in (gone, changed, kept):
        store_event(before, eventId=event_id)
    mover = TableAdmin(dynamodb, table_name, 16)
    batch = mover.find_misplaced(after=None, limit=10)
    assert {move.event_id for move in batch.moves} == {gone, changed, kept}
    # Between the scan and the writes, the new code deletes one event and updates another.
    live = open_store(dynamodb_local, dynamodb, table_name, 16, read=16)
    live.delete(gone)
    updated = live.update(changed, {"status": "cancelled"})
    kept_before = before.get(kept)

    outcomes = {move.event_id: mover.move_shard(move) for move in batch.moves}

    assert outcomes == {gone: False, changed: False, kept: True}
    with pytest.raises(EventNotFound):
        live.get(gone)
    items = {item["eventId"]["S"]: item for item in table_snapshot(dynamodb, table_name)}
    assert items[changed]["statusShard"]["S"] == to_item(updated, 16)["statusShard"]["S"]
    assert items[kept]["statusShard"]["S"] == f"active#{shard_of(kept, 16)}"
    # Moving an event is not an update: its version and updatedAt (its ETag) stay.
    assert live.get(kept) == kept_before
    assert [event["eventId"] for page in walk(live, "cancelled", 10) for event in page] == [changed]


def test_the_command_resumes_where_it_stopped_and_a_rerun_moves_nothing(
    dynamodb_local: DynamoDBLocal,
    dynamodb: Any,
    table_name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # The command reads the service's own settings from the environment.
    for name, value in settings_values(dynamodb_local, table_name).items():
        monkeypatch.setenv(name, value)
    before = open_store(dynamodb_local, dynamodb, table_name, 4)
    bulk_load(before, dynamodb, 200)
    misplaced = len(
        TableAdmin(dynamodb, table_name, 16).find_misplaced(after=None, limit=1000).moves
    )
    assert main(["--shards", "16", "--check"]) == 1
    assert f"Scanned 200 items: {misplaced} not in" in capsys.readouterr().out

    # DynamoDB gives up on the third batch, as a throttled table would after the retries.
    scan_batch = TableAdmin.find_misplaced
    calls = 0

    def throttled_on_the_third_batch(self: TableAdmin, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise StoreUnavailable("The event store is unavailable; retry shortly.")
        return scan_batch(self, **kwargs)

    monkeypatch.setattr(TableAdmin, "find_misplaced", throttled_on_the_third_batch)
    state_file = tmp_path / "migration.json"
    assert main(["--shards", "16", "--batch-size", "30", "--state-file", str(state_file)]) == 1
    stopped = MigrationState.from_json(state_file.read_text())
    assert (stopped.scanned, stopped.finished) == (60, False)
    token = re.search(r"--resume-from (\S+)", capsys.readouterr().err)
    assert token is not None
    assert MigrationState.from_token(token.group(1)) == stopped
    monkeypatch.setattr(TableAdmin, "find_misplaced", scan_batch)

    # The printed token resumes after the last finished batch: the totals cover both runs,
    # 200 items scanned (not 60 + 200) and each misplaced event moved once.
    resume = ["--batch-size", "30", "--rate", "100000", "--resume-from", token.group(1)]
    assert main(["--shards", "16", *resume]) == 0
    assert f"Scanned 200 items: moved {misplaced} to" in capsys.readouterr().out
    # The state file still holds the interrupted run: resuming from it rescans the rest
    # and finds those events already moved.
    assert main(["--shards", "16", "--state-file", str(state_file)]) == 0
    assert f"Scanned 200 items: moved {stopped.moved} to" in capsys.readouterr().out
    assert main(["--shards", "16", "--state-file", str(state_file)]) == 0
    assert f"Scanned 200 items: moved {stopped.moved} to" in capsys.readouterr().out
    # A rerun from scratch finds nothing to move; the check passes.
    assert main(["--shards", "16"]) == 0
    assert "Scanned 200 items: moved 0 " in capsys.readouterr().out
    assert main(["--shards", "16", "--check"]) == 0
    assert "Scanned 200 items: 0 not in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [
        ["--shards", "0"],
        ["--shards", "65"],
        ["--shards", "16", "--batch-size", "0"],
        ["--shards", "16", "--resume-from", "not-a-token"],
        ["--shards", "16", "--check", "--resume-from", "x"],
        ["--shards", "8", "--resume-from", MigrationState.start("Events", 16, 1).token()],
    ],
)
def test_bad_arguments_are_refused_before_anything_is_read(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
