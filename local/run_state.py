"""What a running `make run` leaves for other commands: its endpoints, in one small file.

`make seed`, the smoke command and the operator tools read it to find DynamoDB Local and
the API without configuration. The first instance to start owns the file; another one
(`make run PORT=8001`) leaves it alone, and each removes only the file it wrote, so one
instance never takes another's state away. A file whose process is gone is stale.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from local.paths import DATA_DIR

STATE_FILE = DATA_DIR / "endpoint"


@dataclass(frozen=True)
class RunState:
    pid: int
    dynamodb_endpoint: str
    api_url: str

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # someone else's process: alive, just not ours
            return True
        return True


def read_state(path: Path | None = None) -> RunState | None:
    """The state a `make run` left, or None when there is none (or it cannot be read)."""
    try:
        return RunState(**json.loads((path or STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def running_instance(path: Path | None = None) -> RunState | None:
    """The `make run` that is serving now, if one left its state."""
    state = read_state(path)
    return state if state is not None and state.alive else None


@contextlib.contextmanager
def advertised(dynamodb_endpoint: str, api_url: str, path: Path | None = None) -> Iterator[bool]:
    """Leave this instance's state while the block runs, unless a live instance owns the
    file; yields whether this instance wrote it."""
    path = path or STATE_FILE
    state = RunState(os.getpid(), dynamodb_endpoint, api_url)
    if running_instance(path) is not None:
        yield False
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(state)) + "\n")
    try:
        yield True
    finally:
        if read_state(path) == state:
            path.unlink(missing_ok=True)
