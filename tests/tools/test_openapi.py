"""docs/openapi.json is the app's document, byte for byte."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from tools.openapi import DOCUMENT, main, render


def test_the_published_document_is_what_the_app_generates() -> None:
    generated = render()
    committed = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    if committed != generated:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                "docs/openapi.json (committed)",
                "create_app().openapi()",
                n=2,
            )
        )
        pytest.fail(
            "docs/openapi.json differs from the document the app generates: run "
            f"`make openapi` and commit the file.\n{diff[:4000]}",
            pytrace=False,
        )


def test_make_openapi_writes_a_document_clients_can_generate_from(tmp_path: Path) -> None:
    output = tmp_path / "docs" / "openapi.json"

    assert main(["--output", str(output)]) == 0

    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/health", "/events", "/events/{eventId}"}
    assert set(document["paths"]["/events/{eventId}"]) == {"get", "put", "patch", "delete"}
    assert "Event" in document["components"]["schemas"]
