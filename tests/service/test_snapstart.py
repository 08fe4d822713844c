"""SnapStart's runtime hooks (`service.snapstart`), against DynamoDB Local.

- registered with the runtime's hook API when it is there, and nothing when it is not;
- the before-snapshot warm-up reaches every route and changes no data;
- after it, no route's first request does one-time set-up (seen in a fresh process,
  `tests.service.snapstart_probe`, by what the first request does that the second does not);
- after the after-restore hook the client answers on new connections, and the `random`
  state differs between environments restored from one snapshot.
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import snapshot_restore_py
import urllib3.util.connection
from fastapi import FastAPI

from local.dynamodb_local import DynamoDBLocal
from local.lambda_events import SHAPES, LambdaClient, rest_api_event
from local.paths import REPO_ROOT
from service import snapstart
from service.api.idempotency import IDEMPOTENCY_KEY_HEADER
from service.app import create_app
from service.handler import build_handler
from service.settings import Settings
from service.store import EventStore, create_dynamodb_client
from tests.conftest import (
    new_event,
    service_environment,
    store_event,
    table_snapshot,
    temporary_keys_table,
)

REST = next(shape for shape in SHAPES if shape.kind == "rest")
JSON = [("Content-Type", "application/json")]
# What a first request may still do after the hooks, and why:
# - work on its connections, which are new after a restore by design (`refresh`);
CONNECTIONS = ("urllib3/", "/http/client.py:", "/socket.py:")
# - a worker thread of the listing's shard reads started now: the executor starts one only
#   when no idle one takes the work, so how many the warm-up's one listing left depends on
#   how its Queries interleaved (in a snapshot, those threads are restored with the rest).
THREADS = ("/concurrent/futures/thread.py:", "/threading.py:")


def test_hooks_are_registered_with_the_runtimes_library(app: FastAPI, settings: Settings) -> None:
    """Through AWS's `snapshot_restore_py` (a dev dependency here; Lambda's Python runtime
    ships it), whose registries are the process's: this test's entries are removed after."""
    before, after = (
        snapshot_restore_py.get_before_snapshot(),
        snapshot_restore_py.get_after_restore(),
    )
    already = len(before), len(after)
    handler, client = build_handler(app), create_dynamodb_client(settings)
    try:
        assert snapstart.register(handler, app, client) is True
        assert before[already[0] :] == [(snapstart.warm_up, (handler, app), {})]
        assert after[already[1] :] == [(snapstart.refresh, (client,), {})]
    finally:
        del before[already[0] :], after[already[1] :]


def test_nothing_is_registered_without_the_module(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail as it does where the module is not installed.
    monkeypatch.setitem(sys.modules, snapstart.HOOKS_MODULE, None)
    handler = build_handler(app)

    assert snapstart.register(handler, app, create_dynamodb_client(settings)) is False
    assert LambdaClient(handler, REST).request("GET", "/health").status_code == 200


def test_the_warm_up_reaches_every_route_and_changes_no_data(
    settings: Settings, dynamodb: Any, table_name: str, logged: list[logging.LogRecord]
) -> None:
    store = EventStore.from_settings(settings)
    kept = [
        store_event(store, eventId=f"kept-{number}", status="active", date="9999-12-31")
        for number in range(3)
    ]
    store_event(store, eventId=snapstart.WARM_UP_EVENT_ID, capacity=10)
    before = table_snapshot(dynamodb, table_name)
    app = create_app(settings)
    handler = build_handler(app)

    answered = snapstart.warm_up(handler, app)

    assert table_snapshot(dynamodb, table_name) == before
    operations = {
        (method.upper(), snapstart.PATH_PARAMETER.sub(snapstart.WARM_UP_EVENT_ID, template))
        for template, methods in app.openapi()["paths"].items()
        for method in methods
    }
    rehearsed = [warmed for warmed in answered if warmed.rehearsed]
    reached = [warmed for warmed in answered if not warmed.rehearsed]
    for round_ in (rehearsed, reached):
        assert operations <= {(w.request.method, w.request.path) for w in round_}
    assert ("GET", app.openapi_url) in {(w.request.method, w.request.path) for w in reached}
    # The rehearsal runs each operation's success path, with each optional parameter the
    # document declares that picks another path through the store.
    assert all(200 <= warmed.status < 300 for warmed in rehearsed), rehearsed
    declared = {
        (method.upper(), parameter["name"])
        for operations_ in app.openapi()["paths"].values()
        for method, operation in operations_.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] != "path" and parameter["name"] != "cursor"
    }
    used = {
        (w.request.method, name)
        for w in rehearsed
        for name in (*w.request.query, *w.request.headers)
    }
    assert declared <= used
    for warmed in reached:
        assert warmed.status < 500, warmed
        if warmed.request.method != "GET":
            assert warmed.status >= 400, warmed
    # Its access-log lines (written at publish) say what they were, by both request ids.
    lines = [record for record in logged if record.getMessage() == "request"]
    assert len(lines) == len(answered)
    ids = {(vars(line)["lambda_request_id"], vars(line)["apigw_request_id"]) for line in lines}
    assert ids == {(snapstart.WARM_UP_EVENT_ID, snapstart.WARM_UP_EVENT_ID)}
    # The rehearsal's answers end with it: the app reads the table again.
    lambda_client = LambdaClient(handler, REST)
    assert lambda_client.request("GET", "/events/kept-0").json() == kept[0]
    assert lambda_client.request("GET", "/events/not-there").status_code == 404


def contract_cases(document: dict[str, Any], ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Two valid requests of each operation of the document (and of its own URL), on the
    seeded events `ids`: the first and the second a fresh process serves of that kind."""
    spare = iter(ids)
    cases: dict[str, list[dict[str, Any]]] = {}
    for template, operations in document["paths"].items():
        for method in operations:
            events = []
            for _ in range(2):
                path = snapstart.PATH_PARAMETER.sub(next(spare), template)
                if method == "post":
                    body = json.dumps(new_event()).encode()
                    events.append(rest_api_event("POST", path, headers=JSON, body=body))
                elif method in ("put", "patch"):
                    body = json.dumps({"capacity": 7}).encode()
                    events.append(rest_api_event(method.upper(), path, headers=JSON, body=body))
                else:
                    events.append(rest_api_event(method.upper(), path))
            cases[f"{method.upper()} {template}"] = events
    # A create with an Idempotency-Key takes its own path (a transaction), so it is a case
    # of its own wherever the document declares the header.
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            names = {param["name"] for param in operation.get("parameters", [])}
            if IDEMPOTENCY_KEY_HEADER in names:
                cases[f"{method.upper()} {template} {IDEMPOTENCY_KEY_HEADER}"] = [
                    rest_api_event(
                        method.upper(),
                        snapstart.PATH_PARAMETER.sub(next(spare), template),
                        headers=[*JSON, (IDEMPOTENCY_KEY_HEADER, f"probe-{number}")],
                        body=json.dumps(new_event()).encode(),
                    )
                    for number in range(2)
                ]
    status_query = [("status", "active"), ("limit", "5")]
    cases["GET /events?status="] = [rest_api_event("GET", "/events", query=status_query)] * 2
    cases["GET /openapi.json"] = [rest_api_event("GET", "/openapi.json")] * 2
    return cases


def run_probe(
    cases: dict[str, list[dict[str, Any]]],
    dynamodb_local: DynamoDBLocal,
    table_name: str,
    tmp_path: Path,
    before_snapshot: bool = True,
) -> dict[str, Any]:
    config, result = tmp_path / "config.json", tmp_path / "result.json"
    config.write_text(json.dumps({"cases": cases, "before_snapshot": before_snapshot}))
    subprocess.run(
        [sys.executable, "-m", "tests.service.snapstart_probe", str(config), str(result)],
        env=service_environment(dynamodb_local, table_name),
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=120,
        check=True,
    )
    probed: dict[str, Any] = json.loads(result.read_text())
    return probed


def first_request_set_up(case: dict[str, Any]) -> list[str]:
    """What the first request of a case ran that the second did not, but for its connections."""
    return [
        call
        for call in case["first_only"]
        if not any(part in call for part in (*CONNECTIONS, *THREADS))
    ]


def probe_the_contract(
    settings: Settings,
    dynamodb_local: DynamoDBLocal,
    table_name: str,
    tmp_path: Path,
    before_snapshot: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    store = EventStore.from_settings(settings)
    ids = [store_event(store, status="active")["eventId"] for _ in range(20)]
    cases = contract_cases(create_app(settings).openapi(), ids)
    with temporary_keys_table(dynamodb_local.client(), settings.keys_table_name):
        probed = run_probe(cases, dynamodb_local, table_name, tmp_path, before_snapshot)
    assert probed["cases"].keys() == cases.keys()
    for name, case in probed["cases"].items():
        assert all(status < 300 for status in case["statuses"]), (name, case)
    return probed, probed["cases"]


def test_after_the_hooks_no_route_does_first_request_set_up(
    settings: Settings, dynamodb_local: DynamoDBLocal, table_name: str, tmp_path: Path
) -> None:
    probed, cases = probe_the_contract(settings, dynamodb_local, table_name, tmp_path)

    assert probed["registered"] == {"before_snapshot": ["warm_up"], "after_restore": ["refresh"]}
    assert all(status < 500 for _, _, status, _ in probed["warm_up"][0])
    for name, case in cases.items():
        assert case["imported"] == [], name
        assert first_request_set_up(case) == [], (name, first_request_set_up(case))


@pytest.mark.slow
def test_without_the_warm_up_first_requests_do_set_up(
    settings: Settings, dynamodb_local: DynamoDBLocal, table_name: str, tmp_path: Path
) -> None:
    """The control of the test above: the same probe finds the set-up the hook removes."""
    _, cases = probe_the_contract(settings, dynamodb_local, table_name, tmp_path, False)

    assert any(case["imported"] for case in cases.values())  # modules imported on first use
    # FastAPI's per-route set-up: it reads each endpoint's source (`inspect.getsourcelines`)
    # on the endpoint's first request, for its error messages.
    read = next(case for name, case in cases.items() if name.startswith("GET /events/{"))
    assert any(call.endswith("/inspect.py:getsourcelines") for call in first_request_set_up(read))
    set_up = [call for case in cases.values() for call in first_request_set_up(case)]
    assert any(call.startswith("botocore/") for call in set_up)  # the client's first calls


def test_after_restore_the_client_answers_on_new_connections(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EventStore.from_settings(settings)
    event_id = store_event(store)["eventId"]
    client = create_dynamodb_client(settings)
    lambda_client = LambdaClient(build_handler(create_app(settings, client)), REST)
    sockets = []
    connect = urllib3.util.connection.create_connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        sockets.append(connect(*args, **kwargs))
        return sockets[-1]

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counted)

    for _ in range(2):
        assert lambda_client.request("GET", f"/events/{event_id}").status_code == 200
    assert len(sockets) == 1  # pooled: the second request reused the connection

    snapstart.refresh(client)
    assert sockets[0].fileno() == -1  # the snapshot's connection is closed, not reused

    read = lambda_client.request("GET", f"/events/{event_id}")
    assert (read.status_code, read.json()["eventId"]) == (200, event_id)
    assert len(sockets) == 2


def test_environments_restored_from_one_snapshot_draw_different_numbers(
    settings: Settings,
) -> None:
    client = create_dynamodb_client(settings)
    snapshot = random.getstate()

    def restored_environment(after_restore: bool) -> float:
        random.setstate(snapshot)
        if after_restore:
            snapstart.refresh(client)
        return random.random()

    assert restored_environment(False) == restored_environment(False)
    assert restored_environment(True) != restored_environment(True)
