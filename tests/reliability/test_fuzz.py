"""Contract fuzzing: Schemathesis against the service's own OpenAPI document, over HTTP.

`st run` drives every operation of /openapi.json in all its phases (the document's
examples, boundary coverage, random fuzzing, and stateful sequences that follow the
document's links: create, then read, update and delete what was created) with every
check, against uvicorn on DynamoDB Local. The run passes only with no 5xx and no
response outside the documented statuses, schemas, content types and headers.
The slow run (`make test-slow`) generates at least 1,000 cases; `make test` a quick one.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from local.paths import REPO_ROOT
from tests.conftest import TEST_CURSOR_SECRET
from tests.reliability.checks import leaks, missing_security_headers
from tests.reliability.live import LiveServer

CONFIG = Path(__file__).with_name("schemathesis.toml")
ALL_OPERATIONS = 7
QUICK_SEED = 20261126


def run_schemathesis(
    server: LiveServer, reports: Path, *options: str, time_limit: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `st run` against the server; its JSON report and every exchange it made (HAR)."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--workers",
        "1",
        "--report",
        "json,har",
        "--report-json-path",
        str(reports / "report.json"),
        "--report-har-path",
        str(reports / "exchanges.har"),
        *options,
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.reliability.fuzz_hooks",
        "PYTHONPATH": str(REPO_ROOT),
        # The hooks read cursors with the server's secret (tests.conftest.settings_values).
        "EVENTS_CURSOR_SECRET": TEST_CURSOR_SECRET,
    }
    run = subprocess.run(
        command,
        env=environment,
        cwd=reports,  # st keeps its replay cache in the working directory
        capture_output=True,
        text=True,
        timeout=time_limit,
        check=False,
    )
    print(run.stdout[-6000:], run.stderr[-3000:])
    report = json.loads((reports / "report.json").read_text())
    exchanges = json.loads((reports / "exchanges.har").read_text())["log"]["entries"]
    return report, exchanges


def assert_clean_run(
    server: LiveServer,
    report: dict[str, Any],
    exchanges: list[dict[str, Any]],
    cases: int,
    operations: int = ALL_OPERATIONS,
) -> None:
    assert report["failures"] == [], report["failures"]
    assert report["errors"] == [], report["errors"]
    assert report["exit_code"] == 0
    assert report["operations"]["tested"] == operations
    assert report["test_cases"]["generated"] >= cases
    statuses = [entry["response"]["status"] for entry in exchanges]
    assert len(statuses) >= cases
    assert [status for status in statuses if status >= 500] == []
    for entry in exchanges:
        response = entry["response"]
        headers = {header["name"]: header["value"] for header in response["headers"]}
        assert missing_security_headers(headers) == [], entry["request"]["url"]
        if response["status"] >= 400:
            assert leaks(response["content"].get("text", "")) == [], response["content"]
    assert server.unhandled_errors() == []
    print(
        f"fuzz: {report['test_cases']['generated']} cases, {len(statuses)} requests, "
        f"statuses {sorted(set(statuses))}, dropped by filter_failure: {report['filtered']}, "
        f"seed {report['seed']}, {report['running_time']:.0f} s"
    )


def test_a_quick_fuzz_run_finds_nothing(live: LiveServer, tmp_path: Path) -> None:
    report, exchanges = run_schemathesis(
        live,
        tmp_path,
        "--phases",
        "examples,fuzzing,stateful",
        "--max-examples",
        "12",
        "--seed",
        str(QUICK_SEED),
        time_limit=240,
    )
    assert_clean_run(live, report, exchanges, cases=100)


@pytest.mark.slow
def test_a_thousand_case_fuzz_run_finds_nothing(live: LiveServer, tmp_path: Path) -> None:
    report, exchanges = run_schemathesis(live, tmp_path, "--max-examples", "100", time_limit=900)
    assert_clean_run(live, report, exchanges, cases=1000)
    assert {phase["status"] for phase in report["phases"].values()} == {"success"}


def successes_on_created_events(exchanges: list[dict[str, Any]]) -> collections.Counter[str]:
    """2xx answers, by method, to requests on an event that an earlier POST of the run created."""
    created: set[str] = set()
    successes: collections.Counter[str] = collections.Counter()
    for entry in exchanges:
        request, response = entry["request"], entry["response"]
        path = urlsplit(request["url"]).path
        if request["method"] == "POST" and response["status"] == 201:
            created.add(json.loads(response["content"]["text"])["eventId"])
        elif (
            path.startswith("/events/")
            and unquote(path.removeprefix("/events/")) in created
            and 200 <= response["status"] < 300
        ):
            successes[request["method"]] += 1
    return successes


@pytest.mark.slow
def test_stateful_sequences_act_on_what_they_created(live: LiveServer, tmp_path: Path) -> None:
    """A minute of scenarios that follow the document's links: create, then read, update,
    patch and delete that event (at the ETag the last answer gave), in every order."""
    report, exchanges = run_schemathesis(
        live, tmp_path, "--phases", "stateful", "--max-time", "60", time_limit=300
    )
    # /health has no links, so no scenario reaches it.
    assert_clean_run(live, report, exchanges, cases=100, operations=ALL_OPERATIONS - 1)
    successes = successes_on_created_events(exchanges)
    assert set(successes) == {"GET", "PUT", "PATCH", "DELETE"}, successes
    print(f"stateful: on events the run created, 2xx by method {dict(successes)}")
