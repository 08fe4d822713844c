"""The image tag changes exactly when the build can: context files, modes, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.build_context import context_files, image_tag, is_ignored, read_dockerignore

SETTINGS = {"context": ".", "dockerfile": "Dockerfile", "platform": "linux/arm64"}


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY service /service\n")
    (tmp_path / ".dockerignore").write_text(
        "# caches\n.venv\n**/__pycache__\ntests/\n*.md\n!KEEP.md\n"
    )
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "app.py").write_text("print('v1')\n")
    (tmp_path / "service" / "__pycache__").mkdir()
    (tmp_path / "service" / "__pycache__" / "app.pyc").write_bytes(b"\x00")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "big.py").write_text("x = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text("")
    (tmp_path / "README.md").write_text("readme\n")
    (tmp_path / "KEEP.md").write_text("kept\n")
    return tmp_path


def tag(root: Path, **settings: str) -> str:
    return image_tag(root, root / "Dockerfile", {**SETTINGS, **settings})


def test_the_context_is_what_docker_sends(context: Path) -> None:
    files = {path.relative_to(context).as_posix() for path in context_files(context)}

    assert files == {".dockerignore", "Dockerfile", "KEEP.md", "service/app.py"}


def test_an_unchanged_context_keeps_its_tag(context: Path) -> None:
    assert tag(context) == tag(context)


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "service" / "app.py").write_text("print('v2')\n"),
        lambda root: (root / "service" / "new.py").write_text(""),
        lambda root: (root / "service" / "app.py").rename(root / "service" / "main.py"),
        lambda root: (root / "service" / "app.py").chmod(0o755),
        lambda root: (root / "Dockerfile").write_text("FROM scratch\n"),
        lambda root: (root / ".dockerignore").write_text(".venv\n"),
        lambda root: (root / "KEEP.md").write_text("changed\n"),
    ],
    ids=["content", "new file", "rename", "mode", "dockerfile", "dockerignore", "re-included"],
)
def test_any_change_docker_would_see_changes_the_tag(context: Path, change: object) -> None:
    before = tag(context)
    change(context)  # type: ignore[operator]

    assert tag(context) != before


@pytest.mark.parametrize(
    "ignored",
    [".venv/lib/big.py", "service/__pycache__/app.pyc", "tests/test_app.py", "README.md"],
)
def test_ignored_files_do_not_change_the_tag(context: Path, ignored: str) -> None:
    before = tag(context)
    (context / ignored).write_text("changed\n")

    assert tag(context) == before


def test_build_settings_are_part_of_the_tag(context: Path) -> None:
    assert tag(context, platform="linux/amd64") != tag(context)
    assert tag(context, context="..") != tag(context)


def test_dockerignore_follows_dockers_rules(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text(
        "/build\ndocs/*.txt\n**/*.log\ndata\n!data/keep\n[ab].py\n"
    )
    patterns = read_dockerignore(tmp_path)

    assert is_ignored(patterns, "build/out.bin")  # leading slash is the context root
    assert is_ignored(patterns, "docs/a.txt")
    assert not is_ignored(patterns, "docs/sub/a.txt")  # "*" stops at "/"
    assert is_ignored(patterns, "x/y/z.log")
    assert is_ignored(patterns, "top.log")
    assert is_ignored(patterns, "data/other")  # a matching parent directory counts
    assert not is_ignored(patterns, "data/keep")  # the last matching line wins
    # A character class is not interpreted: such an exclusion excludes nothing, so the
    # digest covers more files than Docker sends, never fewer.
    assert not is_ignored(patterns, "a.py")


def test_an_uninterpreted_reinclusion_keeps_every_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.log\n!debug[0-9].log\n")
    patterns = read_dockerignore(tmp_path)

    assert not is_ignored(patterns, "app.log")
    assert not is_ignored(patterns, "debug1.log")


def test_a_context_without_dockerignore_sends_everything(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x").write_text("")

    files = {path.relative_to(tmp_path).as_posix() for path in context_files(tmp_path)}

    assert files == {".venv/x", "Dockerfile"}


@pytest.mark.parametrize(
    "dockerignore",
    [
        "*\n!keep.txt\n!src/\n!deep/a/b/c.txt\n",
        "*\n!*/inner.txt\n",
        "data\n!data/keep\n**/*.log\n",
        "*.log\n!debug[0-9].log\n",
    ],
    ids=["allowlist", "wildcard-reinclusion", "deep-reinclusion", "uninterpreted"],
)
def test_skipping_ignored_directories_loses_no_file(tmp_path: Path, dockerignore: str) -> None:
    # The walk skips an ignored directory when no "!" line can reach inside it; the result
    # must equal asking is_ignored about every file.
    (tmp_path / ".dockerignore").write_text(dockerignore)
    for name in (
        "keep.txt",
        "other.txt",
        "src/m.py",
        "deep/a/b/c.txt",
        "deep/a/b/d.txt",
        "x/inner.txt",
        "x/y/inner.txt",
        "data/keep",
        "data/drop",
        "logs/debug1.log",
        ".venv/lib/site.py",
    ):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    patterns = read_dockerignore(tmp_path)
    every_file = {
        path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()
    }

    walked = {path.relative_to(tmp_path).as_posix() for path in context_files(tmp_path)}

    assert walked == {name for name in every_file if not is_ignored(patterns, name)}
