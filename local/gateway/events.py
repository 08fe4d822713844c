"""The REST API proxy event the gateway builds from an HTTP request, as API Gateway would."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from local.lambda_events import grouped

PROXY_RESOURCE = "/{proxy+}"
# The name events carry when no stage is in the URL (a custom domain maps to some stage).
UNNAMED_STAGE = "local"

LambdaEvent = dict[str, Any]


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
    # A proxy event's two views of repeated names: every value in order, and the last one.
    multi_headers = grouped(
        [*headers, *((name, value) for name, value in forwarded if name not in sent)]
    )
    multi_query = grouped(parse_qsl(query_string, keep_blank_values=True))
    single_headers = {name: values[-1] for name, values in multi_headers.items()}
    single_query = {name: values[-1] for name, values in multi_query.items()}
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


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _request_time(now: float) -> str:
    """API Gateway's `requestTime`, such as `09/Apr/2015:12:34:56 +0000` (locale-free)."""
    moment = time.gmtime(now)
    clock = time.strftime("%H:%M:%S", moment)
    return f"{moment.tm_mday:02d}/{_MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:{clock} +0000"
