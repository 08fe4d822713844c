"""What an `Idempotency-Key` costs a create: write units and warm latency, keyed against plain.

A keyed create is one TransactWriteItems of two Puts (the event, and the key record in its
own table) where a plain create is one PutItem. The units are DynamoDB's own
ConsumedCapacity for the service's calls, measured on DynamoDB Local; the latency is
`handler(event, context)` for `POST /events`, keyed and plain taking turns in one warm
process (each request a new event and, keyed, a new key: no replays).

DynamoDB bills a transaction's writes twice (prepare and commit): "2 WCUs per 1 KB item".
The DynamoDB Local jar in .cache/ reports that doubling too (and doubles the status-index
write as well); the AWS figure in the table is computed from item sizes all the same, so it
does not rest on the emulator.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
"""

from __future__ import annotations

import json
import math
import time
import uuid
from typing import TYPE_CHECKING, Any

from bench.child import child_main, lambda_event
from bench.stats import compared, in_turns, milliseconds, summary
from service.api.idempotency import IDEMPOTENCY_KEY_HEADER

if TYPE_CHECKING:
    from bench.run import Bench

BLOCK = 25
WRITE_UNIT_BYTES = 1024
CAPACITY_SAMPLES = 20


def figure(bench: Bench) -> dict[str, Any]:
    """The parent's side: a measuring process on the workload table (and its keys table,
    which bench/run.py creates with it)."""
    from bench.workload import templates

    config = {
        "template": templates()["create"],
        "requests": bench.profile.warm_requests // 4,
        "warmup": bench.profile.warm_warmup // 4,
    }
    result: dict[str, Any] = bench.child("bench.idempotency", config)
    return {**result, "latency": compared(result["samples"]["keyed"], result["samples"]["plain"])}


def _keyed(event: dict[str, Any]) -> dict[str, Any]:
    key = str(uuid.uuid4())
    event["headers"][IDEMPOTENCY_KEY_HEADER] = key
    event["multiValueHeaders"][IDEMPOTENCY_KEY_HEADER] = [key]
    return event


def measure(config: dict[str, Any]) -> dict[str, Any]:
    from local.capacity import CapacityMeter
    from local.lambda_context import LocalContext
    from service.app import create_app
    from service.handler import build_handler
    from service.settings import Settings
    from service.store import create_dynamodb_client, to_item
    from service.store.idempotency import key_record, record_key, request_hash
    from service.store.items import item_bytes

    settings = Settings()
    client = create_dynamodb_client(settings)
    handler = build_handler(create_app(settings, client))
    context = LocalContext(aws_request_id="bench-idempotency", log_stream_name="bench")
    run = uuid.uuid4().hex[:8]

    def create(keyed: bool, number: int) -> tuple[float, dict[str, Any]]:
        event = lambda_event(config["template"], f"idem-{run}-{int(keyed)}-{number}")
        if keyed:
            event = _keyed(event)
        started = time.perf_counter_ns()
        response = handler(event, context)
        elapsed = time.perf_counter_ns() - started
        if response["statusCode"] != 201:
            raise RuntimeError(f"POST answered {response['statusCode']}: {response['body']}")
        return milliseconds(elapsed), response

    samples = in_turns(
        {
            "plain": lambda number: create(False, number)[0],
            "keyed": lambda number: create(True, number)[0],
        },
        config["warmup"],
        config["requests"],
        BLOCK,
    )
    units: dict[str, list[float]] = {"plain": [], "keyed": []}
    for number in range(min(CAPACITY_SAMPLES, config["requests"])):
        for kind in units:
            with CapacityMeter(client) as meter:
                _, response = create(kind == "keyed", 10**6 + number)
            units[kind].append(meter.units)
    # Item sizes, for the AWS bill: each item's 1 KB units, doubled in a transaction.
    event = json.loads(response["body"])
    event_bytes = item_bytes(to_item(event, settings.status_shards))
    record = key_record(record_key("-", str(uuid.uuid4())), request_hash(event), event, 0)
    record_bytes = item_bytes(record)
    return {
        "samples": samples,
        "units_measured": {kind: summary(values) for kind, values in units.items()},
        "item_bytes": {"event": event_bytes, "record": record_bytes},
        "units_aws": _aws_units(event_bytes, record_bytes),
    }


def _write_units(size: int) -> int:
    return math.ceil(size / WRITE_UNIT_BYTES)


def _aws_units(event_bytes: int, record_bytes: int) -> dict[str, int]:
    """What AWS bills, from item sizes. A plain create writes the event and its status-index
    entry (projection ALL: the same size). A transaction writes each item twice; whether
    the index write is doubled too is not documented (DynamoDB Local doubles it), hence a
    low and a high figure."""
    event, record = _write_units(event_bytes), _write_units(record_bytes)
    return {
        "plain": 2 * event,
        "keyed_low": 2 * event + 2 * record + event,
        "keyed_high": 2 * event + 2 * record + 2 * event,
    }


def rows(figure: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """The figure's rows of the results table (bench/report.py)."""
    measured = figure["units_measured"]
    aws = figure["units_aws"]
    latency = figure["latency"]
    return [
        (
            "create WCU, keyed vs plain",
            f"{measured['keyed']['median']:g} WCU",
            f"{measured['plain']['median']:g} WCU",
            f"{measured['keyed']['median'] / measured['plain']['median']:.1f}",
            f"reported (Local); AWS: {aws['keyed_low']}-{aws['keyed_high']} vs {aws['plain']}",
            "",
        ),
        (
            "create median, keyed vs plain",
            f"{latency['service']['median']:.2f} ms",
            f"{latency['floor']['median']:.2f} ms",
            f"{latency['median_ratio']:.2f}",
            "reported",
            "",
        ),
        (
            "create p99, keyed vs plain",
            f"{latency['service']['p99']:.2f} ms",
            f"{latency['floor']['p99']:.2f} ms",
            f"{latency['p99_ratio']:.2f}",
            "reported",
            "",
        ),
    ]


if __name__ == "__main__":
    child_main(measure)
