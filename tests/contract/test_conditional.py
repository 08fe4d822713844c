"""RFC 9110 §13.2.2, row by row, on every operation the OpenAPI document gives If-Match:
the writes to one event (PUT, PATCH, DELETE today) and its reads (GET, and the HEAD
served with it).

Each row starts from a fresh event at version 1 (ETag `"1"`), or from no event, sends one
combination of If-Match and If-None-Match, and checks the status and what is stored.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

import pytest

from service.models import sample_event
from tests.contract.conftest import OPERATIONS, Api, Operation, by_id

DONE = 0  # the method's own success: 200 for an update, 204 for a delete


class Row(NamedTuple):
    name: str
    headers: list[tuple[str, str]]
    status: int
    exists: bool = True


# The most tags a list may hold (service/api/preconditions.py: MAX_TAGS), "1" last.
TEN_TAGS = ", ".join(f'"{version}"' for version in range(10, 0, -1))
ROWS = [
    Row("no condition", [], DONE),
    Row("If-Match the current tag", [("If-Match", '"1"')], DONE),
    Row("If-Match another tag", [("If-Match", '"2"')], 412),
    Row("If-Match a list holding the current tag", [("If-Match", '"5", "1"')], DONE),
    Row("If-Match a list over two lines", [("If-Match", '"5"'), ("If-Match", '"1"')], DONE),
    Row("If-Match * then a tag, on two lines", [("If-Match", "*"), ("If-Match", '"99"')], 412),
    Row("If-Match a tag then *, on two lines", [("If-Match", '"99"'), ("If-Match", "*")], 412),
    Row("If-Match the current tag, weak", [("If-Match", 'W/"1"')], 412),
    Row("If-Match the current number, spelt otherwise", [("If-Match", '"01"')], 412),
    Row("If-Match no entity tag at all", [("If-Match", "garbage")], 412),
    Row("If-Match *", [("If-Match", "*")], DONE),
    Row("If-Match a weak tag, then the current one", [("If-Match", 'W/"1", "1"')], DONE),
    Row("If-Match ten tags, the current one last", [("If-Match", TEN_TAGS)], DONE),
    Row("If-Match eleven tags, the current one last", [("If-Match", '"11", ' + TEN_TAGS)], 412),
    Row("If-None-Match an empty list", [("If-None-Match", ",")], 412),
    Row("If-None-Match *", [("If-None-Match", "*")], 412),
    Row("If-None-Match the current tag", [("If-None-Match", '"1"')], 412),
    Row("If-None-Match the current tag, weak", [("If-None-Match", 'W/"1"')], 412),
    Row("If-None-Match another tag", [("If-None-Match", '"2"')], DONE),
    Row("If-Match true, If-None-Match true", [("If-Match", '"1"'), ("If-None-Match", '"2"')], DONE),
    Row("If-Match true, If-None-Match false", [("If-Match", '"1"'), ("If-None-Match", "*")], 412),
    Row("If-Match false, If-None-Match true", [("If-Match", '"2"'), ("If-None-Match", '"2"')], 412),
    Row("no event: no condition", [], 404, exists=False),
    Row("no event: If-Match *", [("If-Match", "*")], 412, exists=False),
    Row("no event: If-Match a tag", [("If-Match", '"1"')], 412, exists=False),
    Row("no event: If-None-Match *", [("If-None-Match", "*")], 404, exists=False),
]


def declares(operation: Operation, header: str) -> bool:
    return any(param["name"].lower() == header for param in operation.parameters("header"))


def success(operation: Operation) -> int:
    """The operation's own success status, as the document declares it."""
    return min(int(code) for code in operation.spec["responses"] if code.startswith("2"))


def on(operation: Operation, event_id: str) -> str:
    return operation.path.replace("{eventId}", event_id)


CONDITIONAL = [operation for operation in OPERATIONS if declares(operation, "if-match")]
WRITES = [operation for operation in CONDITIONAL if operation.method != "GET"]
# Every GET is served for HEAD as well (test_generated.py::test_head_answers_like_get_...).
READS = ["GET", "HEAD"] if any(op.method == "GET" for op in CONDITIONAL) else []


def test_every_operation_on_one_event_takes_both_preconditions() -> None:
    """What the tables below run on: an operation on one event without If-Match would not
    be in them, and would not be conditional."""
    one_event = [operation for operation in OPERATIONS if "{eventId}" in operation.path]
    assert one_event
    for operation in one_event:
        assert declares(operation, "if-match"), operation
        assert declares(operation, "if-none-match"), operation
    assert WRITES
    assert READS


def _item(api: Api, event_id: str) -> Any:
    return api.dynamodb.get_item(
        TableName=api.table_name, Key={"eventId": {"S": event_id}}, ConsistentRead=True
    ).get("Item")


@pytest.mark.parametrize("operation", by_id(WRITES))
@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in ROWS])
def test_the_conditional_table(api: Api, operation: Operation, row: Row) -> None:
    event_id = f"cond-{uuid.uuid4().hex[:10]}"
    if row.exists:
        created = api.client.post("/events", json=sample_event(eventId=event_id))
        assert created.headers["etag"] == '"1"'
    before = _item(api, event_id)
    response = api.client.request(
        operation.method,
        on(operation, event_id),
        headers=row.headers,
        json={"capacity": 7} if operation.body_schema else None,
    )
    expected = success(operation) if row.status == DONE else row.status
    assert response.status_code == expected, response.text
    after = _item(api, event_id)
    if row.status == DONE:
        assert after is None if operation.method == "DELETE" else after["version"] == {"N": "2"}
    else:
        assert after == before


# What a refused write says: which precondition, and why, of which event; a header's value
# is quoted to its first 100 characters.
REFUSALS = [
    ([("If-Match", "garbage")], "If-Match 'garbage' matches no version"),
    ([("If-Match", "x" * 150)], f"If-Match {'x' * 100!r} matches no version"),
    ([("If-None-Match", "garbage")], "If-None-Match 'garbage' is not a list of tags"),
    ([("If-None-Match", "y" * 150)], f"If-None-Match {'y' * 100!r} is not a list of tags"),
    ([("If-None-Match", '"1"')], "If-None-Match: it is at version 1"),
]


@pytest.mark.parametrize("operation", by_id(WRITES))
@pytest.mark.parametrize(("headers", "reason"), REFUSALS)
def test_a_refused_write_says_which_precondition_why_and_of_which_event(
    api: Api, operation: Operation, headers: list[tuple[str, str]], reason: str
) -> None:
    event_id = f"cond-{uuid.uuid4().hex[:10]}"
    api.client.post("/events", json=sample_event(eventId=event_id))
    json = {"capacity": 7} if operation.body_schema else None
    refused = api.client.request(
        operation.method, on(operation, event_id), headers=headers, json=json
    )
    assert (refused.status_code, refused.json()["detail"]) == (
        412,
        f"Not changed: {reason} (event {event_id!r}).",
    )


# A read: If-Match as for writes; a false If-None-Match is a 304 (step 3); no event is a
# 404 whatever the conditions (§13.2.1: without them the answer would be no 2xx).
READ_ROWS = [
    Row("no condition", [], 200),
    Row("If-Match the current tag", [("If-Match", '"1"')], 200),
    Row("If-Match another tag", [("If-Match", '"2"')], 412),
    Row("If-Match the current tag, weak", [("If-Match", 'W/"1"')], 412),
    Row("If-Match no entity tag at all", [("If-Match", "garbage")], 412),
    Row("If-Match *", [("If-Match", "*")], 200),
    Row("If-None-Match the current tag", [("If-None-Match", '"1"')], 304),
    Row("If-None-Match the current tag, weak", [("If-None-Match", 'W/"1"')], 304),
    Row(
        "If-None-Match a list over two lines",
        [("If-None-Match", '"5"'), ("If-None-Match", '"1"')],
        304,
    ),
    Row("If-None-Match *", [("If-None-Match", "*")], 304),
    Row("If-None-Match another tag", [("If-None-Match", '"2"')], 200),
    Row("If-None-Match no entity tag at all", [("If-None-Match", "garbage")], 412),
    Row("If-Match true, If-None-Match false", [("If-Match", '"1"'), ("If-None-Match", '"1"')], 304),
    Row(
        "If-Match false, If-None-Match false", [("If-Match", '"2"'), ("If-None-Match", '"1"')], 412
    ),
    Row("no event: If-Match *", [("If-Match", "*")], 404, exists=False),
    Row("no event: If-None-Match *", [("If-None-Match", "*")], 404, exists=False),
]


@pytest.mark.parametrize("method", READS)
@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in READ_ROWS])
def test_the_conditional_table_of_reads(api: Api, method: str, row: Row) -> None:
    event_id = f"cond-{uuid.uuid4().hex[:10]}"
    if row.exists:
        api.client.post("/events", json=sample_event(eventId=event_id))
    response = api.client.request(method, f"/events/{event_id}", headers=row.headers)
    assert response.status_code == row.status, response.text
    if row.status == 412 and method == "GET":
        assert response.json()["detail"] == (
            "If-None-Match 'garbage' is not a list of entity tags."
            if row.name == "If-None-Match no entity tag at all"
            else f"Event {event_id!r} is at version 1; If-Match did not match it."
        )
    if row.status == 304:
        # §15.4.5: the ETag a 200 would carry, and no body (nor a length for one).
        assert response.headers["etag"] == '"1"'
        assert response.content == b""
        assert "content-length" not in response.headers
    elif row.status == 200:
        assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize("operation", by_id([op for op in WRITES if op.body_schema]))
def test_preconditions_are_judged_after_the_request_is_otherwise_valid(
    api: Api, operation: Operation
) -> None:
    """§13.2.1: a request that would fail anyway gets that failure, not a 412."""
    method, path = operation.method, on(operation, api.event["eventId"])
    before = api.snapshot()
    stale = {"If-Match": "garbage"}
    assert api.client.request(method, path, headers=stale).status_code == 422
    bad_body = api.client.request(method, path, headers=stale, json={"capacity": "many"})
    assert bad_body.json()["errors"][0]["field"] == "capacity"
    wrong_type = api.client.request(
        method, path, headers={**stale, "Content-Type": "text/plain"}, content=b"x"
    )
    assert wrong_type.status_code == 415
    assert api.snapshot() == before


def test_if_none_match_star_on_create_states_create_only(api: Api) -> None:
    body = sample_event(eventId=f"cond-{uuid.uuid4().hex[:10]}")
    create_only = {"If-None-Match": "*"}
    assert api.client.post("/events", json=body, headers=create_only).status_code == 201
    before = api.snapshot()
    assert api.client.post("/events", json=body, headers=create_only).status_code == 409
    assert api.snapshot() == before
