"""How every API route reads its request, before FastAPI validates anything.

- Only the query parameters the operation declares, each at most once
  (service/api/query.py), checked before anything is read or written.
- The body as strict JSON (service/api/strict_json.py).

A route class is FastAPI's documented way to give routes their own `Request`; the known
parameter names are worked out once, when the route is built, not on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from service.api.query import query_parameters, refuse_unknown_query
from service.api.strict_json import StrictJSONRequest


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = query_parameters(self.dependant)

        reads_body = bool(self.dependant.body_params)

        async def api_handler(request: Request) -> Response:
            if request.scope.get("query_string"):
                refuse_unknown_query(request, known)
            if reads_body:
                request = StrictJSONRequest(request.scope, request.receive)
            return await handler(request)

        return api_handler
