"""The shard merge: the status index's shards, each sorted, merged into one sorted page.

It makes no DynamoDB call itself: when shards run dry it asks its `refill` callback for
more of them (service/store/listing.py queries the index there, in parallel and within the
request's budget), so the merge is a small unit with tests of its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.table import DATE_KEY_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, Any]
"""An index item as DynamoDB returns it."""
Key = dict[str, "AttributeValueTypeDef"]


@dataclass
class Shard:
    """One shard of the status index, read forward in batches during a page merge."""

    partition: str
    start_key: Key | None = None
    """Where its next read starts; None at the start of the shard."""
    more: bool = True
    """Whether DynamoDB may hold more of it beyond what was read."""
    buffer: deque[Item] = field(default_factory=deque)

    def head(self) -> str:
        key: str = self.buffer[0][DATE_KEY_ATTRIBUTE]["S"]
        return key

    def received(self, items: Iterable[Item], last_key: Key | None) -> None:
        """Take in one batch read from this shard, and where the next one starts."""
        self.buffer.extend(items)
        self.start_key = last_key
        self.more = last_key is not None


Refill = Callable[[list[Shard], int, int], None]
"""Read more of these dry shards, given the items the page still wants and how many
shards may still contribute (the two figures a batch size is made of)."""


class ShardMerge:
    """Items of several shards in global (date, eventId) key order, each exactly once."""

    def __init__(self, shards: list[Shard]) -> None:
        self.shards = shards

    def page(self, limit: int, refill: Refill) -> list[Item]:
        """Up to `limit` items in key order.

        Before an item is chosen every shard that may hold more has a buffered item, since
        the smallest key of all can only be told then: a shard is read only while its next
        item could still belong on the page.
        """
        page: list[Item] = []
        while len(page) < limit:
            dry = [shard for shard in self.shards if not shard.buffer and shard.more]
            if dry:
                live = sum(1 for shard in self.shards if shard.buffer or shard.more)
                refill(dry, limit - len(page), live)
                continue
            item = self._pop()
            if item is None:
                break
            page.append(item)
        return page

    def buffered(self) -> bool:
        """Whether an item was read beyond the page: proof that a next page exists."""
        return any(shard.buffer for shard in self.shards)

    def unfinished(self) -> list[Shard]:
        return [shard for shard in self.shards if shard.more]

    def has_more(self) -> bool:
        """Whether anything may follow the page, read already or not."""
        return self.buffered() or bool(self.unfinished())

    def _pop(self) -> Item | None:
        candidates = [shard for shard in self.shards if shard.buffer]
        if not candidates:
            return None
        item = min(candidates, key=Shard.head).buffer.popleft()
        # While a migration moves an event, the index can show it in two shards for a
        # moment (index updates propagate asynchronously): the copies are adjacent.
        for shard in candidates:
            if shard.buffer and shard.head() == item[DATE_KEY_ATTRIBUTE]["S"]:
                shard.buffer.popleft()
        return item
