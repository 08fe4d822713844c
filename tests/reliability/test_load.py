"""Load with verification: the mixed workload of load.py, then the audit of the table.

A few seconds in `make test`; a minute with more users in `make test-slow`. Run with
`-s` (or `python -m tests.reliability.load`) to see the figures.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import store_event
from tests.reliability.live import LiveServer
from tests.reliability.load import EXPECTED, WEIGHTS, Ledger, audit, report, run_load


def _run_and_audit(live: LiveServer, dynamodb: Any, table: str, seconds: float, users: int) -> None:
    started = time.monotonic()
    ledger = asyncio.run(run_load(live.url, seconds=seconds, users=users, max_requests=100_000))
    result = audit(ledger, dynamodb, table)
    print(report(ledger, result, time.monotonic() - started))
    statuses = {status for _, status in ledger.statuses}
    assert statuses <= EXPECTED, statuses
    assert {operation for operation, _ in ledger.statuses} == set(WEIGHTS)
    assert ledger.deleted
    assert result.clean, result
    assert live.unhandled_errors() == []


def test_a_short_mixed_load_loses_nothing(live: LiveServer, dynamodb: Any, live_table: str) -> None:
    _run_and_audit(live, dynamodb, live_table, seconds=4, users=8)


@pytest.mark.slow
def test_a_minute_of_mixed_load_loses_nothing(
    live: LiveServer, dynamodb: Any, live_table: str
) -> None:
    _run_and_audit(live, dynamodb, live_table, seconds=60, users=16)


def test_the_audit_catches_lost_stale_resurrected_and_phantom_writes(
    app: Any, dynamodb: Any, table_name: str
) -> None:
    ledger = Ledger(prefix="audited")
    store = app.state.store
    events = [store_event(store, eventId=f"audited-{n}") for n in range(5)]
    for event in events:
        ledger.record_event(event)
    ledger.deleted.add("audited-4")  # acknowledged as deleted, yet still there
    dynamodb.delete_item(TableName=table_name, Key={"eventId": {"S": "audited-0"}})
    store.update("audited-1", {"capacity": 3})  # changed behind the ledger's back
    ledger.record_event({**store.update("audited-2", {"capacity": 4}), "version": 2})
    ledger.updates["audited-2"] = 0  # one acknowledged update went uncounted
    store_event(store, eventId="audited-9")  # never acknowledged to anyone
    result = audit(ledger, dynamodb, table_name)
    assert (result.lost, result.stale, result.miscounted) == (
        ["audited-0"],
        ["audited-1"],
        ["audited-2"],
    )
    assert (result.resurrected, result.phantoms) == (["audited-4"], ["audited-9"])
    assert not result.clean
