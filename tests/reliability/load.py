"""Load with verification: a mixed workload over HTTP, then an audit of the table.

Virtual users create, read, list by status, update (half of them with If-Match) and
delete events, sharing one pool of ids so that they also race each other. Every answer
goes into a client-side ledger; afterwards the audit reads the table directly and
demands that every acknowledged create is there with exactly its last acknowledged
content and version, every acknowledged delete is gone, and nothing else exists.

Creates carry an Idempotency-Key, and half of them let the server name the event: a
create whose answer is lost (a dropped connection, a 5xx, or one the client throws away
on purpose, as a timed-out client would) is sent again with the same key until it gets a
definite answer, so the ledger knows every event it created, exactly once.

    python -m tests.reliability.load --seconds 60 --users 16   # its own DynamoDB Local and server

Loopback only, and bounded both in time and in number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from service.api.idempotency import IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER
from service.store import from_item
from tests.conftest import settings_values, table_snapshot

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Expected answers: 404 and 412 come from users racing on the same event.
EXPECTED = {200, 201, 204, 404, 412}
WEIGHTS = {"create": 25, "read": 25, "list": 15, "update": 25, "delete": 10}
# Creates whose first answer the client drops, then retries with the same key.
LOST_ANSWER_RATE = 0.1
CREATE_ATTEMPTS = 5


@dataclass
class Ledger:
    """What the clients were told, per event."""

    prefix: str
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    updates: Counter[str] = field(default_factory=Counter)
    deleted: set[str] = field(default_factory=set)
    uncertain: set[str] = field(default_factory=set)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    retried_creates: int = 0
    replayed: int = 0

    @property
    def location(self) -> str:
        """The location of this run's events: it finds those the server named."""
        return f"Loopback {self.prefix}"

    def live_ids(self) -> list[str]:
        return [event_id for event_id in self.acknowledged if event_id not in self.deleted]

    def record_event(self, event: dict[str, Any]) -> None:
        known = self.acknowledged.get(event["eventId"])
        if known is None or event["version"] > known["version"]:
            self.acknowledged[event["eventId"]] = event


@dataclass
class Audit:
    lost: list[str]
    stale: list[str]
    resurrected: list[str]
    phantoms: list[str]
    miscounted: list[str]
    checked: int

    @property
    def clean(self) -> bool:
        return not (self.lost or self.stale or self.resurrected or self.phantoms or self.miscounted)


def _new_event(ledger: Ledger, rng: random.Random) -> dict[str, Any]:
    named = {"eventId": f"{ledger.prefix}-{uuid.uuid4().hex[:12]}"} if rng.random() < 0.5 else {}
    return {
        **named,
        "title": f"Load test {rng.randrange(10**6)}",
        "description": "Created by the load generator.",
        "date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "location": ledger.location,
        "capacity": rng.randint(1, 1000),
        "organizer": "tests/reliability/load.py",
        "status": rng.choice(["active", "active", "cancelled", "completed"]),
    }


async def _create(
    client: httpx.AsyncClient, ledger: Ledger, rng: random.Random, body: dict[str, Any]
) -> httpx.Response:
    """Create once, whatever happens to the answers: retries carry the same key and body."""
    headers = {IDEMPOTENCY_KEY_HEADER: str(uuid.UUID(int=rng.getrandbits(128)))}
    lose_first = rng.random() < LOST_ANSWER_RATE
    for attempt in range(CREATE_ATTEMPTS):
        ledger.retried_creates += attempt > 0
        try:
            response = await client.post("/events", json=body, headers=headers)
        except httpx.TransportError:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            continue  # no answer: the event may or may not exist, and the key settles it
        retry_after = response.headers.get("retry-after")
        last = attempt == CREATE_ATTEMPTS - 1
        if not last and (
            (lose_first and attempt == 0) or response.status_code >= 500 or retry_after
        ):
            await asyncio.sleep(float(retry_after or 0) * rng.random())
            continue
        ledger.replayed += response.headers.get(REPLAYED_HEADER) == "true"
        return response
    raise AssertionError("unreachable: the last attempt returns or raises")


async def _one_request(client: httpx.AsyncClient, ledger: Ledger, rng: random.Random) -> None:
    live = ledger.live_ids()
    operation = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if not live:
        operation = "create"
    target = rng.choice(live) if live else ""
    started = time.perf_counter()
    if operation == "create":
        body = _new_event(ledger, rng)
        response = await _create(client, ledger, rng, body)
        created = response.json() if response.status_code == 201 else {}
        target = created.get("eventId", body.get("eventId", ""))
    elif operation == "read":
        response = await client.get(f"/events/{target}")
    elif operation == "list":
        status = rng.choice(["active", "cancelled", "completed"])
        response = await client.get("/events", params={"status": status, "limit": 20})
    elif operation == "update":
        headers = {}
        if rng.random() < 0.5:
            headers["If-Match"] = f'"{ledger.acknowledged[target]["version"]}"'
        changes = {"capacity": rng.randint(1, 1000), "title": f"Updated {rng.randrange(10**6)}"}
        response = await client.patch(f"/events/{target}", json=changes, headers=headers)
    else:
        response = await client.delete(f"/events/{target}")
    ledger.latencies.append(time.perf_counter() - started)
    ledger.statuses[(operation, response.status_code)] += 1
    if response.status_code >= 500:
        ledger.uncertain.add(target)  # the write may or may not have happened
    elif operation in {"create", "update"} and response.status_code in {200, 201}:
        ledger.record_event(response.json())
        ledger.updates[target] += operation == "update"
    elif operation == "delete" and response.status_code == 204:
        ledger.deleted.add(target)


async def run_load(
    url: str, *, seconds: float, users: int, max_requests: int, seed: int = 6
) -> Ledger:
    """Drive the mixed workload until the time or the request budget runs out."""
    if urlsplit(url).hostname not in LOOPBACK:
        raise ValueError(f"load goes to loopback addresses only, not {url}")
    ledger = Ledger(prefix=f"load{uuid.uuid4().hex[:6]}")
    deadline = time.monotonic() + seconds
    sent = 0

    async def user(number: int) -> None:
        nonlocal sent
        rng = random.Random(seed * 1000 + number)
        while time.monotonic() < deadline and sent < max_requests:
            sent += 1
            await _one_request(client, ledger, rng)

    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        await asyncio.gather(*(user(number) for number in range(users)))
    return ledger


def audit(ledger: Ledger, dynamodb: Any, table_name: str) -> Audit:
    """Compare the table, read directly and consistently, with the ledger."""
    stored = {
        item["eventId"]["S"]: from_item(item)
        for item in table_snapshot(dynamodb, table_name)
        if item["eventId"]["S"].startswith(ledger.prefix + "-")
        or item["location"]["S"] == ledger.location
    }
    lost, stale, miscounted = [], [], []
    for event_id, event in ledger.acknowledged.items():
        if event_id in ledger.deleted or event_id in ledger.uncertain:
            continue
        if event_id not in stored:
            lost.append(event_id)
        elif stored[event_id] != event:
            stale.append(event_id)
        elif stored[event_id]["version"] != ledger.updates[event_id] + 1:
            miscounted.append(event_id)
    resurrected = [event_id for event_id in ledger.deleted if event_id in stored]
    phantoms = [
        event_id
        for event_id in stored
        if event_id not in ledger.acknowledged and event_id not in ledger.uncertain
    ]
    return Audit(lost, stale, resurrected, phantoms, miscounted, len(ledger.acknowledged))


def report(ledger: Ledger, result: Audit, seconds: float) -> str:
    requests = sum(ledger.statuses.values())
    by_status: defaultdict[int, int] = defaultdict(int)
    for (_, status), count in ledger.statuses.items():
        by_status[status] += count
    unexpected = {status: n for status, n in sorted(by_status.items()) if status not in EXPECTED}
    cut = statistics.quantiles(ledger.latencies, n=100) if len(ledger.latencies) > 1 else [0.0] * 99
    return "\n".join(
        [
            f"load: {requests} requests in {seconds:.1f} s ({requests / seconds:.0f}/s)",
            f"  statuses: {dict(sorted(by_status.items()))}; errors (5xx or unexpected): "
            f"{unexpected or 'none'}",
            f"  by operation: {dict(sorted(ledger.statuses.items()))}",
            f"  latency: p50 {cut[49] * 1000:.1f} ms, p99 {cut[98] * 1000:.1f} ms",
            f"  creates sent again with their Idempotency-Key: {ledger.retried_creates}, "
            f"answered as replays: {ledger.replayed}",
            f"  audit of {result.checked} acknowledged events, {len(ledger.deleted)} deleted: "
            + (
                "clean: nothing lost, stale, resurrected or phantom"
                if result.clean
                else f"FAILED lost={result.lost[:5]} stale={result.stale[:5]} "
                f"resurrected={result.resurrected[:5]} phantoms={result.phantoms[:5]} "
                f"miscounted={result.miscounted[:5]}"
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    from local.dynamodb_local import DynamoDBLocal, ensure_tables
    from tests.reliability.live import live_server

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args(argv)
    with DynamoDBLocal() as local, tempfile.TemporaryDirectory() as workdir:
        client = local.client()
        ensure_tables(client, "events")
        with live_server(settings_values(local, "events"), Path(workdir) / "server.log") as server:
            started = time.monotonic()
            ledger = asyncio.run(
                run_load(
                    server.url,
                    seconds=args.seconds,
                    users=args.users,
                    max_requests=args.max_requests,
                )
            )
            elapsed = time.monotonic() - started
        result = audit(ledger, client, "events")
        print(report(ledger, result, elapsed))
    return 0 if result.clean and not any(status >= 500 for _, status in ledger.statuses) else 1


if __name__ == "__main__":
    raise SystemExit(main())
