"""What DynamoDB calls consume, measured on DynamoDB Local for tests and benchmarks.

DynamoDB Local reports ConsumedCapacity as DynamoDB bills it (4 KB read units, 1 KB write
units, rounded up per call), except that a read returning nothing reports 0 where AWS
charges the minimum of 0.5.
"""

from __future__ import annotations

import threading
from typing import Any


class CapacityMeter:
    """Counts what a client's DynamoDB calls consume, via botocore's event hooks.

    Every call made through the client while the meter is active asks for
    ReturnConsumedCapacity, from any thread (the store reads shards in parallel).
    """

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, float, int]] = []
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
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        capacity = parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)
        with self._lock:
            self.calls.append((model.name, capacity, parsed.get("ScannedCount", 0)))

    @property
    def units(self) -> float:
        return sum(capacity for _, capacity, _ in self.calls)

    @property
    def scanned(self) -> int:
        """Items the calls read, matching or not."""
        return sum(count for _, _, count in self.calls)

    def operations(self) -> set[str]:
        return {name for name, _, _ in self.calls}
