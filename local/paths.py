"""Where things are on disk: the repository and the ignored folders local tooling writes."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Downloads (the DynamoDB Local jar) and scratch output: safe to delete.
CACHE_DIR = REPO_ROOT / ".cache"
# `make run`'s state: persisted tables and the file other commands find it by. Tests move
# it (EVENTS_LOCAL_DATA_DIR) so that they never meet a developer's running instance.
DATA_DIR = Path(os.environ.get("EVENTS_LOCAL_DATA_DIR") or REPO_ROOT / ".data")
