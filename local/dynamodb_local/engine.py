"""DynamoDB Local, AWS's own engine, running: in a container or as a Java process.

It runs in a container through testcontainers when a Docker engine answers, and
otherwise as a local Java process (JRE 17+) of the jar `local.dynamodb_local.jar` fetches.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from local.dynamodb_local.errors import DynamoDBLocalError
from local.dynamodb_local.jar import fetch_jar

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DOCKER_IMAGE = "amazon/dynamodb-local:3.3.0"
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
ENGINE_VARIABLE = "EVENTS_DYNAMODB_LOCAL_ENGINE"  # auto (default), docker or java
ENGINES = ("auto", "docker", "java")
STARTUP_TIMEOUT_SECONDS = 60.0


def use_local_credentials() -> None:
    """DynamoDB Local accepts any credentials, but botocore insists on having some."""
    for name, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(name, value)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def checked_engine(engine: str) -> str:
    """`engine` if it is one of ENGINES; else the one line `make run` and the tests print."""
    if engine not in ENGINES:
        raise DynamoDBLocalError(
            f"{ENGINE_VARIABLE}={engine[:40]!r} is not an engine; allowed: auto, docker or java."
        )
    return engine


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
        engine = checked_engine(self.engine)
        if engine == "auto":
            engine = "docker" if docker_available() else "java"
        elif engine == "docker" and not docker_available():
            raise DynamoDBLocalError(
                f"{ENGINE_VARIABLE}=docker, but no Docker engine answered: start one, or set "
                f"{ENGINE_VARIABLE}=java (or auto) to run DynamoDB Local with Java."
            )
        if engine == "docker":
            self._start_container()
        else:
            self._start_java()
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
        import botocore.session
        from botocore.config import Config

        use_local_credentials()
        client = botocore.session.get_session().create_client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            config=Config(connect_timeout=1, read_timeout=10, retries={"max_attempts": 1}),
        )
        return cast("DynamoDBClient", client)

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
