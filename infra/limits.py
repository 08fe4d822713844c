"""AWS limits the deployment must respect, and the time figures derived from them.

One home for each: the stack settings (infra/stack_settings.py), the function
(infra/function.py), the API (infra/api.py), the local gateway (local/gateway/invokers.py)
and the local HTTP server (local/http_server.py) all read them here. This module imports
no Pulumi, so local tooling can share it cheaply (the local-tools image copies it).
"""

from __future__ import annotations

import math

from service.settings import Settings

# API Gateway's quota for a REST or HTTP API: "total combined size of request line and
# header values", 10240 bytes, not adjustable (api-gateway-execution-service-limits-table).
REQUEST_HEAD_LIMIT = 10240
# API Gateway answers 504 once a Lambda integration has run this long (REST API default).
INTEGRATION_TIMEOUT_SECONDS = 29
# The service must answer (503 at worst) before Lambda stops it: a timed-out invocation is a
# bare 502 from API Gateway. One DynamoDB call with its retries can take this long
# (service/settings.py), a listing starts no call after its budget (at least a second),
# and the answer needs a second more.
DYNAMODB_CALL_LIMIT_SECONDS = Settings.model_construct().dynamodb_call_limit
ANSWER_MARGIN_SECONDS = 1
MIN_TIMEOUT_SECONDS = math.ceil(DYNAMODB_CALL_LIMIT_SECONDS) + 1 + ANSWER_MARGIN_SECONDS
# A function still running when API Gateway gives up only keeps working for a client that
# has had its 504: its timeout must end first.
MAX_TIMEOUT_SECONDS = INTEGRATION_TIMEOUT_SECONDS - 1


def dynamodb_request_budget(timeout: int) -> float:
    """The service's budget for one request's DynamoDB calls under this function timeout:
    the last call it starts still ends, and the service answers, before Lambda stops it."""
    return timeout - ANSWER_MARGIN_SECONDS - DYNAMODB_CALL_LIMIT_SECONDS
