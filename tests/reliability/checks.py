"""What every response must satisfy, whatever the request: shared by the suites."""

from __future__ import annotations

import re
from collections.abc import Mapping

SECURITY_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}
# Internals an error body must never show: stack traces, exception class names, the
# SDK, DynamoDB and its identifiers (ARNs, request ids).
_LEAKS = re.compile(
    r"Traceback|File \"|(?-i:\b[A-Z][A-Za-z]*(?:Error|Exception)\b)|botocore|boto3|dynamodb"
    r"|arn:aws|RequestId|x-amz|site-packages",
    re.IGNORECASE,
)


def leaks(body: str) -> list[str]:
    """The internals an error body gives away; empty when it gives away none."""
    return [match.group(0) for match in _LEAKS.finditer(body)]


def missing_security_headers(headers: Mapping[str, str]) -> list[str]:
    lowered = {name.lower(): value for name, value in headers.items()}
    return [name for name, value in SECURITY_HEADERS.items() if lowered.get(name) != value]
