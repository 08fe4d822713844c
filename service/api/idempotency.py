"""The `Idempotency-Key` request header of creates (draft-ietf-httpapi-idempotency-key-header).

A client that lost the answer to `POST /events` sends the request again with the same key:
it gets the first answer again, marked with `Idempotent-Replayed: true`, and nothing new is
stored. The store does the work (service/store/idempotency.py); this module reads the
header and says whose key it is.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic.json_schema import SkipJsonSchema

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Visible ASCII: no space, no control character, nothing a proxy might rewrite.
KEY_PATTERN = rf"^[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}$"
# The scope of keys sent by a caller API Gateway did not identify (no API key).
ANONYMOUS_SCOPE = "-"


async def idempotency_key(
    request: Request,
    key: Annotated[
        str | SkipJsonSchema[None],
        Header(
            alias=IDEMPOTENCY_KEY_HEADER,
            min_length=1,
            max_length=MAX_KEY_LENGTH,
            pattern=KEY_PATTERN,
            description="Makes the create safe to retry: a unique value per new event (a "
            "UUID, say), 1-255 visible ASCII characters. A later request with the same key "
            "and body gets the first answer again, with `Idempotent-Replayed: true`, and "
            "creates nothing; the same key with another body is 422, and while the first "
            "request is still being processed, 409 with `Retry-After`. Keys are remembered "
            "for 24 hours (a setting) per API key.",
            examples=["5f0c5c8e-2b1a-4f4e-9d1c-0c8a6f2b7e31"],
        ),
    ] = None,
) -> str | None:
    if key is not None and len(request.headers.getlist(IDEMPOTENCY_KEY_HEADER)) > 1:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", IDEMPOTENCY_KEY_HEADER),
                    "msg": "Send Idempotency-Key at most once.",
                    "type": "value_error",
                }
            ]
        )
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def caller_scope(request: Request) -> str:
    """Whose keys these are: the API key API Gateway checked, so two clients never share
    a key. Without one (dev stacks, local runs) every caller shares one scope."""
    event = request.scope.get("aws.event") or {}
    identity = (event.get("requestContext") or {}).get("identity") or {}
    api_key_id = identity.get("apiKeyId")
    return api_key_id if isinstance(api_key_id, str) and api_key_id else ANONYMOUS_SCOPE


def with_key_answers(responses: dict[int | str, Any]) -> dict[int | str, Any]:
    """A create's declared responses, with what an Idempotency-Key adds to them."""
    created, conflict, invalid = responses[201], responses[409], responses[422]
    created["headers"] = {
        **created["headers"],
        REPLAYED_HEADER: {
            "description": "`true` when this answer repeats the first answer to a request "
            "with the same Idempotency-Key; absent otherwise",
            "schema": {"type": "string", "enum": ["true"]},
        },
    }
    conflict["description"] += "; or a request with the same Idempotency-Key is in progress"
    conflict["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait (request in progress)",
            "schema": {"type": "integer"},
        }
    }
    invalid["description"] += "; or the Idempotency-Key was used with another body"
    return responses
