"""Warm GET: `handler(event, context)` for `GET /events/{id}` in a process that has served before.

The floor is the boto3 GetItem the request needs, from a client in the same process. The
two take turns in blocks, so a burst of load on the machine hits both; a warm-up of each
is discarded. Parsing the event JSON is left out of both (Lambda's runtime does it).
"""

from __future__ import annotations

import time
from typing import Any

from bench.child import child_main, lambda_event
from bench.stats import in_turns, milliseconds
from local.lambda_context import LocalContext

BLOCK = 50


def measure(config: dict[str, Any]) -> dict[str, Any]:
    import boto3

    from service.handler import handler

    floor = boto3.client("dynamodb")
    table, ids = config["table_name"], config["event_ids"]
    context = LocalContext(aws_request_id="warm-get", log_stream_name="bench")

    def service_call(number: int) -> float:
        event = lambda_event(config["template"], ids[number % len(ids)])
        started = time.perf_counter_ns()
        response = handler(event, context)
        elapsed = time.perf_counter_ns() - started
        if response["statusCode"] != 200:
            raise RuntimeError(f"GET answered {response['statusCode']}: {response['body']}")
        return milliseconds(elapsed)

    def floor_call(number: int) -> float:
        event_id = ids[number % len(ids)]
        started = time.perf_counter_ns()
        response = floor.get_item(TableName=table, Key={"eventId": {"S": event_id}})
        elapsed = time.perf_counter_ns() - started
        if "Item" not in response:
            raise RuntimeError(f"GetItem found no {event_id}")
        return milliseconds(elapsed)

    calls = {"service": service_call, "floor": floor_call}
    return in_turns(calls, config["warmup"], config["requests"], BLOCK)


if __name__ == "__main__":
    child_main(measure)
