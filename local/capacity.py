"""What DynamoDB calls consume, measured on DynamoDB Local for tests and benchmarks.

DynamoDB Local reports ConsumedCapacity as DynamoDB bills it (4 KB read units, 1 KB write
units, rounded up per call), except that a read returning nothing reports 0 where AWS
charges the minimum of 0.5.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple


class Call(NamedTuple):
    operation: str
    units: float
    index_units: float
    """The part of `units` spent on global secondary indexes (0 unless detail="INDEXES")."""
    scanned: int


class CapacityMeter:
    """Counts what a client's DynamoDB calls consume, via botocore's event hooks.

    Every call made through the client while the meter is active asks for
    ReturnConsumedCapacity, from any thread (the store reads shards in parallel).
    """

    def __init__(self, client: Any, detail: str = "TOTAL") -> None:
        self.calls: list[Call] = []
        self._detail = detail
        self._lock = threading.Lock()
        self._client = client

    def __enter__(self) -> CapacityMeter:
        events = self._client.meta.events
        events.register("provide-client-params.dynamodb.*", self._ask_for_capacity)
        events.register("after-call.dynamodb.*", self._record)
        return self

    def __exit__(self, *exc_info: object) -> None:
        events = self._client.meta.events
        events.unregister("provide-client-params.dynamodb.*", self._ask_for_capacity)
        events.unregister("after-call.dynamodb.*", self._record)

    def _ask_for_capacity(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", self._detail)

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity", {})
        # Transactions and batches report a list: one entry per table they touched.
        tables = consumed if isinstance(consumed, list) else [consumed]
        indexes = [
            index for table in tables for index in table.get("GlobalSecondaryIndexes", {}).values()
        ]
        call = Call(
            model.name,
            sum(table.get("CapacityUnits", 0.0) for table in tables),
            sum(index["CapacityUnits"] for index in indexes),
            parsed.get("ScannedCount", 0),
        )
        with self._lock:
            self.calls.append(call)

    @property
    def units(self) -> float:
        return sum(call.units for call in self.calls)

    def operations(self) -> set[str]:
        return {call.operation for call in self.calls}
