"""`python -m bench.run [--quick]`: every figure, against its floor, in one run.

Starts an in-memory DynamoDB Local, loads deterministic events, measures each figure in
fresh processes, prints one table, and writes `bench/results/latest.json` and
`latest.png` (or the `--out` folder's). `make bench` runs the full suite, `make bench-quick`
smaller samples and tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench import cold_start, footprint, http, idempotency
from bench.child import BenchError, run_child
from bench.data import LISTED_STATUS, load_events, make_events
from bench.plot import draw
from bench.report import missed_targets, table
from bench.stats import compared, summary
from bench.workload import MIX, PAGE_SIZE, templates
from local.command_line import fail
from local.dynamodb_local import (
    LOCAL_CREDENTIALS,
    DynamoDBLocal,
    DynamoDBLocalError,
    ensure_table,
    ensure_tables,
)
from local.paths import REPO_ROOT
from service.store import to_item
from service.table import DEFAULT_STATUS_SHARDS, status_shard_key

RESULTS = REPO_ROOT / "bench" / "results"
FIGURES = ("footprint", "cold_start", "warm_get", "list_page", "memory", "http", "idempotency")
WORKLOAD_TABLE, SHARDED_TABLE, UNSHARDED_TABLE = (
    "bench-workload",
    "bench-sharded",
    "bench-unsharded",
)


@dataclass(frozen=True)
class Profile:
    """How much of everything: sample counts, table sizes, durations."""

    name: str
    workload_events: int
    cold_processes: int
    cold_layer_rounds: int
    warm_requests: int
    warm_warmup: int
    table_sizes: tuple[int, ...]
    list_requests: int
    list_warmup: int
    memory_invocations: int
    memory_every: int
    http_connections: tuple[int, ...]
    http_seconds: float

    def __post_init__(self) -> None:
        if (
            self.memory_growth_from % self.memory_every
            or self.memory_invocations % self.memory_every
        ):
            raise ValueError("memory samples must include the two points growth is read between")

    @property
    def memory_growth_from(self) -> int:
        """Growth is read from the fifth of the run on: 2,000 to 10,000 in the full run."""
        return self.memory_invocations // 5


FULL = Profile(
    name="full",
    workload_events=1000,
    cold_processes=15,
    cold_layer_rounds=10,
    warm_requests=2000,
    warm_warmup=200,
    table_sizes=(1000, 10_000, 50_000),
    list_requests=200,
    list_warmup=20,
    memory_invocations=10_000,
    memory_every=500,
    http_connections=(16, 64),
    http_seconds=10,
)
QUICK = replace(
    FULL,
    name="quick",
    cold_processes=5,
    cold_layer_rounds=0,
    warm_requests=400,
    warm_warmup=100,
    table_sizes=(1000, 5000),
    list_requests=50,
    list_warmup=10,
    memory_invocations=2000,
    memory_every=200,
    http_seconds=3,
)


def service_environment(endpoint_url: str) -> dict[str, str]:
    """The environment the deployed function has, on the workload table of DynamoDB Local."""
    return {
        **os.environ,
        **LOCAL_CREDENTIALS,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "EVENTS_TABLE_NAME": WORKLOAD_TABLE,
        "EVENTS_CURSOR_SECRET": "bench-cursor-secret-0123456789",
    }


@dataclass
class Bench:
    """The benchmark's tables on a running DynamoDB Local, and the profile to measure."""

    profile: Profile
    client: Any
    env: dict[str, str]
    """What the measuring processes run with: `service_environment` of the DynamoDB Local."""
    log: Callable[[str], None]
    workload_ids: list[str]
    """The events the workload table holds, which reads and updates pick from."""

    def child(self, module: str, config: dict[str, Any]) -> Any:
        return run_child(module, config, self.env, timeout=600)


def cold_start_figure(bench: Bench) -> dict[str, Any]:
    result = cold_start.measure(
        templates()["get"], bench.workload_ids[7], bench.env, bench.profile.cold_processes
    )
    result["restore"] = cold_start.restore(
        templates()["get"], bench.workload_ids[7], bench.env, bench.profile.cold_processes
    )
    if bench.profile.cold_layer_rounds:
        result["import_layers"] = cold_start.import_layers(
            bench.env, bench.profile.cold_layer_rounds
        )
    return result


def warm_get_figure(bench: Bench) -> dict[str, Any]:
    config = {
        "template": templates()["get"],
        "event_ids": bench.workload_ids,
        "table_name": WORKLOAD_TABLE,
        "requests": bench.profile.warm_requests,
        "warmup": bench.profile.warm_warmup,
    }
    samples = bench.child("bench.warm", config)
    return {**compared(samples["service"], samples["floor"]), "samples": samples}


def list_page_figure(bench: Bench) -> dict[str, Any]:
    config = {
        "template": templates()["list"],
        "sharded_table": SHARDED_TABLE,
        "unsharded_table": UNSHARDED_TABLE,
        "shards": DEFAULT_STATUS_SHARDS,
        "status": LISTED_STATUS,
        "page_size": PAGE_SIZE,
        "requests": bench.profile.list_requests,
        "warmup": bench.profile.list_warmup,
    }
    sizes: list[dict[str, Any]] = []
    loaded = 0
    for size in bench.profile.table_sizes:
        started = time.monotonic()
        events = make_events(loaded, size)
        load_events(bench.client, SHARDED_TABLE, events, DEFAULT_STATUS_SHARDS)
        load_events(bench.client, UNSHARDED_TABLE, events, 1)
        loaded = size
        bench.log(f"  loaded {size:,} events ({time.monotonic() - started:.0f} s)")
        measured = bench.child("bench.listing", config)
        samples = measured["samples"]
        sizes.append(
            {
                "events": size,
                **compared(samples["service"], samples["floor"]),
                "service_unsharded": summary(samples["service_unsharded"]),
                "capacity": measured["capacity"],
                "samples": samples,
            }
        )
    return {"shards": DEFAULT_STATUS_SHARDS, "page_size": PAGE_SIZE, "sizes": sizes}


def memory_figure(bench: Bench) -> dict[str, Any]:
    new_event = make_events(0, 1)[0]
    config = {
        "templates": templates(),
        "mix": MIX,
        "event_ids": bench.workload_ids,
        "table_name": WORKLOAD_TABLE,
        "invocations": bench.profile.memory_invocations,
        "every": bench.profile.memory_every,
        "page_size": PAGE_SIZE,
        "page_partition": status_shard_key(LISTED_STATUS, 0),
        "new_item": to_item(new_event, DEFAULT_STATUS_SHARDS),
    }
    result: dict[str, Any] = {"invocations": bench.profile.memory_invocations}
    run_id = time.time_ns()
    start = bench.profile.memory_growth_from
    for process in ("service", "floor"):
        measured = bench.child(
            "bench.memory",
            {**config, "process": process, "new_id_prefix": f"mem-{process}-{run_id}-"},
        )
        points = dict(measured["resident"])
        measured["growth_from"] = start
        measured["growth_bytes"] = points[bench.profile.memory_invocations] - points[start]
        result[process] = measured
    result["peak_ratio"] = result["service"]["peak"] / result["floor"]["peak"]
    return result


def http_figure(bench: Bench) -> dict[str, Any]:
    return http.measure(
        bench.env,
        bench.workload_ids,
        bench.profile.http_connections,
        bench.profile.http_seconds,
    )


MEASURES: dict[str, Callable[[Bench], dict[str, Any]]] = {
    "footprint": lambda bench: footprint.measure(),
    "cold_start": cold_start_figure,
    "warm_get": warm_get_figure,
    "list_page": list_page_figure,
    "memory": memory_figure,
    "http": http_figure,
    "idempotency": idempotency.figure,
}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }


def run(
    profile: Profile, figures: tuple[str, ...], local: DynamoDBLocal, log: Callable[[str], None]
) -> dict[str, Any]:
    """Measure `figures` against a running DynamoDB Local; the results as latest.json has them."""
    results: dict[str, Any] = {
        "profile": asdict(profile),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine_before": machine(),
        "figures": {},
    }
    client = local.client()
    # The workload table serves the service, whose keyed creates need the keys table too.
    ensure_tables(client, WORKLOAD_TABLE)
    for name in (SHARDED_TABLE, UNSHARDED_TABLE):
        ensure_table(client, name)
    workload = make_events(0, profile.workload_events)
    load_events(client, WORKLOAD_TABLE, workload, DEFAULT_STATUS_SHARDS)
    env = service_environment(local.endpoint_url)
    bench = Bench(profile, client, env, log, [event["eventId"] for event in workload])
    for name in figures:
        started = time.monotonic()
        log(f"{name} ...")
        try:
            results["figures"][name] = MEASURES[name](bench)
        except BenchError as error:
            results["figures"][name] = {"error": str(error)}
            log(f"  failed: {error}")
        log(f"  {time.monotonic() - started:.0f} s")
    results["machine_after"] = machine()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller samples and tables")
    parser.add_argument("--only", nargs="+", choices=FIGURES, help="measure only these figures")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.json/png")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when any target is missed, not only on errors"
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    figures = tuple(args.only or FIGURES)
    problems = missing_prerequisites(figures)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 2
    started = time.monotonic()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        with DynamoDBLocal() as local:
            results = run(profile, figures, local, log)
    except DynamoDBLocalError as error:
        fail(str(error), status=1)
    results["seconds"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    draw(results, args.out / "latest.png")
    print(table(results))
    print(f"\n{results['seconds']:.0f} s; wrote {args.out / 'latest.json'} and latest.png")
    missed, held = missed_targets(results)
    print(f"{missed} of {held} targets missed.")
    failed = any("error" in figure for figure in results["figures"].values())
    return 1 if failed or (args.strict and missed) else 0


def missing_prerequisites(figures: tuple[str, ...]) -> list[str]:
    """What the chosen figures need and this machine lacks, found before anything runs."""
    problems = []
    if "http" in figures and shutil.which("wrk") is None:
        problems.append(
            "the HTTP figure needs wrk: apt-get install wrk (or leave it out: "
            f"--only {' '.join(name for name in FIGURES if name != 'http')})"
        )
    if "footprint" in figures and not footprint.UV.exists():
        problems.append(f"the footprint figure needs {footprint.UV}: run `make install` first")
    return problems


if __name__ == "__main__":
    raise SystemExit(main())
