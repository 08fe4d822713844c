"""Which methods a path serves, and the two every resource answers besides: HEAD and OPTIONS.

RFC 9110 §9.1: HEAD wherever GET is, with the same status and headers and no body
(monitors and link checkers use it). §9.3.7: OPTIONS names what the resource allows, and
§15.5.6: a 405 lists them in `Allow`. FastAPI routes declare only what they were written
for, so the methods are found by asking the app's own routing table, one method at a time:
what it would route is what the path serves, however routers are nested or included.
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# In the order RFC 9110 lists them; an Allow header reads the same on every path.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def served_methods(scope: Scope) -> list[str]:
    """The methods the request's path serves, HEAD and OPTIONS included; [] if none."""
    routes = scope["app"].router.routes
    # Inside a mount (the docs assets) root_path has grown by the mount's path; the app's
    # routing table starts from the application's own root path.
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    served = set()
    for method in METHODS:
        probe = {**scope, "method": method, "root_path": root_path}
        for route in routes:
            match, _ = route.matches(probe)
            # A mount (the docs assets) matches every method; its files serve GET and HEAD.
            if match is Match.FULL and (not isinstance(route, Mount) or method == "GET"):
                served.add(method)
                break
    if served:
        served |= {"OPTIONS"} | ({"HEAD"} if "GET" in served else set())
    return [method for method in METHODS if method in served]


class MethodsMiddleware:
    """Answers OPTIONS with `Allow`, and HEAD as GET without the body.

    Inside the CORS middleware, so a browser's preflight is still CORS's to answer.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or method not in {"HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        allowed = served_methods(scope)
        if method == "OPTIONS" and allowed:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"allow", ", ".join(allowed).encode())],
                }
            )
            await send({"type": "http.response.body", "body": b""})
        elif method == "HEAD" and "GET" in allowed:
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        else:
            await self.app(scope, receive, send)


def _without_body(send: Send) -> Send:
    """The GET answer's status and headers (Content-Length included), then no body."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return send_head
