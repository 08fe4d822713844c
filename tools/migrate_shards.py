"""Move every event to the status-index layout of a new shard count.

    .venv/bin/python -m tools.migrate_shards --shards 16 [--table Events]
        [--endpoint URL | --aws] [--batch-size 100] [--segments 1] [--rate 0]
        [--state-file PATH | --resume-from TOKEN]
    .venv/bin/python -m tools.migrate_shards --shards 16 --aws --check

Scans the table in batches and rewrites `statusShard` of each event whose shard changes,
through TableAdmin.move_shard: a conditional write, so a deleted event stays deleted and
a concurrent update's index keys win. Progress is saved after every batch (to the state
file, and as a token printed when the run stops early); a rerun moves only what is still
misplaced. `--check` writes nothing and exits 1 while any event is misplaced. The table
is aimed at as `make seed` aims (tools/target.py): an endpoint, `make run`'s DynamoDB
Local, or AWS with --aws, whose account, region and table it names first.

Run it only once every instance writes with the new count; the whole procedure (deploy
reading both layouts, migrate, switch) is in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from service.errors import StoreUnavailable
from service.table import MAX_STATUS_SHARDS
from tools.table_admin import TableAdmin
from tools.target import add_target_arguments, resolve


@dataclass
class MigrationState:
    """Where a migration stands: enough to resume it, and its running totals."""

    table: str
    shards: int
    segments: int
    # Per scan segment: resume after this eventId (None: from the start), or done.
    positions: list[str | None] = field(default_factory=list)
    done: list[bool] = field(default_factory=list)
    scanned: int = 0
    moved: int = 0
    skipped: int = 0
    misplaced: int = 0

    @classmethod
    def start(cls, table: str, shards: int, segments: int) -> MigrationState:
        return cls(table, shards, segments, [None] * segments, [False] * segments)

    @property
    def finished(self) -> bool:
        return all(self.done)

    def token(self) -> str:
        payload = json.dumps(asdict(self), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> MigrationState:
        try:
            payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            return cls.from_json(payload.decode())
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"not a resume token printed by this command: {error}") from None

    @classmethod
    def from_json(cls, text: str) -> MigrationState:
        try:
            state = cls(**json.loads(text))
        except TypeError as error:
            raise ValueError(f"not a migration state: {error}") from None
        if len(state.positions) != state.segments or len(state.done) != state.segments:
            raise ValueError("not a migration state: one position per segment expected")
        return state

    def save(self, path: Path) -> None:
        # Write then rename, so an interrupted save never leaves half a state behind.
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(asdict(self), indent=1))
        os.replace(partial, path)


class RateLimit:
    """At most `per_second` moves a second across all workers; 0 means no limit.

    Every move costs two writes on the index (the old entry removed, the new one added):
    a limit keeps the migration from taking the write capacity the live traffic needs.
    """

    def __init__(self, per_second: float) -> None:
        self._interval = 1 / per_second if per_second > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(self._next, now) + self._interval
        if delay > 0:
            time.sleep(delay)


def migrate(
    admin: TableAdmin,
    state: MigrationState,
    *,
    batch_size: int = 100,
    check: bool = False,
    rate: RateLimit | None = None,
    state_file: Path | None = None,
    progress: tqdm[Any] | None = None,
) -> MigrationState:
    """Run (or resume) a migration until every segment is done; `state` is updated in place.

    With `check`, nothing is written: `state.misplaced` counts the events still to move.
    """
    lock = threading.Lock()
    stop = threading.Event()
    rate = rate or RateLimit(0)

    def run_segment(segment: int) -> None:
        while not state.done[segment] and not stop.is_set():
            batch = admin.find_misplaced(
                after=state.positions[segment],
                limit=batch_size,
                segment=segment,
                segments=state.segments,
            )
            moved = 0
            if not check:
                for move in batch.moves:
                    rate.wait()
                    moved += admin.move_shard(move)
            with lock:
                state.positions[segment] = batch.next_position
                state.done[segment] = batch.next_position is None
                state.scanned += batch.scanned
                state.misplaced += len(batch.moves) if check else 0
                state.moved += moved
                state.skipped += 0 if check else len(batch.moves) - moved
                if state_file is not None:
                    state.save(state_file)
                if progress is not None:
                    progress.update(batch.scanned)
                    counts = (
                        {"misplaced": state.misplaced}
                        if check
                        else {"moved": state.moved, "skipped": state.skipped}
                    )
                    progress.set_postfix(counts, refresh=False)

    pending = [segment for segment in range(state.segments) if not state.done[segment]]
    with ThreadPoolExecutor(max_workers=max(len(pending), 1)) as pool:
        futures = [pool.submit(run_segment, segment) for segment in pending]
        try:
            for future in futures:
                future.result()
        except BaseException:
            # Let the other segments finish their batch, so the saved state is exact.
            stop.set()
            raise
    return state


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.migrate_shards",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--shards",
        type=int,
        required=True,
        help=f"the new shard count, 1-{MAX_STATUS_SHARDS} (EVENTS_STATUS_SHARDS of the deploy)",
    )
    add_target_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=100, help="items per scan request")
    parser.add_argument(
        "--segments", type=int, default=1, help="parallel scan segments (workers), default 1"
    )
    parser.add_argument(
        "--rate", type=float, default=0, help="at most this many moves a second (0: no limit)"
    )
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "--state-file", type=Path, help="keep progress here; resume from it if it exists"
    )
    resume.add_argument("--resume-from", metavar="TOKEN", help="a token an earlier run printed")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 while any event is misplaced"
    )
    return parser


def _initial_state(
    args: argparse.Namespace, parser: argparse.ArgumentParser, table: str
) -> MigrationState:
    try:
        if args.resume_from:
            state = MigrationState.from_token(args.resume_from)
        elif args.state_file and args.state_file.exists():
            state = MigrationState.from_json(args.state_file.read_text())
        else:
            return MigrationState.start(table, args.shards, args.segments)
    except ValueError as error:
        parser.error(str(error))
    if (state.table, state.shards) != (table, args.shards):
        parser.error(
            f"the saved progress is for table {state.table!r} and {state.shards} shards, "
            f"not {table!r} and {args.shards}"
        )
    return state


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not 1 <= args.shards <= MAX_STATUS_SHARDS:
        parser.error(f"--shards must be between 1 and {MAX_STATUS_SHARDS}")
    if args.batch_size < 1 or args.segments < 1 or args.rate < 0:
        parser.error("--batch-size and --segments must be positive, --rate not negative")
    if args.check and (args.state_file or args.resume_from):
        parser.error("--check always scans the whole table; it takes no saved progress")

    settings, target = resolve(args, status_shards=args.shards, status_shards_read=None)
    table = settings.table_name
    state = _initial_state(args, parser, table)
    print(f"{'Checking' if args.check else 'Migrating'} {target}.", file=sys.stderr)
    admin = TableAdmin.from_settings(settings)
    try:
        total = admin.approximate_item_count()
        with tqdm(total=total, initial=state.scanned, unit=" items", file=sys.stderr) as bar:
            migrate(
                admin,
                state,
                batch_size=args.batch_size,
                check=args.check,
                rate=RateLimit(args.rate),
                state_file=args.state_file,
                progress=bar,
            )
    except (KeyboardInterrupt, StoreUnavailable) as error:
        reason = "interrupted" if isinstance(error, KeyboardInterrupt) else str(error)
        print(f"Stopped after {state.scanned} items: {reason}", file=sys.stderr)
        again = f"--shards {args.shards} --table {table}"
        if args.aws or args.endpoint:
            again += " --aws" if args.aws else f" --endpoint {args.endpoint}"
        print(
            f"Resume with: .venv/bin/python -m tools.migrate_shards {again} "
            f"--resume-from {state.token()}",
            file=sys.stderr,
        )
        return 1

    layout = f"the {args.shards}-shard layout"
    if args.check:
        print(f"Scanned {state.scanned} items: {state.misplaced} not in {layout}.")
        return 1 if state.misplaced else 0
    print(
        f"Scanned {state.scanned} items: moved {state.moved} to {layout}; {state.skipped} "
        "changed or were deleted meanwhile and were left as they are (--check tells whether "
        "any is still misplaced)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
