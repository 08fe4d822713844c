"""List page: `GET /events?status=active&limit=50` through the handler, at one table size.

The service reads the write-sharded status index: S partitions (`active#0` ...
`active#{S-1}`), each read in small batches side by side and merged by date. The floor is
the single Query such a page needs on an index that is not sharded: one partition,
`Limit` = page + 1 (the extra item tells whether a next page exists, as the service's
cursor does). The service is measured at the configured S and at S = 1 on the unsharded
copy of the data, which separates the cost of sharding from the cost of the framework.

Capacity comes from DynamoDB Local's ConsumedCapacity, asked for in a separate pass so
that the latency pass runs the service's calls exactly as deployed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.child import child_main, floor_page_request, lambda_event
from bench.stats import in_turns, milliseconds
from local.capacity import CapacityMeter
from local.lambda_context import LocalContext

BLOCK = 10
CAPACITY_PAGES = 5


def _per_page(client: Any, page: Callable[[], object]) -> dict[str, float]:
    with CapacityMeter(client) as meter:
        for _ in range(CAPACITY_PAGES):
            page()
    return {
        "capacity_units": meter.units / CAPACITY_PAGES,
        "calls": len(meter.calls) / CAPACITY_PAGES,
        "items_read": sum(call.scanned for call in meter.calls) / CAPACITY_PAGES,
    }


def _handler_page(handler: Any, event: dict[str, Any]) -> Callable[[], object]:
    context = LocalContext(aws_request_id="list-page", log_stream_name="bench")

    def page() -> object:
        response = handler(event, context)
        if response["statusCode"] != 200:
            raise RuntimeError(f"list answered {response['statusCode']}: {response['body']}")
        return response

    return page


def _timed(page: Callable[[], object]) -> Callable[[int], float]:
    def timed_page(_number: int) -> float:
        started = time.perf_counter_ns()
        page()
        return milliseconds(time.perf_counter_ns() - started)

    return timed_page


def measure(config: dict[str, Any]) -> dict[str, Any]:
    import boto3

    from service.app import create_app
    from service.handler import build_handler
    from service.settings import Settings
    from service.store import create_dynamodb_client
    from service.table import status_shard_key

    page_size, status = config["page_size"], config["status"]
    event = lambda_event(config["template"], "")
    pages: dict[str, Callable[[], object]] = {}
    clients: dict[str, Any] = {}
    for name, table, shards in (
        ("service", config["sharded_table"], config["shards"]),
        ("service_unsharded", config["unsharded_table"], 1),
    ):
        settings = Settings(**{"EVENTS_TABLE_NAME": table, "EVENTS_STATUS_SHARDS": shards})
        clients[name] = create_dynamodb_client(settings)
        pages[name] = _handler_page(build_handler(create_app(settings, clients[name])), event)

    clients["floor"] = boto3.client("dynamodb")

    floor_request = floor_page_request(
        config["unsharded_table"], status_shard_key(status, 0), page_size
    )

    def floor_page() -> object:
        return clients["floor"].query(**floor_request)

    pages["floor"] = floor_page
    timed = {name: _timed(page) for name, page in pages.items()}
    samples = in_turns(timed, config["warmup"], config["requests"], BLOCK)
    capacity = {name: _per_page(clients[name], page) for name, page in pages.items()}
    return {"samples": samples, "capacity": capacity}


if __name__ == "__main__":
    child_main(measure)
