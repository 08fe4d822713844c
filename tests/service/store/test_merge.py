"""The shard merge on its own: shards as sorted lists of index keys, read in batches.

The merge makes no DynamoDB call; `Shelves` stands where the listing's Query calls stand,
serving each shard's keys in order, `batch` at a time, with a start key while more remain
(as DynamoDB's LastEvaluatedKey does). The same merge against DynamoDB Local is covered
through EventStore in tests/service/store/test_listing.py.
"""

from __future__ import annotations

import pytest

from service.store.merge import Item, Key, Shard, ShardMerge
from service.table import DATE_KEY_ATTRIBUTE


def key_item(key: str) -> Item:
    return {DATE_KEY_ATTRIBUTE: {"S": key}}


class Shelves:
    """Each shard's keys, served in batches; every refill is noted."""

    def __init__(self, *shards: list[str], batch: int = 2) -> None:
        self.keys = {f"s{n}": sorted(keys) for n, keys in enumerate(shards)}
        self.batch = batch
        self.refills: list[tuple[list[str], int, int]] = []

    def merge(self) -> ShardMerge:
        return ShardMerge([Shard(partition) for partition in self.keys])

    def refill(self, dry: list[Shard], wanted: int, live: int) -> None:
        self.refills.append(([shard.partition for shard in dry], wanted, live))
        for shard in dry:
            start = int(shard.start_key["at"]["N"]) if shard.start_key else 0
            keys = self.keys[shard.partition][start : start + self.batch]
            end = start + len(keys)
            last: Key | None = {"at": {"N": str(end)}} if len(keys) == self.batch else None
            shard.received([key_item(key) for key in keys], last)


def keys(page: list[Item]) -> list[str]:
    return [item[DATE_KEY_ATTRIBUTE]["S"] for item in page]


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_a_page_takes_the_smallest_keys_of_all_shards_in_order(batch: int) -> None:
    shelves = Shelves(["a", "d", "g", "h"], ["b", "c"], [], ["e", "f", "i"], batch=batch)
    merge = shelves.merge()
    assert keys(merge.page(6, shelves.refill)) == ["a", "b", "c", "d", "e", "f"]
    assert merge.has_more()
    assert keys(merge.page(6, shelves.refill)) == ["g", "h", "i"]
    assert not merge.has_more()


def test_only_dry_shards_are_read_again_with_what_the_page_still_wants() -> None:
    shelves = Shelves(["a", "b", "c", "d"], ["x", "y"], batch=2)
    merge = shelves.merge()
    assert keys(merge.page(3, shelves.refill)) == ["a", "b", "c"]
    assert shelves.refills == [
        (["s0", "s1"], 3, 2),  # the first round: every shard
        (["s0"], 1, 2),  # s0 ran dry after two items; s1 still holds "x"
    ]
    assert merge.buffered()  # "d" was read beyond the page: a next page exists


def test_a_finished_shard_is_never_read_again() -> None:
    shelves = Shelves(["a"], ["b", "c", "d"], batch=1)
    merge = shelves.merge()
    assert keys(merge.page(4, shelves.refill)) == ["a", "b", "c", "d"]
    assert shelves.refills == [
        (["s0", "s1"], 4, 2),
        (["s0"], 3, 2),  # s0 turns out finished: it holds nothing after "a"
        (["s1"], 2, 1),  # one live shard left, which the batch size divides by
        (["s1"], 1, 1),
    ]
    # s1's last read filled its batch, so it may hold more: the listing stays open.
    assert [shard.partition for shard in merge.unfinished()] == ["s1"]


def test_an_item_in_two_shards_at_once_is_listed_once() -> None:
    # How the index can look for a moment while a migration moves "b" between shards.
    shelves = Shelves(["a", "b", "c"], ["b", "d"], batch=3)
    merge = shelves.merge()
    assert keys(merge.page(10, shelves.refill)) == ["a", "b", "c", "d"]


def test_a_shard_that_may_hold_more_keeps_the_listing_open_with_nothing_buffered() -> None:
    # DynamoDB returns a start key whenever a read fills its limit, more items or not.
    shelves = Shelves(["a", "b"], [], batch=2)
    merge = shelves.merge()
    assert keys(merge.page(2, shelves.refill)) == ["a", "b"]
    assert not merge.buffered()
    assert [shard.partition for shard in merge.unfinished()] == ["s0"]
    assert merge.has_more()
