"""The Markdown documents: every relative link leads to a file, every #anchor to a heading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local.paths import REPO_ROOT

DOCUMENTS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")])
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to '-'."""
    headings = _HEADING.findall(_FENCE.sub("", markdown))
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_links_resolve(document: Path) -> None:
    text = document.read_text()
    broken = []
    for target in _LINK.findall(_FENCE.sub("", text)):
        if re.match(r"^[a-z]+:", target):
            continue  # an absolute URL: not checked offline
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text())
        ):
            broken.append(target)
    assert broken == []


def test_the_readme_links_the_runbook() -> None:
    assert "(docs/operations.md)" in (REPO_ROOT / "README.md").read_text()


_COMMAND_OF_THIS_REPOSITORY = re.compile(r"(?<![\w/.-])python3? -m (?:local|tools|bench)\b")
# Inside the images, `python` is the image's environment: those run as written.
_IN_AN_IMAGE = ("image", "compose", "docker")


@pytest.mark.parametrize(
    "document", [*DOCUMENTS, REPO_ROOT / "bench" / "README.md"], ids=lambda path: path.name
)
def test_commands_are_given_in_a_form_that_works_on_a_fresh_clone(document: Path) -> None:
    """`python -m tools...` fails without the virtual environment on PATH: documents say
    `.venv/bin/python -m ...` or a make target."""
    bare = [
        line.strip()
        for line in document.read_text().splitlines()
        if _COMMAND_OF_THIS_REPOSITORY.search(line)
        and not any(marker in line for marker in _IN_AN_IMAGE)
    ]
    assert bare == []
