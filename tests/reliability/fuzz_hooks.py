"""Schemathesis hooks: the rules of the API that its OpenAPI document cannot state.

OpenAPI describes each parameter alone; these rules tie parameters together (and are
written in the operations' descriptions). The hooks repair only the parts of a case
that were generated as valid, so a valid case stays valid under every rule, and the
invalid ones are left to the negative checks. Loaded by test_fuzz.py through
SCHEMATHESIS_HOOKS; the cursor secret comes from the server's own environment.
The run's report counts the failures filter_failure drops ("filtered").
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation

from service.cursor import CursorCodec
from service.errors import InvalidCursor
from service.settings import LOCAL_CURSOR_SECRET

FuzzCase = schemathesis.Case[Any]
_CURSOR_CODEC = CursorCodec(os.environ.get("EVENTS_CURSOR_SECRET", LOCAL_CURSOR_SECRET))
_LISTING_FILTERS = ("status", "from", "to")
# What the API answers when a request that matches the document breaks one of these rules.
_RULE_MESSAGES = (
    "is required for date ranges",
    "must not be after to",
    "cannot change: it must equal the eventId",
    "Send at least one field to change.",
    "The cursor was not issued by this API",
    "The cursor belongs to a different listing",
    # An Idempotency-Key names one request: the generator reuses the document's example
    # key with other bodies.
    "was used for a request with another body",
)


def _valid_at(case: FuzzCase, location: ParameterLocation) -> bool:
    # Cases without metadata come from the document's own examples: valid ones.
    return case.meta is None or not case.meta.is_negative_at(location)


def _listing_rules(query: dict[str, Any]) -> None:
    """A cursor is only good with the filters it was issued for; dates need a status."""
    if "cursor" in query:
        try:
            filters = _CURSOR_CODEC.decode(str(query["cursor"])).get("q")
        except InvalidCursor:
            filters = "forged"
        if isinstance(filters, list):
            for name, value in zip(_LISTING_FILTERS, filters, strict=False):
                query.pop(name, None)
                if value is not None:
                    query[name] = value
            return
        if filters is None:
            for name in _LISTING_FILTERS:
                query.pop(name, None)
            return
        # Not one of ours: the request goes without it, under the rules below.
        del query["cursor"]
    if ("from" in query or "to" in query) and "status" not in query:
        query["status"] = "active"
    if "from" in query and "to" in query and str(query["from"]) > str(query["to"]):
        query["from"], query["to"] = query["to"], query["from"]


def _follow_rules(case: FuzzCase) -> None:
    path, method = case.operation.path, case.method.upper()
    if path == "/events" and method == "GET" and _valid_at(case, ParameterLocation.QUERY):
        _listing_rules(case.query)
    if (
        path == "/events/{eventId}"
        and method in {"PUT", "PATCH"}
        and isinstance(case.body, dict)
        and "eventId" in case.body
        and _valid_at(case, ParameterLocation.BODY)
    ):
        # The body may repeat the eventId, but never change it; alone it changes nothing,
        # which the document (minProperties: 1) cannot say.
        case.body["eventId"] = case.path_parameters["eventId"]
        if len(case.body) == 1:
            case.body["status"] = "active"


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: FuzzCase, kwargs: dict[str, Any]) -> None:
    # Right before sending, in every phase: stateful steps fill in link values after
    # generation, so earlier hooks (map_case) would see the path before the link sets it.
    _follow_rules(case)


@schemathesis.hook
def filter_failure(
    context: schemathesis.HookContext,
    failure: Failure,
    case: FuzzCase,
    response: schemathesis.Response,
) -> bool:
    """Keep every failure but "valid request refused" for breaking one of these rules, and
    but the front server's 431 to a request line or headers over API Gateway's 10,240
    bytes (local/http_server.py, docs/reliability.md): a fuzzed cursor of 4,096 characters
    outside ASCII is ten times that once percent-encoded, and neither the app nor its
    document sees such a request: on Lambda, API Gateway refuses it before the function.

    A few phases send some cases without the before_call hook; their refusals land here.
    """
    if response.status_code == 431:
        return False
    if failure.code != "ST202" or response.status_code not in {400, 422}:
        return True
    return not any(message in response.text for message in _RULE_MESSAGES)
