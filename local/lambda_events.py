"""Lambda events shaped like the ones AWS sends, and a client that drives a handler with them.

The shapes follow AWS's published samples: the SAM CLI's `AwsProxy.json` (REST API proxy
integration, v1), and Powertools for AWS Lambda's `apiGatewayProxyV2Event.json` (HTTP API,
payload 2.0) and `lambdaFunctionUrlEvent.json` (function URL). They are written out here
rather than produced by `local.gateway`, so the gateway's events can be checked against them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from local.lambda_context import LocalContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Query = list[tuple[str, str]]


@dataclass(frozen=True)
class Shape:
    """One way API Gateway or Lambda can deliver a request, and the link prefix it implies."""

    name: str
    kind: str  # "rest", "http" or "url"
    stage: str
    root_path: str
    custom_domain: bool = False


SHAPES = [
    Shape("rest-api-dev-stage", "rest", "dev", "/dev"),
    Shape("rest-api-custom-domain", "rest", "prod", "", custom_domain=True),
    Shape("http-api-default-stage", "http", "$default", ""),
    Shape("http-api-named-stage", "http", "dev", "/dev"),
    Shape("function-url", "url", "$default", ""),
]


def grouped(pairs: Query) -> dict[str, list[str]]:
    """Repeated names' values together, in the order they came."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return values


def _body(body: bytes | None, as_base64: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if as_base64:
        return base64.b64encode(body).decode(), True
    return body.decode(), False


def rest_api_event(
    method: str,
    path: str,
    *,
    stage: str = "dev",
    custom_domain: bool = False,
    headers: list[tuple[str, str]] | None = None,
    query: Query | None = None,
    body: bytes | None = None,
    as_base64: bool = False,
) -> dict[str, Any]:
    host = "api.example.com" if custom_domain else "1234567890.execute-api.us-east-1.amazonaws.com"
    pairs = [
        ("Host", host),
        ("User-Agent", "Custom User Agent String"),
        ("Via", "1.1 08f323deadbeefa7af34d5feb414ce27.cloudfront.net (CloudFront)"),
        ("X-Forwarded-For", "127.0.0.1, 127.0.0.2"),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
        *(headers or []),
    ]
    multi_headers = grouped(pairs)
    multi_query = grouped(query or [])
    text, is_base64 = _body(body, as_base64)
    return {
        "body": text,
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "isBase64Encoded": is_base64,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "123456",
            "stage": stage,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "extendedRequestId": "c6af9ac67b6111e6=",
            "requestTime": "09/Apr/2015:12:34:56 +0000",
            "requestTimeEpoch": 1428582896000,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "accessKey": None,
                "sourceIp": "127.0.0.1",
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": "Custom User Agent String",
                "user": None,
            },
            # On the execute-api host the client's path starts with the stage; on a
            # custom domain (a base path mapping to the stage) it does not.
            "path": path if custom_domain else f"/{stage}{path}",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "apiId": "1234567890",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "protocol": "HTTP/1.1",
        },
    }


def http_api_event(
    method: str,
    path: str,
    *,
    stage: str = "$default",
    function_url: bool = False,
    headers: list[tuple[str, str]] | None = None,
    query: Query | None = None,
    body: bytes | None = None,
    as_base64: bool = False,
) -> dict[str, Any]:
    """Payload 2.0: HTTP API, or a function URL (which has no stage but `$default`)."""
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    host = (
        "abcdefghij.lambda-url.us-east-1.on.aws"
        if function_url
        else "id.execute-api.us-east-1.amazonaws.com"
    )
    joined: dict[str, str] = {"host": host, "user-agent": "agent", "x-forwarded-proto": "https"}
    for name, value in headers or []:
        # Payload 2.0 joins repeated headers with commas, under lowercase names.
        name = name.lower()
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    text, is_base64 = _body(body, as_base64)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or []),
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous" if function_url else "123456789012",
            "apiId": host.split(".")[0],
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.168.0.1",
                "userAgent": "agent",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": stage,
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
        },
        "isBase64Encoded": is_base64,
    }
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in grouped(query).items()}
    if text is not None:
        event["body"] = text
    return event


@dataclass
class LambdaResponse:
    """A proxy result read as HTTP: headers merged and lowercased, body decoded."""

    result: dict[str, Any]

    @property
    def status_code(self) -> int:
        status: int = self.result["statusCode"]
        return status

    @property
    def headers(self) -> dict[str, str]:
        merged = {name.lower(): str(value) for name, value in self.result["headers"].items()}
        for name, values in (self.result.get("multiValueHeaders") or {}).items():
            merged[name.lower()] = ", ".join(values)
        return merged

    @property
    def content(self) -> bytes:
        body: str = self.result.get("body") or ""
        return base64.b64decode(body) if self.result["isBase64Encoded"] else body.encode()

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)


class LambdaClient:
    """Sends requests to a Lambda handler as events of one shape."""

    def __init__(self, handler: Handler, shape: Shape) -> None:
        self.handler = handler
        self.shape = shape

    def event(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: Query | None = None,
        as_base64: bool = False,
    ) -> dict[str, Any]:
        pairs = list((headers or {}).items())
        if json_body is not None:
            body = json.dumps(json_body).encode()
            pairs.append(("Content-Type", "application/json"))
        if self.shape.kind == "rest":
            return rest_api_event(
                method,
                path,
                stage=self.shape.stage,
                custom_domain=self.shape.custom_domain,
                headers=pairs,
                query=query,
                body=body,
                as_base64=as_base64,
            )
        return http_api_event(
            method,
            path,
            stage=self.shape.stage,
            function_url=self.shape.kind == "url",
            headers=pairs,
            query=query,
            body=body,
            as_base64=as_base64,
        )

    def send(self, event: dict[str, Any]) -> LambdaResponse:
        return LambdaResponse(self.handler(event, LocalContext()))

    def request(self, method: str, path: str, **options: Any) -> LambdaResponse:
        return self.send(self.event(method, path, **options))
