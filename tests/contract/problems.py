"""The guard every problem document the suite sees passes: public words, no internals.

A validator's internals in an answer (a memory address, pydantic's schema path, its type
tags) leak how the service is built and mean nothing to a client. `check_problem` is hooked
into the suite's test clients (tests/conftest.py), so every 4xx and 5xx any test provokes
is checked, not only the ones a test thought to look at.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What pydantic and Python put in their own texts, never in ours.
LEAKS = re.compile(
    r"0x[0-9a-fA-F]{4,}|function-(?:after|before|wrap|plain)|functools|constrained-|<function"
    r"|str-enum\[|union\[|literal\[|lax-or-strict|json-or-python|nullable\[|is-instance\["
    r"|Value error,|Input should|pydantic|errors\.pydantic\.dev|\[type=",
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def check_problem(status: int, content_type: str, content: bytes) -> None:
    """Raise AssertionError if a problem document shows internals or non-public names."""
    if content_type.split(";")[0].strip() != PROBLEM_MEDIA_TYPE or not content:
        return
    problem = json.loads(content)
    assert {"type", "title", "status", "detail"} <= problem.keys(), problem
    for text in _strings(problem):
        assert not LEAKS.search(text), f"internals in a problem document: {text!r}"
    if "errors" in problem:
        fields = [error["field"] for error in problem["errors"]]
        assert len(fields) == len(set(fields)), f"one entry per invalid input: {fields}"
        assert problem["errorCount"] >= len(fields)
        for field in fields:
            assert not re.search(r"[.\[<]", field), f"not a public name: {field!r}"


def guard_response(response: httpx.Response) -> None:
    """An httpx response hook (TestClient is an httpx client)."""
    response.read()
    check_problem(response.status_code, response.headers.get("content-type", ""), response.content)


def guard_clients(monkeypatch: Any) -> None:
    """Check every answer the suite's HTTP clients receive: httpx (TestClient is one) and
    the Lambda client that sends API Gateway events to the handler."""
    from local.lambda_events import LambdaClient, LambdaResponse

    def checked(send: Any) -> Any:
        def send_and_check(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            response = send(self, request, *args, **kwargs)
            if not kwargs.get("stream"):
                guard_response(response)
            return response

        return send_and_check

    async def async_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = await original_async_send(self, request, *args, **kwargs)
        if not kwargs.get("stream"):
            await response.aread()
            guard_response(response)
        return response

    def lambda_send(self: LambdaClient, event: dict[str, Any]) -> LambdaResponse:
        response = original_lambda_send(self, event)
        check_problem(
            response.status_code, response.headers.get("content-type", ""), response.content
        )
        return response

    original_async_send = httpx.AsyncClient.send
    original_lambda_send = LambdaClient.send
    monkeypatch.setattr(httpx.Client, "send", checked(httpx.Client.send))
    monkeypatch.setattr(httpx.AsyncClient, "send", async_send)
    monkeypatch.setattr(LambdaClient, "send", lambda_send)
