"""`python -m local.gateway`: a local API Gateway (REST API, Lambda proxy integration).

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

import argparse
import asyncio
import base64
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

# API Gateway gives up on a Lambda integration after this long (one home for the figure).
from infra.limits import INTEGRATION_TIMEOUT_SECONDS
from local.lambda_context import LocalContext

RIE_INVOCATIONS_PATH = "/2015-03-31/functions/function/invocations"
PROXY_RESOURCE = "/{proxy+}"
# The name events carry when no stage is in the URL (a custom domain maps to some stage).
UNNAMED_STAGE = "local"
# The headers the gateway sets itself, whatever the function returned.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

LambdaEvent = dict[str, Any]
LambdaResult = dict[str, Any]
Invoke = Callable[[LambdaEvent], Awaitable[Any]]


class FunctionError(Exception):
    """The function failed, timed out or answered something that is not a proxy response."""

    def __init__(self, status: int, message: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.message = message


def rest_api_event(
    method: str,
    path: str,
    query_string: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    stage: str = UNNAMED_STAGE,
    stage_in_url: bool = False,
    source_ip: str = "127.0.0.1",
) -> LambdaEvent:
    """The event a REST API `/{proxy+}` resource with Lambda proxy integration sends.

    `path` is the request path without the stage, percent-encoded as the client sent it.
    Bodies that are not UTF-8 travel base64-encoded, as with a binary media type.
    """
    # API Gateway adds these for the function (Mangum reads the scheme from the last one).
    forwarded = [
        ("x-forwarded-for", source_ip),
        ("x-forwarded-port", "80"),
        ("x-forwarded-proto", "http"),
    ]
    sent = {name for name, _ in headers}
    single_headers, multi_headers = _single_and_multi(
        [*headers, *((name, value) for name, value in forwarded if name not in sent)]
    )
    single_query, multi_query = _single_and_multi(parse_qsl(query_string, keep_blank_values=True))
    try:
        text: str | None = body.decode() if body else None
        is_base64 = False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    host = single_headers.get("host", "localhost")
    request_id = str(uuid.uuid4())
    now = time.time()
    return {
        "resource": PROXY_RESOURCE,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": source_ip,
                "user": None,
                "userAgent": single_headers.get("user-agent"),
                "userArn": None,
            },
            "path": f"/{stage}{path}" if stage_in_url else path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": _request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "local",
            "resourcePath": PROXY_RESOURCE,
            "stage": stage,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def _single_and_multi(
    pairs: list[tuple[str, str]],
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A proxy event's two views of repeated names: the last value, and every value in order."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _request_time(now: float) -> str:
    """API Gateway's `requestTime`, such as `09/Apr/2015:12:34:56 +0000` (locale-free)."""
    moment = time.gmtime(now)
    clock = time.strftime("%H:%M:%S", moment)
    return f"{moment.tm_mday:02d}/{_MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:{clock} +0000"


def proxy_response(result: Any) -> Response:
    """The HTTP response for a Lambda proxy result, or FunctionError if it is not one.

    Like API Gateway: `headers` and `multiValueHeaders` merge (a pair in both appears
    once), and a base64 body is decoded.
    """
    if not isinstance(result, Mapping) or not isinstance(result.get("statusCode"), int):
        detail = result.get("errorMessage") if isinstance(result, Mapping) else None
        raise FunctionError(502, "Internal server error", str(detail or result)[:2000])
    values: dict[str, list[str]] = {}
    for name, many in (result.get("multiValueHeaders") or {}).items():
        values.setdefault(name.lower(), []).extend(str(value) for value in many)
    for name, value in (result.get("headers") or {}).items():
        merged = values.setdefault(name.lower(), [])
        if str(value) not in merged:
            merged.append(str(value))
    body = result.get("body") or ""
    try:
        content = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else None
    except ValueError as error:
        raise FunctionError(502, "Internal server error", f"bad base64 body: {error}") from None
    if content is None:
        content = body.encode()
    status = result["statusCode"]
    response = Response(status_code=status)
    raw = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, many in values.items()
        if name not in _HOP_BY_HOP
        for value in many
    ]
    if status >= 200 and status not in (204, 304):
        raw.append((b"content-length", str(len(content)).encode()))
    response.raw_headers = raw
    response.body = content
    return response


class LocalGateway:
    """The ASGI app: one REST API stage with a `/{proxy+}` resource in front of `invoke`."""

    def __init__(self, invoke: Invoke, stage: str | None = None) -> None:
        self.invoke = invoke
        self.stage = stage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http", "run under uvicorn with lifespan off"
        request = Request(scope, receive)
        path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        path = path.split("?", 1)[0]
        if self.stage is not None:
            prefix = f"/{self.stage}"
            if path != prefix and not path.startswith(prefix + "/"):
                # What the execute-api host answers for a path outside every stage.
                await JSONResponse({"message": "Forbidden"}, 403)(scope, receive, send)
                return
            path = path[len(prefix) :] or "/"
        event = rest_api_event(
            request.method,
            path,
            scope.get("query_string", b"").decode("latin-1"),
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
            await request.body(),
            stage=self.stage or UNNAMED_STAGE,
            stage_in_url=self.stage is not None,
            source_ip=request.client.host if request.client else "127.0.0.1",
        )
        try:
            response = proxy_response(await self.invoke(event))
        except FunctionError as error:
            print(f"gateway: {error.status} {error.message}: {error}", file=sys.stderr)
            response = JSONResponse({"message": error.message}, error.status)
        await response(scope, receive, send)


def _new_event_loop() -> None:
    # Mangum runs the app on the calling thread's event loop; a worker thread has none.
    asyncio.set_event_loop(asyncio.new_event_loop())


class InProcessFunction:
    """Calls a handler like a Lambda execution environment: in one thread, one event at a time."""

    def __init__(self, handler: Callable[[LambdaEvent, Any], Any] | None = None) -> None:
        if handler is None:
            from service.handler import handler as module_handler

            handler = module_handler
        self.handler: Callable[[LambdaEvent, Any], Any] = handler
        self._worker = ThreadPoolExecutor(max_workers=1, initializer=_new_event_loop)

    async def __call__(self, event: LambdaEvent) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._worker, self.handler, event, LocalContext())
        try:
            return await asyncio.wait_for(future, INTEGRATION_TIMEOUT_SECONDS)
        except TimeoutError:
            raise FunctionError(504, "Endpoint request timed out", "handler timed out") from None
        except Exception as error:
            raise FunctionError(502, "Internal server error", repr(error)) from error

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> InProcessFunction:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class RemoteFunction:
    """Invokes a function through Lambda's Invoke API, as the Runtime Interface Emulator has it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = httpx.AsyncClient(timeout=INTEGRATION_TIMEOUT_SECONDS)

    async def __call__(self, event: LambdaEvent) -> Any:
        try:
            response = await self._client.post(self.url, content=json.dumps(event))
        except httpx.TimeoutException:
            raise FunctionError(504, "Endpoint request timed out", self.url) from None
        except httpx.HTTPError as error:
            raise FunctionError(502, "Internal server error", f"{self.url}: {error}") from None
        if response.status_code != 200:
            detail = f"Invoke answered {response.status_code}: {response.text[:500]}"
            raise FunctionError(502, "Internal server error", detail)
        try:
            return response.json()
        except ValueError:
            raise FunctionError(502, "Internal server error", response.text[:500]) from None

    async def aclose(self) -> None:
        await self._client.aclose()


@contextlib.contextmanager
def _local_dynamodb() -> Iterator[None]:
    from local.dynamodb_local import serving_database

    with serving_database() as (local, _):
        print(f"DynamoDB Local ({local.engine}) on {local.endpoint_url}")
        yield


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--stage", help="serve under /STAGE, as on the execute-api host")
    parser.add_argument(
        "--function-url",
        help=f"a Lambda Invoke endpoint, such as http://localhost:9000{RIE_INVOCATIONS_PATH}; "
        "without it the handler runs in this process",
    )
    parser.add_argument(
        "--dynamodb-local",
        action="store_true",
        help="in-process only: start DynamoDB Local with the table and use it",
    )
    args = parser.parse_args(argv)
    if args.stage is not None and (not args.stage or "/" in args.stage):
        parser.error("--stage takes a name such as dev, without slashes")
    if args.function_url and args.dynamodb_local:
        parser.error("--dynamodb-local applies only when the handler runs in this process")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    import uvicorn

    with contextlib.ExitStack() as stack:
        if args.dynamodb_local:
            stack.enter_context(_local_dynamodb())
        invoke: Invoke = (
            RemoteFunction(args.function_url)
            if args.function_url
            else stack.enter_context(InProcessFunction())
        )
        target = args.function_url or "service.handler.handler (in process)"
        root = f"/{args.stage}" if args.stage else ""
        print(f"Gateway on http://{args.host}:{args.port}{root}/ -> {target}")
        uvicorn.run(
            LocalGateway(invoke, args.stage), host=args.host, port=args.port, lifespan="off"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
