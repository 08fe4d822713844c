"""The Lambda entry point: the FastAPI app behind Mangum, built once per execution environment.

The module builds the app (settings, DynamoDB client, store) when Lambda imports it, during
the init phase, so every invocation reuses them; with SnapStart that init is snapshotted,
and `service.snapstart` warms the app before the snapshot and refreshes the client after a
restore. The app has no start-up or shutdown events, so Mangum's lifespan cycle is off
rather than run around each request.

API Gateway and Lambda function URLs send three event shapes; Mangum reads all three, and
the two classes below add the ASGI `root_path` the client's URL carries, so every link the
service emits (`Location`, the `/docs` page's `openapi.json`, OpenAPI `servers`) works as
the client sees it:

- REST API (v1) on its execute-api host: `https://{api}.execute-api.{region}.amazonaws.com/dev/events`
  arrives as `path: /events` with `requestContext.path: /dev/events`. The root path is
  `/dev`. On a custom domain `requestContext.path` lacks the stage: no root path.
- HTTP API (v2) on a named stage: `rawPath` and `requestContext.http.path` keep the stage
  (`/dev/events`), so the root path is `/dev` and the path stays as it is. On the
  `$default` stage, and on function URLs (always `$default`): no root path.

As current Starlette expects, `scope["path"]` includes `root_path` and routing strips it.
"""

from __future__ import annotations

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from mangum.handlers import APIGateway, HTTPGateway
from mangum.types import ASGI, Scope

from service import snapstart
from service.app import create_app
from service.errors import PROBLEM_MEDIA_TYPE
from service.settings import get_settings
from service.store import create_dynamodb_client

# Mangum base64-encodes any body whose Content-Type is not listed here, and a REST API
# without binary media types hands base64 to the client as is: error bodies must be text.
TEXT_MIME_TYPES = [*DEFAULT_TEXT_MIME_TYPES, PROBLEM_MEDIA_TYPE]


def _stage_prefix(stage: object, requested_path: object) -> str:
    """`/<stage>` when the path the client requested starts with it, else nothing."""
    if not isinstance(stage, str) or not stage or stage == "$default":
        return ""
    prefix = f"/{stage}"
    if not isinstance(requested_path, str):
        return ""
    return prefix if requested_path == prefix or requested_path.startswith(prefix + "/") else ""


class RestApiEvent(APIGateway):
    """REST API proxy events: `path` lacks the stage the client's URL had."""

    @property
    def scope(self) -> Scope:
        scope = super().scope
        context = self.event.get("requestContext") or {}
        root_path = _stage_prefix(context.get("stage"), context.get("path"))
        scope["root_path"] = root_path
        scope["path"] = root_path + scope["path"]
        return scope


class HttpApiEvent(HTTPGateway):
    """HTTP API and function URL events: a named stage is already in the path."""

    @property
    def scope(self) -> Scope:
        scope = super().scope
        context = self.event.get("requestContext") or {}
        scope["root_path"] = _stage_prefix(context.get("stage"), scope["path"])
        return scope


def build_handler(app: ASGI) -> Mangum:
    # HTTP API first, as in Mangum's own order: its payload 1.0 also has a "resource" key.
    return Mangum(
        app,
        lifespan="off",
        custom_handlers=[HttpApiEvent, RestApiEvent],
        text_mime_types=TEXT_MIME_TYPES,
    )


settings = get_settings()
dynamodb_client = create_dynamodb_client(settings)
app = create_app(settings, dynamodb_client)
handler = build_handler(app)
# Under SnapStart the runtime runs service.snapstart's hooks around the snapshot.
snapstart.register(handler, app, dynamodb_client)
