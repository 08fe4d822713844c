"""`python -m tests.service.snapstart_probe config.json result.json`: SnapStart's life in a
fresh process, through the Lambda runtime's own hook library.

FastAPI, Starlette and botocore keep their lazily built state per process (FastAPI's
per-endpoint caches are module-level), so whether the hooks leave anything for a first
request can only be seen in a process that has served nothing before: this one.

It imports `service.handler` as Lambda's init does, with AWS's `snapshot_restore_py`
installed (a dev dependency; the runtime ships it), runs the registered hooks as the
runtime interface client does (awslambdaric's `lambda_runtime_hooks_runner`, whose ten lines
are copied below: the package itself needs a C build), then serves each case's two
requests, each on new connections as after a restore, and records what the first request
did that the second did not: modules imported, and Python functions called.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import snapshot_restore_py

from local.lambda_context import LocalContext


def run_before_snapshot() -> list[Any]:
    """awslambdaric's: last registered first, popped off the registry. Also what each returned."""
    results = []
    callables = snapshot_restore_py.get_before_snapshot()
    while callables:
        func, args, kwargs = callables.pop()
        results.append(func(*args, **kwargs))
    return results


def run_after_restore() -> None:
    """awslambdaric's: in the order of registration, kept for the next restore."""
    for func, args, kwargs in snapshot_restore_py.get_after_restore():
        func(*args, **kwargs)


class CallRecorder:
    """The Python functions called while recording, in every thread: the store reads a
    listing's shards in worker threads, so the profile function is installed before the
    handler's import starts any (`threading.setprofile` reaches only threads started after)."""

    def __init__(self) -> None:
        self.calls: set[str] | None = None
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)

    def profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event == "call" and self.calls is not None:
            code = frame.f_code
            self.calls.add(f"{code.co_filename.rsplit('site-packages/', 1)[-1]}:{code.co_name}")

    def trace(
        self, call: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], set[str], set[str]]:
        """The call's result, the functions it ran, and the modules it imported."""
        modules = set(sys.modules)
        self.calls = set()
        try:
            result = call()
        finally:
            calls, self.calls = self.calls, None
        return result, calls, set(sys.modules) - modules


def serve(handler: Callable[..., dict[str, Any]], event: dict[str, Any]) -> dict[str, Any]:
    return handler(event, LocalContext())


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    recorder = CallRecorder()

    import service.handler as lambda_module

    registered = {
        "before_snapshot": [f.__name__ for f, _, _ in snapshot_restore_py.get_before_snapshot()],
        "after_restore": [f.__name__ for f, _, _ in snapshot_restore_py.get_after_restore()],
    }
    # The control run skips the warm-up, to show what a first request does without it.
    warmed = run_before_snapshot() if config.get("before_snapshot", True) else []
    # Each hook's answers, as (method, path, status, answered inside the process).
    warm_up = [
        [[w.request.method, w.request.path, w.status, w.rehearsed] for w in answered]
        for answered in warmed
    ]
    run_after_restore()

    cases = {}
    for name, events in config["cases"].items():
        served = []
        for event in events:
            run_after_restore()
            served.append(recorder.trace(functools.partial(serve, lambda_module.handler, event)))
        (first, first_functions, imported), (second, second_functions, _) = served
        cases[name] = {
            "statuses": [first["statusCode"], second["statusCode"]],
            "imported": sorted(imported),
            "first_only": sorted(first_functions - second_functions),
        }
    result = {"registered": registered, "warm_up": warm_up, "cases": cases}
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
