"""The requests the benchmark sends through the handler, as API Gateway REST API events.

Templates are JSON text with `bench.child.EVENT_ID` where each request's eventId goes,
built here (with the test suite's REST API v1 event shape) and filled in by the measuring
processes, which thus import nothing the deployed function would not.
"""

from __future__ import annotations

import json

from bench.child import EVENT_ID
from bench.data import LISTED_STATUS
from local.lambda_events import rest_api_event
from service.models import sample_event

STAGE = "dev"
PAGE_SIZE = 50
# One round of the mixed workload: 70% reads, 30% writes.
MIX = ("get", "get", "get", "get", "get", "get", "list", "update", "update", "create")

# The body of every `update` request, and of every `create` (with its own eventId).
UPDATE = {"capacity": 1234}
NEW_EVENT = sample_event(eventId=EVENT_ID, status=...)


def _json_request(method: str, path: str, body: object) -> str:
    headers = [("Content-Type", "application/json")]
    event = rest_api_event(
        method, path, stage=STAGE, headers=headers, body=json.dumps(body).encode()
    )
    return json.dumps(event)


def templates() -> dict[str, str]:
    """One request template per kind of request in MIX."""
    page_query = [("status", LISTED_STATUS), ("limit", str(PAGE_SIZE))]
    return {
        "get": json.dumps(rest_api_event("GET", f"/events/{EVENT_ID}", stage=STAGE)),
        "list": json.dumps(rest_api_event("GET", "/events", stage=STAGE, query=page_query)),
        "update": _json_request("PATCH", f"/events/{EVENT_ID}", UPDATE),
        "create": _json_request("POST", "/events", NEW_EVENT),
    }
