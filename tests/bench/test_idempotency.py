"""The Idempotency-Key figure of the benchmark, at toy size: it measures, reports and draws."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.dynamodb_local import DynamoDBLocal
from tests.bench.test_run import TINY, assert_reported, measure


@pytest.mark.slow  # a measuring process of its own: half a minute on a busy machine
def test_keyed_and_plain_creates_are_metered_and_timed(
    dynamodb_local: DynamoDBLocal, tmp_path: Path
) -> None:
    results = measure(dynamodb_local, "idempotency")
    figure = results["figures"]["idempotency"]

    assert figure["samples"]["keyed"]
    assert figure["samples"]["plain"]
    assert figure["latency"]["service"]["n"] == TINY.warm_requests // 4
    units = {kind: summary["median"] for kind, summary in figure["units_measured"].items()}
    # Under 1 KB each: a plain create writes the event and its index entry; a keyed one
    # the event, its index entry and the record, each twice, as DynamoDB Local reports it.
    assert figure["item_bytes"]["event"] < 1024
    assert figure["item_bytes"]["record"] < 1024
    assert units == {"plain": 2.0, "keyed": 6.0}
    assert figure["units_aws"] == {"plain": 2, "keyed_low": 5, "keyed_high": 6}
    assert_reported(
        results, tmp_path, "create WCU, keyed vs plain", "create median, keyed vs plain"
    )
