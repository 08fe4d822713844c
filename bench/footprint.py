"""Image footprint: the bytes of the runtime dependency set the Lambda image installs.

The same two commands as the Dockerfile's build stage: `uv export` of the lock file's
runtime dependencies (no dev, gateway or infra group), then `uv pip install --target`
of wheels for the function's platform (Lambda arm64, Python 3.13), into a temporary
folder. Files are attributed to packages through each wheel's RECORD.
"""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.child import BenchError
from local.paths import REPO_ROOT

UV = REPO_ROOT / ".tools" / "bin" / "uv"
PLATFORM = "aarch64-manylinux2014"
PYTHON_VERSION = "3.13"


def _uv(*arguments: str) -> None:
    completed = subprocess.run(  # noqa: S603 - the Makefile's own uv, fixed arguments
        [str(UV), *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        timeout=600,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"uv {arguments[0]} failed:\n{completed.stderr.decode()[-2000:]}")


def _package_bytes(target: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for record in target.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0].replace("_", "-").lower()
        with record.open(newline="") as rows:
            paths = [target / row[0] for row in csv.reader(rows) if row]
        sizes[name] = sum(path.stat().st_size for path in paths if path.is_file())
    return sizes


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as folder:
        requirements, target = Path(folder, "requirements.txt"), Path(folder, "task")
        _uv(
            "export",
            "--frozen",
            "--no-default-groups",
            "--no-emit-project",
            "--output-file",
            str(requirements),
        )
        _uv(
            "pip",
            "install",
            "--require-hashes",
            "--requirement",
            str(requirements),
            "--target",
            str(target),
            "--python-platform",
            PLATFORM,
            "--python-version",
            PYTHON_VERSION,
            "--only-binary",
            ":all:",
        )
        files = [path for path in target.rglob("*") if path.is_file()]
        total = sum(path.stat().st_size for path in files)
        packages = _package_bytes(target)
    largest = sorted(packages.items(), key=lambda item: item[1], reverse=True)
    return {
        "platform": PLATFORM,
        "python": PYTHON_VERSION,
        "bytes": total,
        "files": len(files),
        "packages": dict(largest),
        "largest": [{"package": name, "bytes": size} for name, size in largest[:3]],
    }
