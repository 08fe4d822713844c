"""What a listing page and each kind of write cost, by shard count and table size.

    .venv/bin/python -m bench.scaling [--sizes 1000,10000,50000] [--shards 1,4,16,64]

Runs DynamoDB Local (as the tests do), loads tables of generated events and prints
markdown tables for docs/scaling.md, in capacity units as ReturnConsumedCapacity reports
them. DynamoDB Local reports 0 for a read that finds nothing, where AWS bills 0.5 (an
eventually consistent read unit); the "AWS RCU" columns count that minimum per call.
Each page is `status=active&limit=50`: the first one a fresh process serves (it does not
know the item size yet), then the mean and maximum over the next pages of the walk.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bench.data import load_events
from local.capacity import CapacityMeter
from local.dynamodb_local import DynamoDBLocal, ensure_table
from service.cursor import CursorCodec
from service.models import sample_event
from service.store import EventStore
from service.table import shard_of
from tools.table_admin import TableAdmin

STATUSES = ("active", "cancelled", "completed")
PAGE = 50
# A one-month range: on a large table it fills a page, on a small one it reads the month.
MONTH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
CODEC = CursorCodec("bench-cursor-secret-0123")


def events(start: int, stop: int, description_chars: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(start)  # noqa: S311 - sample data, not secrets
    for number in range(start, stop):
        yield {
            **sample_event(
                eventId=f"bench{number:07d}",
                title=f"Meetup {number}",
                description=("Talks, sprints and a hallway track. " * 30)[:description_chars],
                date=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                capacity=250,
                status=rng.choice(STATUSES),
            ),
            "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z",
            "version": 1,
        }


def aws_read_units(meter: CapacityMeter) -> float:
    return sum(max(call.units, 0.5) for call in meter.calls)


@dataclass
class PageCosts:
    first: float
    first_calls: int
    next_costs: list[float]
    next_calls: list[int]
    month: float
    scan: float

    def next_pages(self) -> str:
        """Read units of the pages after the first, mean / max (queries per page, mean)."""
        if not self.next_costs:  # the first page held every active event, or --pages 0
            return "no next page"
        mean, most = statistics.mean(self.next_costs), max(self.next_costs)
        return f"{mean:.1f} / {most:g} ({statistics.mean(self.next_calls):.1f})"


def measure_pages(store: EventStore, client: Any, table: str, pages: int) -> PageCosts:
    with CapacityMeter(client) as meter:
        page = store.list_events(status="active", limit=PAGE)
    first, first_calls = aws_read_units(meter), len(meter.calls)
    costs, calls = [], []
    for _ in range(pages):
        if page.next_cursor is None:
            break
        with CapacityMeter(client) as meter:
            page = store.list_events(status="active", limit=PAGE, cursor=page.next_cursor)
        costs.append(aws_read_units(meter))
        calls.append(len(meter.calls))
    with CapacityMeter(client) as meter:
        store.list_events(status="active", limit=PAGE, **MONTH)
    month = aws_read_units(meter)
    # For contrast: the same status found by a filtered Scan reads the whole table.
    with CapacityMeter(client) as meter:
        request: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "#status = :active",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":active": {"S": "active"}},
        }
        while True:
            response = client.scan(**request)
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return PageCosts(first, first_calls, costs, calls, month, aws_read_units(meter))


def page_table(
    client: Any,
    shard_counts: list[int],
    sizes: list[int],
    pages: int,
    description_chars: int,
) -> None:
    print(
        "| S | events | first page AWS RCU (queries) | next pages AWS RCU mean / max "
        "(queries) | one-month page AWS RCU | filtered Scan of the table AWS RCU |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for shards in shard_counts:
        table = f"bench-scaling-{shards}-{description_chars}"
        ensure_table(client, table)
        loaded = 0
        for size in sorted(sizes):
            load_events(client, table, list(events(loaded, size, description_chars)), shards)
            loaded = size
            store = EventStore(client, table, CODEC, shards)
            c = measure_pages(store, client, table, pages)
            print(
                f"| {shards} | {size:,} | {c.first:g} ({c.first_calls}) | "
                f"{c.next_pages()} | {c.month:g} | {c.scan:,.0f} |",
                flush=True,
            )
        client.delete_table(TableName=table)


def write_table(client: Any) -> None:
    """What each write costs on the table and on the status index (S does not matter)."""
    table = "bench-scaling-writes"
    ensure_table(client, table)
    store = EventStore(client, table, CODEC, 16)
    admin = TableAdmin(client, table, 16)
    server_set = {"eventId", "createdAt", "updatedAt", "version"}
    fields = {
        name: value for name, value in next(events(0, 1, 32)).items() if name not in server_set
    }
    fields["status"] = "active"
    # An event written by a 4-shard deploy, that a 16-shard layout puts elsewhere.
    ids = (f"m{number}" for number in itertools.count())
    mover = next(event_id for event_id in ids if shard_of(event_id, 4) != shard_of(event_id, 16))
    EventStore(client, table, CODEC, 4).create({**fields, "eventId": mover})
    (move,) = admin.find_misplaced(after=None, limit=10).moves
    writes: list[tuple[str, Callable[[], object]]] = [
        ("create", lambda: store.create({**fields, "eventId": "w2"})),
        ("update a field that is no index key", lambda: store.update("w2", {"title": "New"})),
        ("update status", lambda: store.update("w2", {"status": "cancelled"})),
        ("update date", lambda: store.update("w2", {"date": "2026-09-09"})),
        ("delete", lambda: store.delete("w2")),
        ("migration: move one event to its new shard", lambda: admin.move_shard(move)),
    ]
    print("| write (event < 1 KB) | WCU total | on the table | on the status index |")
    print("|---|---:|---:|---:|")
    for name, write in writes:
        with CapacityMeter(client, detail="INDEXES") as meter:
            write()
        write_units = meter.calls[-1]
        table_units = write_units.units - write_units.index_units
        print(f"| {name} | {write_units.units:g} | {table_units:g} | {write_units.index_units:g} |")
    client.delete_table(TableName=table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,50000", help="table sizes, in events")
    parser.add_argument("--shards", default="1,4,16,64", help="shard counts")
    parser.add_argument("--pages", type=int, default=10, help="pages walked after the first")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    shard_counts = [int(shards) for shards in args.shards.split(",")]

    with DynamoDBLocal() as local:
        client = local.client()
        print("Pages of 50 active events, events of about 0.4 KB (a 32-character description):\n")
        page_table(client, shard_counts, sizes, args.pages, 32)
        print("\nThe same with events of about 1.4 KB (a 1,000-character description):\n")
        page_table(client, [4, 16], [10_000], args.pages, 1000)
        print("\nWrites:\n")
        write_table(client)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
