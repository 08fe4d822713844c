"""Cold start: a fresh process imports the Lambda handler and answers one `GET /events/{id}`.

The floor is a fresh process that imports boto3, creates a DynamoDB client and makes the
same GetItem; a second reference does the same with botocore alone (boto3 drags in
s3transfer). Processes of the three kinds take turns, so the machine's load falls on each
alike, and a first round (which also writes any missing bytecode) is thrown away.

The time is the wall time from just before the parent starts the process to the moment
the process has the response: interpreter start, imports, Lambda's init (building the
app or client) and the first request, as the client of a cold Lambda waits through them.
Each process also reports when its imports were done, which splits that time in two.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from bench.child import EVENT_ID, BenchError
from bench.stats import compared, milliseconds, summary
from local.paths import REPO_ROOT

# `started`, `initialised`, `answered`: time.monotonic_ns(), one clock for every process.
SERVICE_PROGRAM = """
import time
started = time.monotonic_ns()
import json, sys
from service.handler import handler
initialised = time.monotonic_ns()

class Context:
    aws_request_id = "cold-start"

response = handler(json.loads(sys.argv[1]), Context())
answered = time.monotonic_ns()
print(json.dumps({"started": started, "initialised": initialised, "answered": answered,
                  "status": response["statusCode"]}))
"""

# The floor's client and the botocore-only reference's; the import layers start from these too.
BOTO3_CLIENT = "import boto3; client = boto3.client('dynamodb')"
BOTOCORE_CLIENT = (
    "import botocore.session; client = botocore.session.get_session().create_client('dynamodb')"
)

# The floor's process, given the line that makes its `client`.
FLOOR_PROGRAM = """
import time
started = time.monotonic_ns()
import json, os, sys
%(client)s
initialised = time.monotonic_ns()
response = client.get_item(TableName=os.environ["EVENTS_TABLE_NAME"],
                           Key={"eventId": {"S": sys.argv[2]}})
answered = time.monotonic_ns()
print(json.dumps({"started": started, "initialised": initialised, "answered": answered,
                  "status": 200 if "Item" in response else 404}))
"""

PROGRAMS = {
    "service": SERVICE_PROGRAM,
    "floor": FLOOR_PROGRAM % {"client": BOTO3_CLIENT},
    "botocore": FLOOR_PROGRAM % {"client": BOTOCORE_CLIENT},
}


def _run(program: str, arguments: list[str], env: Mapping[str, str]) -> dict[str, Any]:
    """Run `program` in a fresh interpreter; what it printed last, as JSON."""
    completed = subprocess.run(  # noqa: S603 - our own interpreter and program
        [sys.executable, "-c", program, *arguments],
        env=dict(env),
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    lines = completed.stdout.decode().strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise BenchError(f"cold start process failed:\n{completed.stderr.decode()[-3000:]}")
    # The service writes its access-log lines first; the timings are the last line.
    printed: dict[str, Any] = json.loads(lines[-1])
    return printed


def _one_process(program: str, event: str, event_id: str, env: Mapping[str, str]) -> dict[str, Any]:
    spawned = time.monotonic_ns()
    times = _run(program, [event, event_id], env)
    if times["status"] != 200:
        raise BenchError(f"cold start answered {times['status']}, not 200")
    return {
        "total_ms": milliseconds(times["answered"] - spawned),
        "interpreter_ms": milliseconds(times["started"] - spawned),
        "init_ms": milliseconds(times["initialised"] - times["started"]),
        "first_call_ms": milliseconds(times["answered"] - times["initialised"]),
    }


def measure(
    event_template: str, event_id: str, env: Mapping[str, str], processes: int
) -> dict[str, Any]:
    """`processes` fresh processes of each kind, after one discarded round."""
    event = event_template.replace(EVENT_ID, event_id)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PROGRAMS}
    for round_number in range(processes + 1):
        for name, program in PROGRAMS.items():
            run = _one_process(program, event, event_id, env)
            if round_number:
                runs[name].append(run)
    totals = {name: [run["total_ms"] for run in kind] for name, kind in runs.items()}
    result = compared(totals["service"], totals["floor"])
    result["botocore"] = summary(totals["botocore"])
    result["botocore_median_ratio"] = result["service"]["median"] / result["botocore"]["median"]
    result["phases"] = {
        name: {
            phase: summary([run[phase] for run in kind])["median"]
            for phase in ("interpreter_ms", "init_ms", "first_call_ms")
        }
        for name, kind in runs.items()
    }
    result["samples"] = totals
    return result


# SnapStart's restore path: the init and the before-snapshot hook run at publish time, the
# after-restore hook when an environment resumes (it drops the pooled connections); then
# the first request, warm ones, and requests each on a new connection (the after-restore
# hook before each), all from the same process. Without the runtime's hook API here, the
# program calls the hooks service.snapstart registers, as the runtime would. `%(restore)s`
# is the after-restore hook, or nothing: then the first request is the one the issue's
# figure times, right after the warm-up, on the connection the warm-up left open.
RESTORE_PROGRAM = """
import time
started = time.monotonic_ns()
import json, sys
from service.handler import app, dynamodb_client, handler
from service import snapstart
initialised = time.monotonic_ns()
snapstart.warm_up(handler, app)
%(restore)s
hooked = time.monotonic_ns()

class Context:
    aws_request_id = "restore"

event = json.loads(sys.argv[1])

def timed():
    before = time.perf_counter_ns()
    response = handler(event, Context())
    elapsed = time.perf_counter_ns() - before
    if response["statusCode"] != 200:
        raise SystemExit(f"GET answered {response['statusCode']}")
    return elapsed

warm = [timed() for _ in range(%(warm)d)]
fresh = []
for _ in range(%(fresh)d):
    snapstart.refresh(dynamodb_client)
    fresh.append(timed())

# What a new connection costs any client: the floor's GetItem, warm and on a new one.
import os
%(client)s
def floor_call():
    before = time.perf_counter_ns()
    client.get_item(TableName=os.environ["EVENTS_TABLE_NAME"], Key={"eventId": {"S": sys.argv[2]}})
    return time.perf_counter_ns() - before

floor_warm = [floor_call() for _ in range(%(warm)d)]
floor_fresh = []
for _ in range(%(fresh)d):
    client.close()
    floor_fresh.append(floor_call())
print(json.dumps({"started": started, "initialised": initialised, "hooked": hooked,
                  "warm": warm, "fresh": fresh, "floor_warm": floor_warm,
                  "floor_fresh": floor_fresh}))
"""
# Per process: the first request and then warm ones, of which the first few are dropped
# from its warm median (as the warm GET figure drops a warm-up); then requests on a new
# connection each.
RESTORE_WARM, RESTORE_WARMUP, RESTORE_FRESH = 60, 10, 10
# The two kinds of process: the first GET right after the warm-up (the figure:
# whatever set-up the hooks leave to it), and after the after-restore hook as well, on
# the new connection every restored environment must open.
RESTORE_KINDS = {"warmed": "", "restored": "snapstart.refresh(dynamodb_client)"}


def restore(
    event_template: str, event_id: str, env: Mapping[str, str], processes: int
) -> dict[str, Any]:
    """`processes` fresh processes of each kind, taking turns: the hooks, then GETs."""
    event = event_template.replace(EVENT_ID, event_id)
    programs = {
        kind: RESTORE_PROGRAM
        % {
            "restore": line,
            "warm": 1 + RESTORE_WARM,
            "fresh": RESTORE_FRESH,
            "client": BOTOCORE_CLIENT,
        }
        for kind, line in RESTORE_KINDS.items()
    }
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in programs}
    for _ in range(processes):
        for kind, program in programs.items():
            runs[kind].append(_run(program, [event, event_id], env))
    result: dict[str, Any] = {kind: _first_requests(kind_runs) for kind, kind_runs in runs.items()}
    every = [run for kind_runs in runs.values() for run in kind_runs]
    medians = functools.partial(_medians, every)
    # What reopening the connection costs a bare GetItem, in the same processes.
    result["floor_fresh_to_warm"] = summary(
        [
            n / w
            for n, w in zip(
                medians("floor_fresh"), medians("floor_warm", 1 + RESTORE_WARMUP), strict=True
            )
        ]
    )
    result["init_ms"] = summary(
        [milliseconds(run["initialised"] - run["started"]) for run in every]
    )
    result["hooks_ms"] = summary(
        [milliseconds(run["hooked"] - run["initialised"]) for run in runs["warmed"]]
    )
    return result


def _medians(runs: list[dict[str, Any]], key: str, skip: int = 0) -> list[float]:
    return [summary([milliseconds(t) for t in run[key][skip:]])["median"] for run in runs]


def _first_requests(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each process's first request against its own warm median and its own requests on a
    new connection (what is left of the first request besides the connection)."""
    first = [milliseconds(run["warm"][0]) for run in runs]
    warm = _medians(runs, "warm", 1 + RESTORE_WARMUP)
    fresh = _medians(runs, "fresh")
    return {
        "first": summary(first),
        "warm": summary(warm),
        "fresh_connection": summary(fresh),
        "first_to_warm": summary([f / w for f, w in zip(first, warm, strict=True)]),
        "first_to_fresh": summary([f / n for f, n in zip(first, fresh, strict=True)]),
    }


# What the service's init imports, layer on layer, each in a fresh process: where the time
# between the floor and the service goes. Every step adds to the one before it; the time
# runs to the end of the imports, as the cold start's `initialised` does.
IMPORT_LAYERS = {
    "python": "pass",
    "botocore client": BOTOCORE_CLIENT,
    "boto3 client (the floor's init)": BOTO3_CLIENT,
    "botocore client + pydantic": f"{BOTOCORE_CLIENT}; from pydantic import BaseModel",
    "+ fastapi": f"{BOTOCORE_CLIENT}; from pydantic import BaseModel; import fastapi",
    "+ pydantic.v1 (FastAPI's v1 check)": f"{BOTOCORE_CLIENT}; import fastapi, pydantic.v1",
    "+ mangum": f"{BOTOCORE_CLIENT}; import fastapi, pydantic.v1, mangum.adapter, mangum.handlers",
    "service.handler (the service's init)": "import service.handler",
}


def import_layers(env: Mapping[str, str], rounds: int) -> dict[str, float]:
    """Median ms from starting a fresh process to the end of each layer's imports."""
    samples: dict[str, list[float]] = {name: [] for name in IMPORT_LAYERS}
    for round_number in range(rounds + 1):
        for name, program in IMPORT_LAYERS.items():
            started = time.monotonic_ns()
            completed = subprocess.run(  # noqa: S603 - our own interpreter and program
                [sys.executable, "-c", f"{program}; import time; print(time.monotonic_ns())"],
                env=dict(env),
                cwd=REPO_ROOT,
                capture_output=True,
                check=True,
            )
            if round_number:
                samples[name].append(milliseconds(int(completed.stdout) - started))
    return {name: summary(times)["median"] for name, times in samples.items()}
