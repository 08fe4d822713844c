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


def query_error(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


def query_parameters(dependant: Dependant) -> frozenset[str]:
    """The query parameters an operation declares, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= query_parameters(dependency)
    return frozenset(names)


def refuse_unknown_query(request: Request, known: frozenset[str]) -> None:
    for name in request.query_params:
        if name not in known:
            raise query_error(name[:100], "is not a parameter of this operation")
        if len(request.query_params.getlist(name)) > 1:
            raise query_error(name, "must be given at most once")
