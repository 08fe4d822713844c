"""The benchmark harness, end to end at toy sizes: each figure measures, reports and draws.

These prove the machinery (fresh processes, floors, capacity metering, the table and the
picture), never a time: the figures themselves come from `make bench`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench.plot import draw
from bench.report import missed_targets, table
from bench.run import FIGURES, Profile, run
from local.dynamodb_local import DynamoDBLocal
from local.paths import REPO_ROOT
from service.table import DEFAULT_STATUS_SHARDS
from tests.conftest import outside_make

TINY = Profile(
    name="tiny",
    workload_events=30,
    cold_processes=1,
    cold_layer_rounds=0,
    warm_requests=20,
    warm_warmup=5,
    table_sizes=(40, 80),
    list_requests=4,
    list_warmup=2,
    memory_invocations=50,
    memory_every=10,
    http_connections=(4,),
    http_seconds=1,
)


@pytest.mark.parametrize(
    ("invocations", "every"),
    [(50, 3), (11, 2)],  # every 3rd misses the 10th invocation; every 2nd misses the 11th, the last
)
def test_a_profile_must_sample_both_points_growth_is_read_between(
    invocations: int, every: int
) -> None:
    with pytest.raises(ValueError, match="growth is read between"):
        replace(TINY, memory_invocations=invocations, memory_every=every)


def measure(local: DynamoDBLocal, *figures: str) -> dict[str, Any]:
    results = run(TINY, figures, local, log=lambda message: None)
    json.dumps(results)  # latest.json takes it as it is
    return results


def assert_reported(results: dict[str, Any], tmp_path: Path, *labels: str) -> None:
    text = table(results)
    for label in labels:
        assert label in text
    assert "FAILED" not in text
    assert max(len(line) for line in text.splitlines()) <= 100  # a terminal's width
    picture = tmp_path / "latest.png"
    draw(results, picture)
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_warm_get_list_page_and_memory(dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    results = measure(dynamodb_local, "warm_get", "list_page", "memory")
    figures = results["figures"]

    warm = figures["warm_get"]
    assert warm["service"]["n"] == warm["floor"]["n"] == TINY.warm_requests

    listing = figures["list_page"]
    assert [size["events"] for size in listing["sizes"]] == list(TINY.table_sizes)
    for size in listing["sizes"]:
        capacity = size["capacity"]
        assert capacity["floor"]["calls"] == 1
        assert capacity["service"]["calls"] >= DEFAULT_STATUS_SHARDS  # every shard is read
        assert capacity["service"]["capacity_units"] > 0
        assert size["service"]["n"] == size["floor"]["n"] == TINY.list_requests

    memory = figures["memory"]
    for process in ("service", "floor"):
        points = [number for number, _ in memory[process]["resident"]]
        assert points == list(range(0, TINY.memory_invocations + 1, TINY.memory_every))
        assert memory[process]["peak"] >= max(rss for _, rss in memory[process]["resident"])
        assert memory[process]["growth_from"] == TINY.memory_invocations // 5
        resident = dict(memory[process]["resident"])
        growth = resident[TINY.memory_invocations] - resident[TINY.memory_growth_from]
        assert memory[process]["growth_bytes"] == growth

    assert_reported(results, tmp_path, "warm GET, median", "list page, 80 events", "memory")


@pytest.mark.slow
def test_cold_start_and_http(dynamodb_local: DynamoDBLocal, tmp_path: Path) -> None:
    results = measure(dynamodb_local, "cold_start", "http")
    figures = results["figures"]

    cold = figures["cold_start"]
    for kind in ("service", "floor", "botocore"):
        assert cold["samples"][kind]
        assert cold["phases"][kind]["init_ms"] > 0
    restore = cold["restore"]
    for kind in ("warmed", "restored"):
        assert restore[kind]["first"]["n"] == restore[kind]["warm"]["n"] == TINY.cold_processes
    assert restore["hooks_ms"]["median"] > 0
    assert restore["floor_fresh_to_warm"]["n"] == 2 * TINY.cold_processes
    assert "SnapStart: first GET / warm GET" in table(results)
    assert "floor, new connection / warm" in table(results)

    if shutil.which("wrk") is None:
        assert "apt-get install wrk" in figures["http"]["error"]
        return
    (level,) = figures["http"]["levels"]
    assert level["requests"] > 0
    assert level["errors"] == 0
    assert_reported(results, tmp_path, "cold start, median", "HTTP, 4 connections")


def test_the_committed_results_table_fits_a_100_column_terminal() -> None:
    results = json.loads((REPO_ROOT / "bench" / "results" / "latest.json").read_text())
    assert max(len(line) for line in table(results).splitlines()) <= 100
    missed, held = missed_targets(results)
    assert 0 <= missed <= held
    assert held == table(results).count(" yes") + table(results).count(" NO")


def test_a_missing_prerequisite_is_one_line_before_anything_runs(tmp_path: Path) -> None:
    """Without wrk on PATH, `make bench-quick` stops at once (it used to fail after 50 s)."""
    completed = subprocess.run(
        [shutil.which("make") or "make", "--no-print-directory", "bench-quick"],
        cwd=REPO_ROOT,
        env=outside_make({**os.environ, "PATH": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    errors = [line for line in completed.stderr.splitlines() if not line.startswith("make:")]
    others = " ".join(name for name in FIGURES if name != "http")
    assert errors == [
        f"error: the HTTP figure needs wrk: apt-get install wrk (or leave it out: --only {others})"
    ]
    assert completed.stdout == ""


def test_the_documents_use_the_measured_read_units_of_a_page_at_the_default_shards() -> None:
    """One figure, measured (bench/results/latest.json), in the README, docs/scaling.md and
    the cost table of docs/operations.md alike."""
    results = json.loads((REPO_ROOT / "bench" / "results" / "latest.json").read_text())
    listing = results["figures"]["list_page"]
    assert listing["shards"] == DEFAULT_STATUS_SHARDS
    (units,) = {size["capacity"]["service"]["capacity_units"] for size in listing["sizes"]}
    figure = f"{units:g}"

    readme = (REPO_ROOT / "README.md").read_text()
    assert f"{figure} read\n  units at the default S = {DEFAULT_STATUS_SHARDS}" in readme
    scaling = (REPO_ROOT / "docs" / "scaling.md").read_text()
    assert f"{figure} at S = {DEFAULT_STATUS_SHARDS} (the default" in scaling
    operations = (REPO_ROOT / "docs" / "operations.md").read_text()
    assert f"plus one look-ahead item, {figure} read units in\n  all" in operations
