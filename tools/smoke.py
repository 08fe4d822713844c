"""Post-deploy smoke test: walk the whole API once against a live deployment.

    .venv/bin/python -m tools.smoke [--url URL | --stack NAME] [--api-key KEY]

Steps: health; create an event with a unique id and an Idempotency-Key; send the same
create again and check it is answered as a replay of the first; get it; list by status
until it shows (a global secondary index is eventually consistent, so the list is retried
briefly);
update it with If-Match; check that a stale If-Match is refused; delete it; check that
it is gone (404). Whatever fails, the event it created is deleted before it exits.

It prints one row per step with the HTTP status and latency, and stops at the first
failure with exit status 1, showing the response. Without --url it tests the stack
--stack names (`pulumi stack output apiUrl --stack NAME`, with the Pulumi CLI), else the
API of a running `make run`, else it stops and says how to aim it. --api-key defaults to
$EVENTS_API_KEY and is sent as `x-api-key`, for stacks whose API requires a key.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from service.api.idempotency import IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER
from service.errors import PROBLEM_MEDIA_TYPE
from service.models import sample_event
from tools.target import UsageError, default_url

# No real event is planned that far ahead, so the date-bounded listing is one short page.
SMOKE_DATE = "2099-12-31"
LIST_WAIT_SECONDS = 15.0
LIST_PAGES_PER_ATTEMPT = 10
REQUEST_TIMEOUT_SECONDS = 15.0
SHOWN_BODY_CHARS = 2000

Check = Callable[[httpx.Response], str | None]
"""Looks at a response with the expected status; returns what is wrong with it, or None."""


class StepFailed(Exception):
    def __init__(self, step: str, reason: str, response: httpx.Response | None = None) -> None:
        super().__init__(f"{step}: {reason}")
        self.response = response


class Smoke:
    """One walk through the API with one event, reported as a table of steps."""

    def __init__(self, client: httpx.Client, list_wait: float = LIST_WAIT_SECONDS) -> None:
        self.client = client
        self.list_wait = list_wait
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        self.event_id = f"smoke-{stamp}-{secrets.token_hex(3)}"
        self.path = f"/events/{self.event_id}"
        self.body = sample_event(
            eventId=self.event_id,
            title="Smoke test",
            description="Created by tools.smoke and deleted by the same run.",
            date=SMOKE_DATE,
            location="Nowhere (smoke test)",
            capacity=1,
            organizer="events-api smoke test",
        )
        self._sent_create = False
        self._gone = False
        self._requests = 0

    # The walk

    def run(self) -> None:
        self.step("health", "GET", "/health", 200, _json_has(status="ok"))
        self._sent_create = True  # from here on the event may exist, even if the answer is lost
        created = self.step(
            "create",
            "POST",
            "/events",
            201,
            _all(_json_has(**self.body, version=1), _etag("1")),
            json=self.body,
            headers={IDEMPOTENCY_KEY_HEADER: self.event_id},
        ).json()
        # A client that lost that answer sends it again: it must get the same answer back.
        self.step(
            "create again (replay)",
            "POST",
            "/events",
            201,
            _all(_json_has(**created), _etag("1"), _replayed),
            json=self.body,
            headers={IDEMPOTENCY_KEY_HEADER: self.event_id},
        )
        self.step("get", "GET", self.path, 200, _json_has(**created))
        self.find_in_listing(created)
        changed = self.step(
            "update (If-Match)",
            "PATCH",
            self.path,
            200,
            _all(_json_has(capacity=2, version=2), _etag("2")),
            json={"capacity": 2},
            headers={"If-Match": '"1"'},
        ).json()
        self.step(
            "update (stale If-Match)",
            "PATCH",
            self.path,
            412,
            _problem,
            json={"capacity": 3},
            headers={"If-Match": '"1"'},
        )
        self.step(
            "delete", "DELETE", self.path, 204, headers={"If-Match": f'"{changed["version"]}"'}
        )
        self.step("confirm 404", "GET", self.path, 404, _problem)
        self._gone = True

    def find_in_listing(self, event: dict[str, Any]) -> None:
        """List active events on the event's date until it shows, for at most list_wait."""
        query = {"status": "active", "from": SMOKE_DATE, "to": SMOKE_DATE, "limit": 100}
        deadline = time.monotonic() + self.list_wait
        attempt = 0
        while True:
            attempt += 1
            cursor = None
            for _ in range(LIST_PAGES_PER_ATTEMPT):
                params = {**query, "cursor": cursor} if cursor else query
                response, latency = self._send("list", "GET", "/events", params=params)
                if response.status_code != 200:
                    _row("list", "GET /events", response.status_code, latency, "FAILED")
                    raise StepFailed(
                        "list", f"expected HTTP 200, got {response.status_code}", response
                    )
                try:
                    page = response.json()
                    listed = event in page["items"]
                except (ValueError, KeyError, TypeError, AttributeError) as error:
                    _row("list", "GET /events", 200, latency, "FAILED")
                    raise StepFailed("list", f"unexpected body ({error})", response) from None
                if listed:
                    _row("list", "GET /events", 200, latency, f"ok (attempt {attempt})")
                    return
                cursor = page.get("nextCursor")
                if not cursor:
                    break
            pause = min(0.25 * 2 ** (attempt - 1), 2.0)
            if time.monotonic() + pause > deadline:
                _row("list", "GET /events", 200, latency, "FAILED")
                raise StepFailed(
                    "list",
                    f"event {self.event_id} not listed after {attempt} attempts "
                    f"in {self.list_wait:.0f} s",
                    response,
                )
            time.sleep(pause)

    def clean_up(self) -> bool:
        """Delete the event unless the walk deleted it; True when nothing is left behind."""
        if not self._sent_create or self._gone:
            return True
        response = None
        try:
            response, latency = self._send("clean-up", "DELETE", self.path)
        except StepFailed:
            pass
        else:
            if response.status_code in (204, 404):
                note = "deleted" if response.status_code == 204 else "nothing to delete"
                _row("clean-up", f"DELETE {self.path}", response.status_code, latency, note)
                return True
            _row("clean-up", f"DELETE {self.path}", response.status_code, latency, "FAILED")
        print(f"\nCould not delete {self.event_id}: delete it by hand (DELETE {self.path}).")
        if response is not None:
            show(response)
        return False

    # One request

    def step(
        self,
        name: str,
        method: str,
        path: str,
        expected: int,
        check: Check | None = None,
        **request: Any,
    ) -> httpx.Response:
        response, latency = self._send(name, method, path, **request)
        if response.status_code != expected:
            reason: str | None = f"expected HTTP {expected}, got {response.status_code}"
        else:
            try:
                reason = check(response) if check else None
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                reason = f"unexpected body ({type(error).__name__}: {error})"
        outcome = "ok" if reason is None else "FAILED"
        _row(name, f"{method} {path}", response.status_code, latency, outcome)
        if reason is not None:
            raise StepFailed(name, reason, response)
        return response

    def _send(
        self, name: str, method: str, path: str, **request: Any
    ) -> tuple[httpx.Response, float]:
        self._requests += 1
        # Each request carries an id naming the run: easy to find in the service's logs.
        headers = {
            "X-Request-ID": f"{self.event_id}.{self._requests}",
            **request.pop("headers", {}),
        }
        started = time.perf_counter()
        try:
            response = self.client.request(method, path, headers=headers, **request)
        except httpx.HTTPError as error:
            _row(name, f"{method} {path}", None, None, "FAILED")
            raise StepFailed(name, f"{type(error).__name__}: {error}") from None
        return response, (time.perf_counter() - started) * 1000


def _row(step: str, request: str, status: int | None, latency: float | None, outcome: str) -> None:
    shown_latency = f"{latency:.0f} ms" if latency is not None else "-"
    print(f"{step:<24} {request:<52} {status or '-':>6} {shown_latency:>9}  {outcome}")


# Checks


def _json_has(**expected: Any) -> Check:
    def check(response: httpx.Response) -> str | None:
        body = response.json()
        wrong = {key: body.get(key) for key, value in expected.items() if body.get(key) != value}
        return f"body differs in {wrong}" if wrong else None

    return check


def _etag(version: str) -> Check:
    def check(response: httpx.Response) -> str | None:
        etag = response.headers.get("etag")
        return None if etag == f'"{version}"' else f"ETag is {etag!r}, expected '\"{version}\"'"

    return check


def _replayed(response: httpx.Response) -> str | None:
    marker = response.headers.get(REPLAYED_HEADER)
    return None if marker == "true" else f"{REPLAYED_HEADER} is {marker!r}, expected 'true'"


def _problem(response: httpx.Response) -> str | None:
    media_type = response.headers.get("content-type", "").split(";")[0]
    if media_type != PROBLEM_MEDIA_TYPE:
        return f"content type is {media_type!r}, expected {PROBLEM_MEDIA_TYPE}"
    return None if response.json().get("status") == response.status_code else "bad problem body"


def _all(*checks: Check) -> Check:
    def check(response: httpx.Response) -> str | None:
        return next((reason for c in checks if (reason := c(response))), None)

    return check


# Command line


def show(response: httpx.Response) -> None:
    request_id = response.headers.get("x-request-id", "-")
    print(f"  HTTP {response.status_code} {response.reason_phrase}  x-request-id: {request_id}")
    try:
        text = json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        text = response.text
    if len(text) > SHOWN_BODY_CHARS:
        text = text[:SHOWN_BODY_CHARS] + f"\n  ... ({len(text) - SHOWN_BODY_CHARS} more characters)"
    print("  " + text.replace("\n", "\n  "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", help="the API's base URL (default: the --stack's apiUrl, else `make run`'s)"
    )
    parser.add_argument("--stack", help="Pulumi stack whose apiUrl is the default --url")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("EVENTS_API_KEY") or None,
        help="sent as x-api-key (default: $EVENTS_API_KEY)",
    )
    parser.add_argument("--timeout", type=float, default=REQUEST_TIMEOUT_SECONDS, help="seconds")
    parser.add_argument(
        "--list-wait",
        type=float,
        default=LIST_WAIT_SECONDS,
        help="seconds to wait for the new event to show in the listing",
    )
    args = parser.parse_args(argv)
    try:
        url = args.url or default_url(args.stack)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not url.startswith(("http://", "https://")):
        print(f"error: --url must be an http(s) URL, not {url!r}", file=sys.stderr)
        return 2

    headers = {"User-Agent": "events-api-smoke"}
    if args.api_key:
        headers["x-api-key"] = args.api_key
    with httpx.Client(base_url=url, headers=headers, timeout=args.timeout) as client:
        smoke = Smoke(client, args.list_wait)
        print(f"Smoke test of {url} with event {smoke.event_id}\n")
        print(f"{'step':<24} {'request':<52} {'status':>6} {'latency':>9}  result")
        failure = None
        try:
            smoke.run()
        except StepFailed as error:
            failure = error
        finally:
            clean = smoke.clean_up()
    if failure is not None:
        print(f"\nFAILED at {failure}")
        if failure.response is not None:
            show(failure.response)
        return 1
    if not clean:
        return 1
    print("\nAll steps passed; nothing was left behind.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
