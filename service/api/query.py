"""Query parameters: every operation refuses one it does not take, and any given twice.

A typo (`?limt=5`, `?dryRun=true`) is never silently ignored, and a repeated parameter is
never resolved by picking one: both are a 422 before anything is read or written. The
names an operation takes come from its own declaration, so a new parameter needs nothing
here.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def query_error(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


def _names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _names(dependency)
    return names


async def refuse_unknown_query(request: Request) -> None:
    """An app-wide dependency: runs before the route's own dependencies and its body."""
    route = request.scope.get("route")
    known = _names(route.dependant) if isinstance(route, APIRoute) else set()
    for name in request.query_params:
        if name not in known:
            raise query_error(name[:100], "is not a parameter of this operation")
        if len(request.query_params.getlist(name)) > 1:
            raise query_error(name, "must be given at most once")
