"""Hostile and malformed requests, row by row: each gets its 4xx problem and changes nothing.

tests/service/api covers the field rules, cursors and body limits one by one through the
test client; this corpus goes over a bare socket to uvicorn, byte for byte, so that path
tricks, broken encodings and odd framing reach the service as an attacker sends them.
Every row runs against a table holding one event, compared before and after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from service.cursor import CursorCodec
from service.store import CURSOR_VERSION
from tests.conftest import TEST_CURSOR_SECRET, new_event, table_snapshot
from tests.reliability.checks import leaks, missing_security_headers
from tests.reliability.live import LiveServer
from tests.reliability.raw_http import raw_request
from tests.service.api.test_events import assert_problem

VICTIM = "victim-event"
JSON = {"Content-Type": "application/json"}
MEBIBYTE = 1 << 20


def body(**overrides: Any) -> bytes:
    return json.dumps(new_event(**overrides)).encode()


def signed_cursor(state: Any) -> str:
    """A cursor with a valid signature (the test server's secret) over whatever state."""
    return CursorCodec(TEST_CURSOR_SECRET).encode(state)


@dataclass(frozen=True)
class Hostile:
    name: str
    method: str
    target: str
    status: int
    body: bytes | tuple[bytes, ...] = b""  # a tuple goes out chunked
    headers: Mapping[str, str] = field(default_factory=lambda: JSON)


def nested(depth: int) -> bytes:
    return b'{"title": ' + b"[" * depth + b"]" * depth + b"}"


CORPUS = [
    # Wrong types and nulls
    Hostile("title is a list", "POST", "/events", 422, body(title=["PyCon"])),
    Hostile("capacity is an object", "POST", "/events", 422, body(capacity={"seats": 10})),
    Hostile("date is a number", "POST", "/events", 422, body(date=20260514)),
    Hostile("status is a number", "POST", "/events", 422, body(status=1)),
    Hostile("eventId is a number", "POST", "/events", 422, body(eventId=12345)),
    Hostile("body is a number", "POST", "/events", 422, b"42"),
    Hostile("body is true", "POST", "/events", 422, b"true"),
    Hostile("capacity is NaN", "POST", "/events", 422, b'{"capacity": NaN}'),
    Hostile("capacity is 1e400", "POST", "/events", 422, body().replace(b"2500", b"1e400")),
    Hostile("null description", "POST", "/events", 422, body(description=None)),
    Hostile("null capacity in update", "PATCH", f"/events/{VICTIM}", 422, b'{"capacity": null}'),
    Hostile("null status in update", "PUT", f"/events/{VICTIM}", 422, b'{"status": null}'),
    Hostile("update with only the id", "PATCH", f"/events/{VICTIM}", 422, b'{"eventId": "x"}'),
    # Huge strings and bodies
    Hostile("10 kB title", "POST", "/events", 422, body(title="x" * 10_000)),
    Hostile(
        "60 kB description",
        "PATCH",
        f"/events/{VICTIM}",
        422,
        b'{"description": "%s"}' % (b"x" * 60_000),
    ),
    Hostile("5 kB eventId", "POST", "/events", 422, body(eventId="a" * 5000)),
    Hostile("5 kB id in the path", "GET", "/events/" + "a" * 5000, 422),
    Hostile("10 kB status filter", "GET", "/events?status=" + "a" * 10_000, 422),
    Hostile("8 kB If-Match", "DELETE", f"/events/{VICTIM}", 412, headers={"If-Match": "x" * 8000}),
    Hostile("1 MiB body", "POST", "/events", 413, b"x" * MEBIBYTE),
    Hostile("1 MiB chunked body", "POST", "/events", 413, (b"x" * 65536,) * 16),
    Hostile("1 MiB chunked update", "PUT", f"/events/{VICTIM}", 413, (b"y" * 65536,) * 16),
    Hostile(
        "integer of 5,000 digits", "POST", "/events", 400, b'{"capacity": 1' + b"0" * 5000 + b"}"
    ),
    # Deeply nested JSON
    Hostile("nested 30,000 deep", "POST", "/events", 400, nested(30_000)),
    Hostile("nested 500 deep", "PATCH", f"/events/{VICTIM}", 422, nested(500)),
    # Invalid UTF-8 and NUL bytes
    Hostile("invalid UTF-8 in a value", "POST", "/events", 400, b'{"title": "\xff\xfe"}'),
    Hostile("overlong UTF-8 slash", "PATCH", f"/events/{VICTIM}", 400, b'{"title": "\xc0\xaf"}'),
    Hostile(
        "lone surrogate escape",
        "POST",
        "/events",
        422,
        body(title="x").replace(b'"x"', b'"\\ud800"'),
    ),
    Hostile("invalid UTF-8 escape in path", "GET", "/events/%ff%fe", 422),
    Hostile("NUL in the path", "DELETE", "/events/victim%00-event", 422),
    Hostile("NUL in a query value", "GET", "/events?status=active%00", 422),
    Hostile("NUL in a title", "PATCH", f"/events/{VICTIM}", 422, b'{"title": "a\\u0000b"}'),
    Hostile("C1 control in a title", "PATCH", f"/events/{VICTIM}", 422, b'{"title": "a\\u0085b"}'),
    Hostile(
        "line separator in a title", "PATCH", f"/events/{VICTIM}", 422, b'{"title": "a\\u2028b"}'
    ),
    # Unicode tricks in eventId, in the body and in the path
    Hostile("RTL override id", "POST", "/events", 422, body(eventId="evil\u202etxt.exe")),
    Hostile("Cyrillic homoglyph id", "POST", "/events", 422, body(eventId="victim-\u0435vent")),
    Hostile("zero-width space id", "POST", "/events", 422, body(eventId="victim\u200b-event")),
    Hostile("fullwidth id", "POST", "/events", 422, body(eventId="\uff56\uff49\uff43")),
    Hostile("combining accent id", "POST", "/events", 422, body(eventId="victime\u0301")),
    Hostile("RTL override in the path", "GET", "/events/%E2%80%AEtneve-mitciv", 422),
    Hostile("homoglyph in the path", "PATCH", "/events/victim-%D0%B5vent", 422, b'{"title": "x"}'),
    Hostile("zero-width in the path", "DELETE", "/events/victim%E2%80%8B-event", 422),
    # Path traversal
    Hostile("dot-dot segment", "GET", "/events/../health", 404),
    Hostile("dot-dot to a sibling", "DELETE", f"/events/../events/{VICTIM}", 404),
    Hostile("encoded dot-dot", "GET", "/events/%2e%2e", 422),
    Hostile("encoded dot", "DELETE", "/events/%2e", 422),
    Hostile("encoded dot-dot slash", "PATCH", f"/events/%2e%2e%2f{VICTIM}", 404, b'{"title": "x"}'),
    Hostile("encoded slash in the id", "DELETE", "/events/victim%2fevent", 404),
    Hostile("backslash traversal", "GET", "/events/..%5chealth", 422),
    Hostile("trailing slash", "DELETE", f"/events/{VICTIM}/", 404),
    Hostile("double slash", "DELETE", f"/events//{VICTIM}", 404),
    # Query parameters
    Hostile("limit=-1", "GET", "/events?limit=-1", 422),
    Hostile("limit in exponent form", "GET", "/events?limit=1e2", 422),
    Hostile("limit beyond int64", "GET", "/events?limit=99999999999999999999999", 422),
    Hostile("empty limit", "GET", "/events?limit=", 422),
    Hostile("duplicated cursor", "GET", "/events?cursor=a.b&cursor=a.b", 422),
    Hostile("duplicated from", "GET", "/events?status=active&from=2026-01-01&from=2026-01-01", 422),
    Hostile("array-style parameter", "GET", "/events?status[]=active", 422),
    # Forged and truncated cursors: not of a cursor's published form (422), or of that form
    # but not issued by this API (400)
    Hostile("truncated cursor", "GET", "/events?cursor=eyJ2IjoxLCJxIjpudWxsLCJwIjoiYSJ9", 422),
    Hostile(
        "cursor with padding", "GET", "/events?cursor=eyJ2IjoxfQ==.AAAAAAAAAAAAAAAAAAAAAA==", 422
    ),
    Hostile(
        "cursor of 4,096 characters", "GET", "/events?cursor=" + "A" * 4000 + "." + "B" * 95, 400
    ),
    Hostile(
        "signed cursor of an earlier version",
        "GET",
        "/events?cursor=" + signed_cursor({"v": CURSOR_VERSION - 1, "q": None, "p": VICTIM}),
        400,
    ),
    Hostile(
        "signed cursor, object position",
        "GET",
        "/events?cursor=" + signed_cursor({"v": CURSOR_VERSION, "q": None, "p": {"$gt": ""}}),
        400,
    ),
    Hostile(
        "signed cursor, list position",
        "GET",
        "/events?status=active&cursor="
        + signed_cursor({"v": CURSOR_VERSION, "q": ["active", None, None], "p": [None]}),
        400,
    ),
    Hostile(
        "signed cursor, position without its date",
        "GET",
        "/events?status=active&cursor="
        + signed_cursor({"v": CURSOR_VERSION, "q": ["active", None, None], "p": VICTIM}),
        400,
    ),
    Hostile(
        "signed cursor of another listing",
        "GET",
        "/events?status=active&cursor="
        + signed_cursor({"v": CURSOR_VERSION, "q": ["cancelled", None, None], "p": "x"}),
        400,
    ),
    Hostile("signed cursor, not an object", "GET", "/events?cursor=" + signed_cursor([1, 2]), 400),
    # Content types and missing bodies
    Hostile("text/plain body", "POST", "/events", 415, body(), {"Content-Type": "text/plain"}),
    Hostile(
        "XML body",
        "PATCH",
        f"/events/{VICTIM}",
        415,
        b"<title>x</title>",
        {"Content-Type": "application/xml"},
    ),
    Hostile(
        "form body",
        "PUT",
        f"/events/{VICTIM}",
        415,
        b"title=x",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Hostile(
        "multipart body",
        "POST",
        "/events",
        415,
        b"--x--",
        {"Content-Type": "multipart/form-data; boundary=x"},
    ),
    Hostile(
        "two media types",
        "POST",
        "/events",
        415,
        body(),
        {"Content-Type": "application/json, text/plain"},
    ),
    Hostile(
        "empty content type",
        "PATCH",
        f"/events/{VICTIM}",
        415,
        b'{"title": "x"}',
        {"Content-Type": ""},
    ),
    Hostile("missing body on create", "POST", "/events", 422, b""),
    Hostile("missing body on update", "PUT", f"/events/{VICTIM}", 422, b"", {}),
    Hostile(
        "missing body with If-Match", "PATCH", f"/events/{VICTIM}", 422, b"", {"If-Match": '"1"'}
    ),
    # Methods
    Hostile("PROPFIND", "PROPFIND", "/events", 405),
    Hostile("TRACE", "TRACE", f"/events/{VICTIM}", 405),
    Hostile("DELETE on the collection", "DELETE", "/events", 405),
]


@pytest.fixture(scope="module")
def victim(live: LiveServer) -> dict[str, Any]:
    response = httpx.post(f"{live.url}/events", json=new_event(eventId=VICTIM), timeout=30)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


@pytest.mark.parametrize("row", CORPUS, ids=[row.name for row in CORPUS])
def test_a_hostile_request_gets_its_problem_and_changes_nothing(
    live: LiveServer, victim: dict[str, Any], dynamodb: Any, live_table: str, row: Hostile
) -> None:
    before = table_snapshot(dynamodb, live_table)
    response = raw_request(live.url, row.method, row.target, row.headers, row.body)
    assert_problem(response, row.status)
    assert leaks(response.text) == []
    assert missing_security_headers(response.headers) == []
    assert table_snapshot(dynamodb, live_table) == before
    assert httpx.get(f"{live.url}/events/{VICTIM}", timeout=30).json() == victim


def test_bytes_that_are_not_http_are_refused_before_the_app(
    live: LiveServer, victim: dict[str, Any], dynamodb: Any, live_table: str
) -> None:
    """A raw 0xFF in the request line is no HTTP at all: the server (uvicorn here, API
    Gateway in AWS) answers 400 itself; the app never sees it, so nothing can change."""
    before = table_snapshot(dynamodb, live_table)
    response = raw_request(live.url, "DELETE", b"/events/victim\xff-event")
    assert response.status_code == 400
    assert leaks(response.text) == []
    assert table_snapshot(dynamodb, live_table) == before
    assert live.unhandled_errors() == []
