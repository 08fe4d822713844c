"""The docs pages, `/docs` and `/redoc`, checked in a real browser.

Debian's Chromium, driven by Playwright for Python (never `playwright install`: the network
is closed), opens the pages served by uvicorn on a free 127.0.0.1 port, on DynamoDB Local:
once straight from the app, once under an API Gateway-like `/dev` stage prefix. `/docs`
must render every operation of the OpenAPI document and run "Try it out" on `GET /events`;
`/redoc` must render the Event schema; neither may make a failed request, a request off the
service or a console error. A screenshot of each page is written under the test's tmp_path.

Without Chromium these tests are skipped with the install command, except in CI, where
a missing Chromium fails them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from local.dynamodb_local import LOCAL_CREDENTIALS, DynamoDBLocal
from local.gateway import InProcessFunction, LocalGateway
from local.paths import REPO_ROOT
from service.app import create_app
from service.docs import (
    ASSETS_URL,
    CONTENT_SECURITY_POLICY,
    EMPTY_IMAGE,
    REDOC_BUNDLE,
    REDOC_CDN_LOGO,
)
from service.handler import build_handler
from tests.conftest import make_settings, store_event
from tests.infra.test_api import docs_route
from tests.servers import serve

CHROMIUM = os.environ.get("EVENTS_CHROMIUM", "/usr/bin/chromium")
INSTALL_COMMAND = "sudo apt-get install -y chromium"
# The browser reaches the service by a name, not 127.0.0.1: Swagger UI behaves differently
# on localhost (it hides its online-validator badge there), and the test must see the page
# as a deployed API's users do.
SITE_HOST = "events-api.test"
# The network is closed: nothing that phones home, no QUIC, no GPU in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules=MAP {SITE_HOST} 127.0.0.1",
]
STAGE = "/dev"
PAGE_TIMEOUT_MS = 30_000


@contextmanager
def _staged(app: FastAPI) -> Iterator[ASGIApp]:
    """The app behind the local gateway's `/dev` REST API stage, through the Lambda handler.

    A path outside the stage gets API Gateway's own 403, so a page that forgets the prefix
    fails the test.
    """
    with InProcessFunction(build_handler(app)) as function:
        yield LocalGateway(function, stage=STAGE.strip("/"))


@dataclass
class Site:
    """The service as the browser reaches it, at `origin`; `/docs` and `/events` are under `base`.

    `local_base` is the same place for a client in the test process, which resolves no
    `SITE_HOST`.
    """

    name: str
    origin: str
    base: str
    local_base: str


@dataclass
class BrowserProblems:
    """Everything a healthy page must not do, as the browser reported it."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("request", self._left_the_service)
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on("response", self._error_status)
        page.on("console", self._console_error)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _left_the_service(self, request: Request) -> None:
        url = request.url
        if not url.startswith((f"{self.origin}/", "data:", f"blob:{self.origin}/")):
            self.problems.append(f"request off the service: {url}")

    def _error_status(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _console_error(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")


def chromium_or_skip() -> str:
    """The Chromium binary; in CI its absence is a failure, on a laptop a visible skip."""
    found = shutil.which(CHROMIUM)
    if found:
        return found
    reason = f"Chromium not found at {CHROMIUM}; install Debian's package: {INSTALL_COMMAND}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (.ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_or_skip()
    # expect() has its own 5 s default, short for a 1.5 MB bundle on a busy 2-core CI box.
    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(params=["direct", "dev-stage"])
def site(request: pytest.FixtureRequest, app: FastAPI) -> Iterator[Site]:
    prefix = "" if request.param == "direct" else STAGE
    with ExitStack() as stack:
        served: ASGIApp = app if request.param == "direct" else stack.enter_context(_staged(app))
        local = stack.enter_context(serve(served))
        origin = f"http://{SITE_HOST}:{httpx.URL(local).port}"
        yield Site(request.param, origin, f"{origin}{prefix}", f"{local}{prefix}")


@pytest.fixture
def open_page(browser: Browser, site: Site) -> Iterator[Callable[[str], tuple[Page, list[str]]]]:
    """Open a path of the site in a fresh page, watched for problems from the first request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)

    def open_path(path: str) -> tuple[Page, list[str]]:
        page = context.new_page()
        watcher = BrowserProblems(site.origin)
        watcher.watch(page)
        response = page.goto(f"{site.base}{path}", wait_until="load")
        assert response is not None
        assert response.status == 200
        return page, watcher.problems

    yield open_path
    context.close()


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }


def _try_out_the_listing(page: Page, base: str) -> tuple[Locator, Response, re.Pattern[str]]:
    """Run "Try it out" on GET /events: its block, the response, the URL it must have called."""
    listing = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/events"])')
    listing.locator(".opblock-summary").first.click()
    listing.get_by_role("button", name="Try it out").click()
    listing_url = re.compile(rf"^{re.escape(base)}/events(\?.*)?$")
    with page.expect_response(lambda r: bool(listing_url.match(r.url))) as executed:
        listing.get_by_role("button", name="Execute").click()
    return listing, executed.value, listing_url


def test_swagger_ui_renders_every_operation_and_tries_out_the_listing(
    app: FastAPI, site: Site, open_page: Callable[[str], tuple[Page, list[str]]], tmp_path: Path
) -> None:
    stored = store_event(app.state.store)
    document = httpx.get(f"{site.local_base}/openapi.json").json()
    expected = _operations(document)

    page, problems = open_page("/docs")
    operations = page.locator(".opblock")
    expect(operations).to_have_count(len(expected))
    rendered = {
        (
            block.locator(".opblock-summary-method").inner_text().strip(),
            str(block.locator(".opblock-summary-path").get_attribute("data-path")),
        )
        for block in operations.all()
    }
    assert rendered == expected

    listing, executed, listing_url = _try_out_the_listing(page, site.base)
    assert executed.status == 200

    live = listing.locator(".live-responses-table")
    expect(live.locator("tr.response .response-col_status")).to_have_text("200")
    expect(live.locator("tr.response .response-col_description")).to_contain_text(stored["eventId"])
    expect(listing.locator(".request-url pre")).to_have_text(listing_url)
    page.screenshot(path=tmp_path / f"docs-{site.name}.png", full_page=True)
    assert problems == [], "\n".join(problems)


def test_redoc_renders_the_event_schema(
    app: FastAPI, site: Site, open_page: Callable[[str], tuple[Page, list[str]]], tmp_path: Path
) -> None:
    document = httpx.get(f"{site.local_base}/openapi.json").json()
    event_fields = list(document["components"]["schemas"]["Event"]["properties"])
    read_event = document["paths"]["/events/{eventId}"]["get"]["operationId"]

    page, problems = open_page("/redoc")
    section = page.locator(f'[id="operation/{read_event}"]')
    expect(section).to_be_visible()
    # The 200 response is expanded (expand-responses): its schema is the Event.
    for name in event_fields:
        expect(section.locator(".property-name", has_text=name).first).to_be_visible()
    page.screenshot(path=tmp_path / f"redoc-{site.name}.png", full_page=True)
    section.screenshot(path=tmp_path / f"redoc-{site.name}-read-event.png")
    assert problems == [], "\n".join(problems)


API_KEY = "docs-ui-test-api-key"


def _requiring_a_key(stage: ASGIApp) -> ASGIApp:
    """The stage as a stack with requireApiKey serves it: API Gateway's 403 without the key,
    except on the docs routes (infra/api.py), which a browser opens without one."""

    async def gate(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = str(scope["path"]).removeprefix(STAGE)
            key = dict(scope["headers"]).get(b"x-api-key")
            if docs_route(path) is None and key != API_KEY.encode():
                forbidden = JSONResponse({"message": "Forbidden"}, status_code=403)
                await forbidden(scope, receive, send)
                return
        await stage(scope, receive, send)

    return gate


def test_with_a_key_required_the_docs_open_without_it_and_try_it_out_sends_it(
    browser: Browser, dynamodb_local: DynamoDBLocal, table_name: str, tmp_path: Path
) -> None:
    settings = make_settings(dynamodb_local, table_name, EVENTS_API_KEY_REQUIRED="true")
    app = create_app(settings)
    stored = store_event(app.state.store)
    with ExitStack() as stack:
        local = stack.enter_context(serve(_requiring_a_key(stack.enter_context(_staged(app)))))
        origin = f"http://{SITE_HOST}:{httpx.URL(local).port}"
        assert httpx.get(f"{local}{STAGE}/events").status_code == 403  # the gate works
        context = stack.enter_context(contextlib.closing(browser.new_context()))
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        watcher = BrowserProblems(origin)
        watcher.watch(page)

        loaded = page.goto(f"{origin}{STAGE}/docs", wait_until="load")
        assert loaded is not None
        assert loaded.status == 200
        page.locator(".auth-wrapper button.authorize").click()
        page.locator(".auth-container input").fill(API_KEY)
        page.locator(".auth-container button.authorize").click()
        page.locator(".auth-container button.btn-done").click()
        listing, executed, _ = _try_out_the_listing(page, origin + STAGE)

        assert executed.request.headers.get("x-api-key") == API_KEY
        assert executed.status == 200
        live = listing.locator(".live-responses-table")
        expect(live.locator("tr.response .response-col_description")).to_contain_text(
            stored["eventId"]
        )
        page.screenshot(path=tmp_path / "docs-key-required.png", full_page=True)
        assert watcher.problems == [], "\n".join(watcher.problems)


# Without a browser: what the pages ask for and how the assets are served.


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_pages_load_everything_from_the_service_under_a_strict_policy(
    client: TestClient, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "http" not in response.text.replace("http-equiv", "")
    assert "<script>" not in response.text


def test_pages_under_a_stage_point_every_url_at_the_stage(app: FastAPI) -> None:
    with _staged(app) as gateway:
        staged = TestClient(gateway)  # no `with`: the gateway, like API Gateway, has no lifespan
        swagger = staged.get(f"{STAGE}/docs").text
        redoc = staged.get(f"{STAGE}/redoc").text
        outside = staged.get("/docs")

    assert 'data-openapi-url="/dev/openapi.json"' in swagger
    assert 'href="/dev/docs/assets/swagger-ui.css"' in swagger
    assert 'src="/dev/docs/assets/swagger-ui-bundle.js"' in swagger
    assert 'src="/dev/docs/swagger-ui-init.js"' in swagger
    assert 'spec-url="/dev/openapi.json"' in redoc
    assert 'src="/dev/docs/assets/redoc.standalone.js"' in redoc
    assert outside.status_code == 403


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/docs/assets/swagger-ui-bundle.js", "javascript"),
        ("/docs/assets/swagger-ui.css", "text/css"),
        ("/docs/assets/redoc.standalone.js", "javascript"),
        ("/docs/swagger-ui-init.js", "text/javascript"),
    ],
)
def test_assets_are_served_by_the_service(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert media_type in response.headers["content-type"]
    assert len(response.content) > 100


def test_the_assets_folder_serves_nothing_else(client: TestClient) -> None:
    assert client.get("/docs/assets/../core.py").status_code == 404
    # httpx removes the literal `..` above before sending (the request is for /docs/core.py);
    # encoded dots reach the assets folder as `../core.py`, the package's own source.
    assert client.get("/docs/assets/%2e%2e/core.py").status_code == 404
    assert client.get("/docs/assets/missing.js").status_code == 404


def test_redoc_is_served_without_its_cdn_logo(client: TestClient) -> None:
    bundle = client.get(f"{ASSETS_URL}/{REDOC_BUNDLE}").text

    assert REDOC_CDN_LOGO not in bundle
    assert EMPTY_IMAGE in bundle


def test_building_the_app_reads_no_docs_asset() -> None:
    # The Lambda cold start must not pay for the docs: the assets are read on request only.
    # An audit hook sees every file the process opens; a subprocess keeps it out of this one.
    script = """
import sys
opened = []
sys.addaudithook(lambda event, args: event == "open" and opened.append(str(args[0])))
from service.app import create_app
create_app()
touched = [path for path in opened if "fastapi_offline/static" in path]
assert not touched, touched
assert "fastapi_offline" not in sys.modules
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **LOCAL_CREDENTIALS},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_assets_may_be_cached_but_api_answers_may_not(client: TestClient) -> None:
    for path in ("/docs/assets/swagger-ui.css", f"/docs/assets/{REDOC_BUNDLE}"):
        assert client.get(path).headers["cache-control"] == "public, max-age=86400"
    assert client.get("/docs").headers["cache-control"] == "no-store"
    assert client.get("/events").headers["cache-control"] == "no-store"
