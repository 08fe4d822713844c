"""The two ways the gateway invokes the function: in this process, or over Lambda's Invoke API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

# API Gateway gives up on a Lambda integration after this long (one home for the figure).
from infra.limits import INTEGRATION_TIMEOUT_SECONDS
from local.gateway.events import LambdaEvent
from local.lambda_context import LocalContext

Invoke = Callable[[LambdaEvent], Awaitable[Any]]


class FunctionError(Exception):
    """The function failed, timed out or answered something that is not a proxy response."""

    def __init__(self, status: int, message: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.message = message


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
