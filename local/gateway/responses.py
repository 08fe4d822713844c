"""A Lambda proxy result turned into the HTTP response API Gateway would send."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from local.gateway.invokers import FunctionError

# The headers the gateway sets itself, whatever the function returned.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


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
