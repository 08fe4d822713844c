"""Faults: DynamoDB stopped, frozen, slow or throttling, in the middle of real traffic.

The promise: every request still gets an answer within the configured time
(Settings.request_time_limit), a failure is a 503 problem with Retry-After (never a 500,
never a hang), and the same server process serves correctly once DynamoDB is back. The
suite runs its own DynamoDB Local, on disk, so it can stop it and start it again.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.awsrequest import AWSResponse
from fastapi.testclient import TestClient

from local.dynamodb_local import DynamoDBLocal, ensure_table
from service.app import create_app
from service.settings import Settings
from service.store import create_dynamodb_client
from service.store.rehearsal import dynamodb_response
from service.table import shard_of
from tests.conftest import make_settings, new_event, settings_values, store_event, table_snapshot
from tests.reliability.checks import leaks, missing_security_headers
from tests.reliability.live import LiveServer, live_server
from tests.reliability.slow_proxy import SlowProxy
from tests.service.api.test_events import assert_problem

# Short timeouts, so a fault shows within seconds: at most 2 + 2 * (0.5 + 1.0) + 1 = 6 s.
QUICK_TO_FAIL = {
    "EVENTS_DYNAMODB_CONNECT_TIMEOUT": 0.5,
    "EVENTS_DYNAMODB_READ_TIMEOUT": 1.0,
    "EVENTS_DYNAMODB_MAX_ATTEMPTS": 2,
    "EVENTS_DYNAMODB_REQUEST_BUDGET": 2.0,
}
TIME_LIMIT = Settings.model_validate(QUICK_TO_FAIL).request_time_limit
# What a loaded two-core machine may add to the limit before a client gives up: a request
# still unanswered then has hung, and httpx raises.
CLIENT_TIMEOUT = TIME_LIMIT + 10.0


@pytest.fixture(scope="module")
def fragile_dynamodb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBLocal]:
    """A DynamoDB Local of this module's own, on disk so that its data survives a restart."""
    local = DynamoDBLocal(db_path=Path(tmp_path_factory.mktemp("dynamodb")))
    local.start()
    ensure_table(local.client(), "events")
    try:
        yield local
    finally:
        local.resume()
        local.stop()


@pytest.fixture(scope="module")
def fragile_server(
    fragile_dynamodb: DynamoDBLocal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = settings_values(fragile_dynamodb, "events", **QUICK_TO_FAIL)
    log = Path(tmp_path_factory.mktemp("fragile")) / "server.log"
    with live_server(settings, log) as server:
        yield server


@dataclass
class Outcome:
    kind: str
    status: int
    started: float
    response: httpx.Response


async def _steady_traffic(url: str, until: threading.Event, created: list[str]) -> list[Outcome]:
    """Create, read and list without pause until told to stop; what each request got."""
    outcomes = []
    request: dict[str, Any]
    async with httpx.AsyncClient(base_url=url, timeout=CLIENT_TIMEOUT) as client:
        for number in range(100_000):
            if until.is_set():
                break
            if not created or number % 3 == 0:
                event_id = f"steady-{uuid.uuid4().hex[:12]}"
                kind = "create"
                request = {"method": "POST", "url": "/events", "json": new_event(eventId=event_id)}
            elif number % 3 == 1:
                kind = "read"
                request = {"method": "GET", "url": f"/events/{created[number % len(created)]}"}
            else:
                kind, request = "list", {"method": "GET", "url": "/events?status=active&limit=5"}
            started = time.monotonic()
            response = await client.request(**request)
            outcomes.append(Outcome(kind, response.status_code, started, response))
            if kind == "create" and response.status_code == 201:
                created.append(event_id)
            if response.status_code == 503:
                await asyncio.sleep(0.2)
    return outcomes


async def _clients(url: str, until: threading.Event, created: list[str]) -> list[Outcome]:
    workers = [_steady_traffic(url, until, created) for _ in range(4)]
    return [outcome for worker in await asyncio.gather(*workers) for outcome in worker]


def _wait_until_serving(url: str, event_id: str) -> None:
    """Wait until the server answers a read from DynamoDB again."""
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as client:
        for _ in range(600):
            if client.get(f"/events/{event_id}").status_code == 200:
                return
            time.sleep(0.1)
    raise AssertionError("the server did not recover")


def _assert_unavailable(response: Any) -> None:
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert leaks(response.text) == []
    assert missing_security_headers(response.headers) == []


@pytest.mark.parametrize(
    "fault",
    # Restarting the Java engine takes a while: the stop variant runs with the slow suites.
    [pytest.param("stop", marks=pytest.mark.slow), "pause"],
)
def test_dynamodb_failing_mid_traffic_gives_503_then_the_same_process_recovers(
    fragile_server: LiveServer, fragile_dynamodb: DynamoDBLocal, fault: str
) -> None:
    begin, end = {
        "stop": (fragile_dynamodb.stop, fragile_dynamodb.start),
        "pause": (fragile_dynamodb.pause, fragile_dynamodb.resume),
    }[fault]
    created: list[str] = []
    until = threading.Event()
    # The clients run in a thread of their own; DynamoDB Local is stopped and started from
    # this one, which outlives it (its parent-death signal follows the starting thread).
    with ThreadPoolExecutor(1) as clients:
        traffic = clients.submit(asyncio.run, _clients(fragile_server.url, until, created))
        time.sleep(1.5)
        begin()
        time.sleep(TIME_LIMIT + 1)
        end()
        _wait_until_serving(fragile_server.url, created[0])
        recovered = time.monotonic()
        time.sleep(1.5)
        until.set()
        outcomes = traffic.result()

    statuses = {outcome.status for outcome in outcomes}
    assert statuses <= {200, 201, 503}, statuses
    unavailable = [outcome for outcome in outcomes if outcome.status == 503]
    assert unavailable, "the fault never showed"
    for outcome in unavailable:
        _assert_unavailable(outcome.response)
    after = [outcome for outcome in outcomes if outcome.started > recovered]
    assert after
    assert all(outcome.status in {200, 201} for outcome in after)
    # Every create acknowledged before, during or after the fault is there.
    with httpx.Client(base_url=fragile_server.url, timeout=CLIENT_TIMEOUT) as client:
        assert [i for i in created if client.get(f"/events/{i}").status_code != 200] == []
    assert fragile_server.unhandled_errors() == []
    print(f"{fault}: {len(outcomes)} requests, {len(unavailable)} answered 503")


@pytest.fixture(scope="module")
def slow_network(fragile_dynamodb: DynamoDBLocal) -> Iterator[SlowProxy]:
    with SlowProxy(fragile_dynamodb.port).running() as proxy:
        yield proxy


@pytest.fixture(scope="module")
def slow_server(
    fragile_dynamodb: DynamoDBLocal,
    slow_network: SlowProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    settings = settings_values(
        fragile_dynamodb,
        "events",
        **QUICK_TO_FAIL,
        AWS_ENDPOINT_URL_DYNAMODB=slow_network.endpoint_url,
    )
    log = Path(tmp_path_factory.mktemp("slow")) / "server.log"
    with live_server(settings, log) as server:
        yield server


def test_a_dynamodb_slower_than_the_read_timeout_gives_503_in_time(
    slow_server: LiveServer, slow_network: SlowProxy
) -> None:
    with httpx.Client(base_url=slow_server.url, timeout=CLIENT_TIMEOUT) as client:
        created = client.post("/events", json=new_event())
        assert created.status_code == 201
        path = f"/events/{created.json()['eventId']}"
        slow_network.delay = 1.5  # beyond the 1 s read timeout
        try:
            for request in [("GET", path), ("GET", "/events?status=active"), ("PATCH", path)]:
                _assert_unavailable(client.request(*request, json={"capacity": 7}))
            slow_network.delay = 0.3  # slow, but within it
            assert client.get(path).status_code == 200
        finally:
            slow_network.delay = 0.0
        assert client.get(path).json()["capacity"] in {2500, 7}
    assert slow_server.unhandled_errors() == []


def test_a_write_whose_answer_was_lost_is_not_reported_as_a_conflict(
    slow_server: LiveServer, slow_network: SlowProxy, fragile_dynamodb: DynamoDBLocal
) -> None:
    """The SDK retries a write whose answer timed out; the first attempt had landed.

    The retry then fails its condition against the item this very request wrote: the
    client must still hear 201, 200 and 204, not 409, 412 and 404.
    """
    event = new_event()
    path = f"/events/{event['eventId']}"
    with httpx.Client(base_url=slow_server.url, timeout=CLIENT_TIMEOUT) as client:
        slow_network.stall_next(1, 1.5)
        created = client.post("/events", json=event)
        assert created.status_code == 201, created.text
        slow_network.stall_next(1, 1.5)
        updated = client.patch(path, json={"capacity": 9}, headers={"If-Match": '"1"'})
        assert updated.status_code == 200, updated.text
        assert updated.json()["version"] == 2
        assert client.get(path).json() == updated.json()
        slow_network.stall_next(1, 1.5)
        deleted = client.delete(path, headers={"If-Match": '"2"'})
        assert deleted.status_code == 204, deleted.text
        assert client.get(path).status_code == 404


def _throttling_hook(code: str, calls: list[str]) -> Callable[..., AWSResponse]:
    """Answer every DynamoDB call as a throttled one, before it leaves the process."""

    message = "Rate exceeded for arn:aws:dynamodb:us-east-1:123456789012:table/x. RequestId: ABC"
    error = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}

    def answer(request: Any, **_: Any) -> AWSResponse:
        calls.append(request.url)
        return dynamodb_response(request, 400, error)

    return answer


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_throttling_after_the_sdk_retries_is_503(
    dynamodb_local: DynamoDBLocal, dynamodb: Any, table_name: str, code: str
) -> None:
    settings = make_settings(dynamodb_local, table_name, EVENTS_DYNAMODB_MAX_ATTEMPTS=2)
    client = create_dynamodb_client(settings)
    calls: list[str] = []
    hook = _throttling_hook(code, calls)
    client.meta.events.register_first("before-send.dynamodb.*", hook)  # type: ignore[arg-type]
    with TestClient(create_app(settings, client), raise_server_exceptions=False) as api:
        event = new_event()
        _assert_unavailable(api.post("/events", json=event))
        assert len(calls) == settings.dynamodb_max_attempts  # the SDK retried, then gave up
        _assert_unavailable(api.get("/events?status=active"))
        assert table_snapshot(dynamodb, table_name) == []
        client.meta.events.unregister("before-send.dynamodb.*", hook)  # type: ignore[arg-type]
        assert api.post("/events", json=event).status_code == 201


def test_a_listing_stops_calling_dynamodb_once_its_budget_is_spent(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    settings = make_settings(dynamodb_local, table_name, EVENTS_DYNAMODB_REQUEST_BUDGET=0.1)
    client = create_dynamodb_client(settings)
    app = create_app(settings, client)
    store = app.state.store
    # Forty active events, all in shard 0: a page of 30 takes a second round of reads there.
    crowded = [
        f"crowded-{n}" for n in range(200) if shard_of(f"crowded-{n}", settings.status_shards) == 0
    ]
    for event_id in crowded[:40]:
        store_event(store, eventId=event_id)
    calls: list[str] = []

    def slowly(**_: Any) -> None:
        calls.append("call")
        time.sleep(0.15)  # every call outlasts the whole budget

    client.meta.events.register("before-send.dynamodb.*", slowly)
    with TestClient(app, raise_server_exceptions=False) as api:
        # A page one round of reads can fill is served, however slow that round was.
        assert api.get("/events?status=active&limit=2").status_code == 200
        calls.clear()
        # A page that needs another round is refused: the budget is spent.
        _assert_unavailable(api.get("/events?status=active&limit=30"))
        assert len(calls) == settings.status_shards
