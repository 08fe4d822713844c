"""`python -m tests.service.snapstart_probe config.json result.json`: SnapStart's life in a
fresh process, with a stand-in for the Lambda runtime's hook API.

FastAPI, Starlette and botocore keep their lazily built state per process (FastAPI's
per-endpoint caches are module-level), so whether the hooks leave anything for a first
request can only be seen in a process that has served nothing before: this one.

It installs a `snapshot_restore_py` module that records registrations like the runtime's
library does, imports `service.handler` as Lambda's init does, runs the registered hooks
in the runtime's order (before-snapshot ones last-registered first, after-restore ones in
order; awslambdaric's `lambda_runtime_hooks_runner`), then serves each case's two
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

from local.lambda_context import LocalContext

Registry = list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]


def hooks_module() -> types.ModuleType:
    """A stand-in for the runtime's `snapshot_restore_py`: the same four functions."""
    module = types.ModuleType("snapshot_restore_py")
    before: Registry = []
    after: Registry = []

    def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        before.append((func, args, kwargs))
        return func

    def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        after.append((func, args, kwargs))
        return func

    module.register_before_snapshot = register_before_snapshot  # type: ignore[attr-defined]
    module.register_after_restore = register_after_restore  # type: ignore[attr-defined]
    module.get_before_snapshot = lambda: before  # type: ignore[attr-defined]
    module.get_after_restore = lambda: after  # type: ignore[attr-defined]
    return module


def run_before_snapshot(hooks: Any) -> list[Any]:
    results = []
    callables = list(hooks.get_before_snapshot())
    while callables:
        func, args, kwargs = callables.pop()
        results.append(func(*args, **kwargs))
    return results


def run_after_restore(hooks: Any) -> None:
    for func, args, kwargs in hooks.get_after_restore():
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
    hooks = sys.modules["snapshot_restore_py"] = hooks_module()
    recorder = CallRecorder()

    import service.handler as lambda_module

    registered = {
        "before_snapshot": [func.__name__ for func, _, _ in hooks.get_before_snapshot()],
        "after_restore": [func.__name__ for func, _, _ in hooks.get_after_restore()],
    }
    # The control run skips the warm-up, to show what a first request does without it.
    warmed = run_before_snapshot(hooks) if config.get("before_snapshot", True) else []
    # Each hook's answers, as (method, path, status, answered inside the process).
    warm_up = [
        [[w.request.method, w.request.path, w.status, w.rehearsed] for w in answered]
        for answered in warmed
    ]
    run_after_restore(hooks)

    cases = {}
    for name, events in config["cases"].items():
        served = []
        for event in events:
            run_after_restore(hooks)
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
