"""The smoke test against the app served by uvicorn on a free port, on DynamoDB Local."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from local.dynamodb_local import DynamoDBLocal, ensure_keys_table
from local.paths import REPO_ROOT
from service.app import create_app
from service.table import create_table_request, keys_table_name
from tests.conftest import make_settings, table_snapshot, temporary_keys_table
from tests.servers import serve
from tools.smoke import main

STEPS = (
    "health",
    "create",
    "create again (replay)",
    "get",
    "list",
    "update (If-Match)",
    "update (stale If-Match)",
    "delete",
    "confirm 404",
)


class HiddenFromListing:
    """Answers the first `times` listings with an empty page, as an index that has not
    caught up yet would; everything else goes to the real app."""

    def __init__(self, app: ASGIApp, times: int) -> None:
        self.app = app
        self.times = times
        self.listings = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/events":
            self.listings += 1
            if self.listings <= self.times:
                empty_page = JSONResponse({"items": [], "nextCursor": None})
                await empty_page(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequireApiKey:
    """API Gateway's check of a usage-plan key, in front of the real app."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"x-api-key", self.key) not in scope["headers"]:
            await JSONResponse({"message": "Forbidden"}, 403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.fixture(autouse=True)
def keys_table(dynamodb: Any, table_name: str) -> Iterator[None]:
    """The walk's create sends an Idempotency-Key: the app needs its table."""
    with temporary_keys_table(dynamodb, keys_table_name(table_name)):
        yield


def test_the_smoke_test_walks_the_api_and_leaves_nothing_behind(
    app: FastAPI, dynamodb: Any, table_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(app) as url:
        assert main(["--url", url]) == 0

    output = capsys.readouterr().out
    rows = [line for line in output.splitlines() if line.split("  ")[0].strip() in STEPS]
    assert [row.split("  ")[0].strip() for row in rows] == list(STEPS)
    assert all(" ms  ok" in row for row in rows)
    assert "All steps passed" in output
    assert table_snapshot(dynamodb, table_name) == []


def test_a_failing_step_stops_the_walk_shows_the_response_and_cleans_up(
    dynamodb_local: DynamoDBLocal, dynamodb: Any, tmp_path: Path
) -> None:
    # A table whose status index is missing: the real app answers the listing with a 500.
    request = create_table_request("events-without-index")
    del request["GlobalSecondaryIndexes"]
    request["AttributeDefinitions"] = request["AttributeDefinitions"][:1]
    dynamodb.create_table(**request)
    ensure_keys_table(dynamodb, keys_table_name("events-without-index"))
    try:
        app = create_app(make_settings(dynamodb_local, "events-without-index"))
        with serve(app) as url:
            # As an operator runs it: the module as a command, in its own process.
            result = subprocess.run(
                [sys.executable, "-m", "tools.smoke", "--url", url],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        remaining = table_snapshot(dynamodb, "events-without-index")
    finally:
        dynamodb.delete_table(TableName="events-without-index")
        dynamodb.delete_table(TableName=keys_table_name("events-without-index"))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED at list: expected HTTP 200, got 500" in result.stdout
    assert '"status": 500' in result.stdout  # the response is shown
    assert "update (If-Match)" not in result.stdout  # the walk stopped there
    cleanup = next(line for line in result.stdout.splitlines() if line.startswith("clean-up"))
    assert "204" in cleanup
    assert "deleted" in cleanup
    assert remaining == []


def test_the_listing_is_retried_until_the_event_shows(
    app: FastAPI, dynamodb: Any, table_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lagging = HiddenFromListing(app, times=2)

    with serve(lagging) as url:
        assert main(["--url", url]) == 0

    assert lagging.listings == 3
    assert "ok (attempt 3)" in capsys.readouterr().out
    assert table_snapshot(dynamodb, table_name) == []


def test_the_listing_retries_are_bounded_and_the_event_is_still_cleaned_up(
    app: FastAPI, dynamodb: Any, table_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    never_listed = HiddenFromListing(app, times=1_000)

    with serve(never_listed) as url:
        assert main(["--url", url, "--list-wait", "1"]) == 1

    output = capsys.readouterr().out
    assert 2 <= never_listed.listings <= 4  # backoff 0.25 s, 0.5 s, ... within one second
    assert f"not listed after {never_listed.listings} attempts" in output
    assert table_snapshot(dynamodb, table_name) == []


def test_the_api_key_is_sent_when_given(
    app: FastAPI,
    dynamodb: Any,
    table_name: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EVENTS_API_KEY", raising=False)
    with serve(RequireApiKey(app, "k3y-for-tests")) as url:
        assert main(["--url", url]) == 1
        refused = capsys.readouterr().out
        assert main(["--url", url, "--api-key", "k3y-for-tests"]) == 0
        monkeypatch.setenv("EVENTS_API_KEY", "k3y-for-tests")
        assert main(["--url", url]) == 0

    assert "FAILED at health: expected HTTP 200, got 403" in refused
    assert '"message": "Forbidden"' in refused
    assert "clean-up" not in refused  # nothing was created, so nothing to clean
    assert table_snapshot(dynamodb, table_name) == []


def test_the_url_defaults_to_the_stacks_api_url_output(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(app) as url:
        # The Pulumi CLI is not installed here: a script answers the one call the command makes.
        pulumi = tmp_path / "pulumi"
        pulumi.write_text(
            "#!/bin/sh\n"
            f'[ "$*" = "stack output apiUrl --stack dev" ] && echo "{url}" && exit 0\n'
            'echo "unexpected arguments: $*" >&2; exit 1\n'
        )
        pulumi.chmod(pulumi.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

        assert main(["--stack", "dev"]) == 0
        assert main(["--stack", "prod"]) == 2


def test_without_url_or_pulumi_cli_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert main(["--stack", "dev"]) == 2

    error = capsys.readouterr().err
    assert "--url" in error
    assert "Pulumi CLI" in error
