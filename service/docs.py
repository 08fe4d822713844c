"""The interactive docs, `/docs` (Swagger UI) and `/redoc`, served wholly by the service.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN and start Swagger UI with
an inline script, so they break on a private API, an air-gapped network, or behind a
Content-Security-Policy without `'unsafe-inline'`. These pages instead load:

- the JavaScript and CSS that the `fastapi-offline` package ships (a runtime dependency,
  pinned in uv.lock, so the Lambda image carries them), under `/docs/assets/`;
- Swagger UI's start-up code from `/docs/swagger-ui-init.js`, so the page has no inline script;
- the OpenAPI document from `/openapi.json`.

One line of ReDoc reaches out regardless: its "API docs by Redocly" footer shows a logo
from Redocly's CDN. The service serves ReDoc's bundle with that one URL swapped for an
empty inline image, so the page makes no request off the service.

Every URL starts with the request's `root_path`, so behind an API Gateway stage the page
asks for `/dev/openapi.json` and `/dev/docs/assets/...`. Each page is sent with a strict
Content-Security-Policy (`'self'` only) that keeps it honest: a stray CDN reference would
be refused by the browser, and the browser test would see it.

Nothing here reads the assets, or imports `fastapi_offline`, until a browser asks for them:
the Lambda cold start pays only for locating the package's folder.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
SWAGGER_INIT_URL = "/docs/swagger-ui-init.js"
ASSETS_PACKAGE = ("fastapi_offline", "static")
REDOC_BUNDLE = "redoc.standalone.js"
REDOC_CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"

# Swagger UI and ReDoc both inject <style> elements (so styles need 'unsafe-inline'),
# draw icons from data: URIs, and ReDoc runs its search index in a blob: worker.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

# A static file rather than an inline <script>: a CSP without 'unsafe-inline' allows it.
# The OpenAPI URL comes from the page, which knows the request's root path. validatorUrl
# null: never hand the document's URL to swagger.io's online validator.
SWAGGER_INIT_JS = """\
"use strict";
const container = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: container.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
{head}
</head>
<body>
{body}
</body>
</html>
"""


# The assets change only with the pinned fastapi-offline release: let browsers keep them
# for a day instead of pulling ~1.7 MB through Lambda on every visit to /docs.
ASSET_CACHE_CONTROL = "public, max-age=86400"


class _CachedAssets(StaticFiles):
    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = ASSET_CACHE_CONTROL
        return response


def add_docs(app: FastAPI) -> None:
    """Serve `/docs`, `/redoc` and their assets (the app has `docs_url=None, redoc_url=None`)."""
    openapi_url = app.openapi_url or "/openapi.json"
    # packages= only locates the folder (importlib's find_spec); nothing is imported or read.
    assets = _CachedAssets(packages=[ASSETS_PACKAGE])
    redoc_bundle_path = Path(assets.all_directories[0]) / REDOC_BUNDLE

    async def swagger_ui(request: Request) -> Response:
        root = _root_path(request)
        return _page(
            f"{app.title} - Swagger UI",
            head=f'<link rel="stylesheet" href="{root}{ASSETS_URL}/swagger-ui.css">',
            body=(
                f'<div id="swagger-ui" data-openapi-url="{root}{openapi_url}"></div>\n'
                f'<script src="{root}{ASSETS_URL}/swagger-ui-bundle.js"></script>\n'
                f'<script src="{root}{SWAGGER_INIT_URL}"></script>'
            ),
        )

    async def swagger_ui_init(request: Request) -> Response:
        return Response(SWAGGER_INIT_JS, media_type="text/javascript")

    async def redoc_bundle(request: Request) -> Response:
        return Response(
            _redoc_bundle(redoc_bundle_path),
            media_type="text/javascript",
            headers={"Cache-Control": ASSET_CACHE_CONTROL},
        )

    async def redoc(request: Request) -> Response:
        root = _root_path(request)
        return _page(
            f"{app.title} - ReDoc",
            head="",
            body=(
                f'<redoc spec-url="{root}{openapi_url}" expand-responses="200,201"></redoc>\n'
                f'<script src="{root}{ASSETS_URL}/{REDOC_BUNDLE}"></script>'
            ),
        )

    # Before the mount, which would otherwise serve the bundle as shipped.
    app.add_route(f"{ASSETS_URL}/{REDOC_BUNDLE}", redoc_bundle, include_in_schema=False)
    app.mount(ASSETS_URL, assets, name="docs-assets")
    app.add_route(SWAGGER_INIT_URL, swagger_ui_init, include_in_schema=False)
    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_route(REDOC_URL, redoc, include_in_schema=False)


@cache
def _redoc_bundle(path: Path) -> str:
    """ReDoc's bundle without its one CDN reference; read on the first /redoc, then kept."""
    return path.read_text(encoding="utf-8").replace(REDOC_CDN_LOGO, EMPTY_IMAGE)


def _root_path(request: Request) -> str:
    """The prefix the client sees, such as an API Gateway stage (`/dev`), HTML-escaped."""
    return html.escape(str(request.scope.get("root_path", "")).rstrip("/"))


def _page(title: str, head: str, body: str) -> HTMLResponse:
    content = _PAGE.format(title=html.escape(title), head=head, body=body)
    return HTMLResponse(content, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
