"""A body is UTF-8 JSON, each key once, each number exactly what it says; text is visible.

Each of these was accepted once, and read differently from how another parser (a gateway,
an auditor) would read the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.models import MAX_FIELD_ERRORS
from tests.contract.conftest import Api

MALFORMED = "urn:events-api:problem:malformed-json"


def _patch(api: Api, content: bytes) -> Any:
    return api.client.patch(
        f"/events/{api.event['eventId']}",
        content=content,
        headers={"Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"capacity": 1, "capacity": 2}', id="a repeated key"),
        pytest.param('{"capacity": 3}'.encode("utf-16"), id="UTF-16 with a BOM"),
        pytest.param('{"capacity": 3}'.encode("utf-32"), id="UTF-32 with a BOM"),
        pytest.param(b'\xef\xbb\xbf{"capacity": 3}', id="UTF-8 with a BOM"),
        pytest.param(b'{"title": "caf\xe9"}', id="Latin-1"),
        pytest.param(b'{"title": "\xff"}', id="one invalid byte"),
    ],
)
def test_a_body_that_is_not_strict_json_is_the_malformed_body_problem(
    api: Api, content: bytes
) -> None:
    before = api.snapshot()
    response = _patch(api, content)
    assert response.status_code == 400, response.text
    assert response.json()["type"] == MALFORMED
    assert api.snapshot() == before


@pytest.mark.parametrize(
    "number",
    ["0.99999999999999999", "1000000.00000000001", "2.5", "1e400", "-0.0", "1e-400"],
)
def test_a_number_that_is_not_exactly_an_integer_in_range_is_refused(api: Api, number: str) -> None:
    before = api.snapshot()
    response = _patch(api, f'{{"capacity": {number}}}'.encode())
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["capacity"]
    assert api.snapshot() == before


@pytest.mark.parametrize(("number", "stored"), [("2.5e3", 2500), ("7.0", 7), ("1E2", 100)])
def test_a_number_that_is_exactly_an_integer_is_that_integer(
    api: Api, number: str, stored: int
) -> None:
    response = _patch(api, f'{{"capacity": {number}}}'.encode())
    assert response.status_code == 200, response.text
    assert response.json()["capacity"] == stored


@pytest.mark.parametrize("limit", ["1.0", "1e2", "+5", " 5", "0x10", "٣"])
def test_a_page_size_is_digits(api: Api, limit: str) -> None:
    response = api.client.get("/events", params={"limit": limit})
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["limit"]


@pytest.mark.parametrize("invisible", ["\u200b", "\u202e", "\ufeff", "\u2060", "\u200b \u2060"])
def test_a_title_of_invisible_characters_only_is_blank(api: Api, invisible: str) -> None:
    before = api.snapshot()
    response = api.client.patch(f"/events/{api.event['eventId']}", json={"title": invisible})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "title", "message": "must not be blank"}]
    assert api.snapshot() == before


def test_visible_text_may_hold_format_characters(api: Api) -> None:
    title = "Caf\u00e9 \u200dmeetup \u202bש\u202c"
    response = api.client.patch(f"/events/{api.event['eventId']}", json={"title": title})
    assert response.status_code == 200
    assert response.json()["title"] == title


def test_the_errors_list_is_bounded(api: Api) -> None:
    unknown = {f"k{number:x}": 1 for number in range(6000)}
    content = json.dumps(unknown, separators=(",", ":")).encode()
    assert len(content) < 64 * 1024
    response = _patch(api, content)
    assert response.status_code == 422
    problem = response.json()
    assert len(problem["errors"]) == MAX_FIELD_ERRORS
    assert problem["errorCount"] == 6000
    assert len(response.content) < 4096
