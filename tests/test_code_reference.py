"""`make docs`: the pdoc code reference builds, and fails on a module that does not import."""

from __future__ import annotations

import subprocess
from pathlib import Path

from local.paths import REPO_ROOT


def make_docs(output: Path, modules: str | None = None) -> subprocess.CompletedProcess[str]:
    command = ["make", "--no-print-directory", "docs", f"DOCS_DIR={output}"]
    if modules is not None:
        command.append(f"DOCS_MODULES={modules}")
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_make_docs_builds_the_reference_of_every_package(tmp_path: Path) -> None:
    output = tmp_path / "reference"

    result = make_docs(output)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""  # quiet: no warning per unresolvable annotation
    assert result.stdout.splitlines() == [
        f"Code reference: {output}/index.html (annotations pdoc cannot evaluate, such as "
        "pulumi.Input[str], appear as written)"
    ]
    assert (output / "index.html").is_file()
    store_page = (output / "service" / "store.html").read_text()
    assert "EventStore" in store_page
    assert "the only code that knows DynamoDB" in store_page
    for module in ("app", "docs", "models", "settings", "table", "api/events"):
        assert (output / "service" / f"{module}.html").is_file(), module
    assert (output / "infra.html").is_file()


def test_make_docs_fails_on_a_module_that_does_not_import(tmp_path: Path) -> None:
    package = tmp_path / "brokenpkg"
    package.mkdir()
    (package / "__init__.py").write_text('"""A package with one broken module."""\n')
    (package / "broken.py").write_text("import a_module_that_does_not_exist\n")

    result = make_docs(tmp_path / "reference", modules=str(package))

    assert result.returncode != 0
    assert "brokenpkg.broken" in result.stdout + result.stderr


def test_make_docs_never_runs_a_package_main(tmp_path: Path) -> None:
    # What documenting infra/ relies on: its __main__.py creates cloud resources when run.
    package = tmp_path / "programpkg"
    package.mkdir()
    marker = tmp_path / "main-ran"
    (package / "__init__.py").write_text('"""A Pulumi-like program."""\n')
    (package / "component.py").write_text('"""A component."""\n\nVALUE = 1\n')
    (package / "__main__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")

    result = make_docs(tmp_path / "reference", modules=str(package))

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "reference" / "programpkg" / "component.html").is_file()
    assert not marker.exists()
