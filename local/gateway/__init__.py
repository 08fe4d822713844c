"""A local API Gateway (REST API, Lambda proxy integration).

It listens on HTTP, turns each request into the REST API proxy event API Gateway would
send, invokes the function with it, and turns the function's answer back into HTTP, as
`sam local start-api` does for SAM users:

    python -m local.gateway --function-url http://localhost:9000/2015-03-31/functions/function/invocations
    python -m local.gateway --stage dev --dynamodb-local    # the handler in this process

With `--function-url` the function is whatever answers Lambda's Invoke API there: the
Runtime Interface Emulator of a running Lambda container image. Without it, the gateway
imports `service.handler` and calls `handler(event, context)` itself, configured from the
environment like the deployed function (`--dynamodb-local` starts one and points it there).

With `--stage dev` the API is served under `/dev/...` and the events carry that stage, as
on the execute-api host; without it, at the root, as on a custom domain. Like a Lambda
execution environment, the in-process function takes one event at a time.
"""

from __future__ import annotations

from local.gateway.app import LocalGateway
from local.gateway.arguments import RIE_INVOCATIONS_PATH, parse_arguments
from local.gateway.events import LambdaEvent, rest_api_event
from local.gateway.invokers import FunctionError, InProcessFunction, Invoke, RemoteFunction
from local.gateway.responses import proxy_response

__all__ = [
    "RIE_INVOCATIONS_PATH",
    "FunctionError",
    "InProcessFunction",
    "Invoke",
    "LambdaEvent",
    "LocalGateway",
    "RemoteFunction",
    "parse_arguments",
    "proxy_response",
    "rest_api_event",
]
