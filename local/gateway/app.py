"""The gateway's ASGI app: one REST API stage with a `/{proxy+}` resource."""

from __future__ import annotations

import sys

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from local.gateway.events import UNNAMED_STAGE, rest_api_event
from local.gateway.invokers import FunctionError, Invoke
from local.gateway.responses import proxy_response


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
