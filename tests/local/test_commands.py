"""Every command meets a mistake with one line each, exit status 2, no traceback, no secret.

Each command runs for real, in a subprocess, as a user runs it. Settings are checked
before anything starts, so each of these runs ends within about a second; they run side
by side.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from local.dynamodb_local import free_port
from local.paths import REPO_ROOT
from tests.conftest import outside_make

# Valid, and recognisable: it must never show, whatever else is wrong.
CANARY_SECRET = "CANARY-cursor-secret-0123456789-abcdef"
SHORT_CANARY = "CANARY-short"
BAD_SETTINGS = {
    "EVENTS_STATUS_SHARDS": "abc",
    "EVENTS_DYNAMODB_READ_TIMEOUT": "-1",
    "LOG_LEVEL": "LOUD",
    "EVENTS_CORS_ORIGINS": "http://a.example/",
    "EVENTS_TABLE_NAME": "",
    "EVENTS_CURSOR_SECRET": SHORT_CANARY,
}
# A rule across two variables: the old message dumped every value, the secret's tail too.
CROSS_CHECK = {
    "EVENTS_STATUS_SHARDS": "16",
    "EVENTS_STATUS_SHARDS_READ": "4",
    "EVENTS_CURSOR_SECRET": CANARY_SECRET,
}
COMMANDS = {
    "serve": ["-m", "local.serve", "--port", "{port}"],
    "gateway": ["-m", "local.gateway", "--port", "{port}", "--dynamodb-local"],
    "http-server": ["-m", "local.http_server", "--port", "{port}"],
    "seed": ["-m", "tools.seed", "--count", "1"],
    "migrate-shards": ["-m", "tools.migrate_shards", "--shards", "4"],
    "openapi": ["-m", "tools.openapi", "--output", "{tmp}/openapi.json"],
    "create-table": ["-m", "local.dynamodb_local", "create-table", "--wait", "0"],
}


@dataclass(frozen=True)
class Run:
    status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if not line.startswith("make: ***")]


def _environment(tmp: Path, variables: Mapping[str, str]) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EVENTS_", "AWS_", "LOG_LEVEL"))
    }
    # Never near a real account or a developer's `make run`.
    environment.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "none"),
        EVENTS_LOCAL_DATA_DIR=str(tmp / "data"),
    )
    return outside_make({**environment, **variables})


def run(arguments: list[str], variables: Mapping[str, str], tmp: Path) -> Run:
    completed = subprocess.run(
        arguments,
        cwd=REPO_ROOT,
        env=_environment(tmp, variables),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def python(name: str, tmp: Path) -> list[str]:
    words = [word.format(port=free_port(), tmp=tmp) for word in COMMANDS[name]]
    return [sys.executable, *words]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("commands")


@pytest.fixture(scope="module")
def settings_runs(tmp: Path) -> dict[tuple[str, str], Run]:
    """Every command with every bad configuration, run side by side."""
    cases = [(command, "bad", BAD_SETTINGS) for command in COMMANDS]
    # One command for the rule across variables: every command reads settings the same way.
    cases.append(("serve", "cross", CROSS_CHECK))
    with ThreadPoolExecutor(4) as pool:
        runs = pool.map(lambda c: run(python(c[0], tmp), c[2], tmp), cases)
        return {
            (command, case): result for (command, case, _), result in zip(cases, runs, strict=True)
        }


def assert_clean(result: Run, *secrets: str) -> None:
    assert "Traceback" not in result.output
    for secret in (CANARY_SECRET, SHORT_CANARY, *secrets):
        assert secret not in result.output
        assert secret[-10:] not in result.output


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_bad_variable_gets_one_line_and_nothing_starts(
    settings_runs: dict[tuple[str, str], Run], command: str
) -> None:
    result = settings_runs[command, "bad"]

    assert result.status == 2
    assert result.stdout == ""
    assert len(result.error_lines) == len(BAD_SETTINGS)
    named = sorted(
        line.removeprefix("error: ").split("=")[0].split(" ")[0] for line in result.error_lines
    )
    assert named == sorted(BAD_SETTINGS)
    assert all("; allowed: " in line for line in result.error_lines)
    assert_clean(result)


def test_a_rule_across_variables_gets_one_line_without_the_secret(
    settings_runs: dict[tuple[str, str], Run],
) -> None:
    result = settings_runs["serve", "cross"]

    assert result.status == 2
    assert result.error_lines == [
        "error: EVENTS_STATUS_SHARDS_READ=4 is below EVENTS_STATUS_SHARDS=16; allowed: at least "
        "EVENTS_STATUS_SHARDS, since a listing that skips shards being written would miss events."
    ]
    assert_clean(result)


LAMBDA_INIT = (
    "import traceback\n"
    "try:\n"
    "    import service.handler\n"
    "except Exception as error:\n"
    "    print(f'{type(error).__name__}: {error}')\n"
    "    print(traceback.format_exc())\n"
    "    raise SystemExit(1)\n"
)


@pytest.mark.parametrize(
    "secret",
    [None, "CANARY-under-32-characters"],
    ids=["unset", "short"],
)
def test_the_lambda_init_refuses_a_local_or_weak_secret_in_one_line(
    tmp: Path, secret: str | None
) -> None:
    variables = {"AWS_LAMBDA_FUNCTION_NAME": "events-api-dev", "AWS_REGION": "us-east-1"}
    if secret is not None:
        variables["EVENTS_CURSOR_SECRET"] = secret

    result = run([sys.executable, "-c", LAMBDA_INIT], variables, tmp)

    assert result.status == 1
    message = result.stdout.splitlines()[0]  # what Lambda reports as errorType: errorMessage
    assert message.startswith("SettingsError: EVENTS_CURSOR_SECRET ")
    assert "on Lambda a random secret of 32 characters or more" in message
    if secret is not None:
        assert secret not in result.output


def test_make_run_says_so_in_one_line_before_starting_anything(tmp: Path) -> None:
    result = run(["make", "--no-print-directory", "run"], {"LOG_LEVEL": "LOUD"}, tmp)

    assert result.status == 2
    assert result.error_lines == [
        "error: LOG_LEVEL='LOUD' is not a log level; allowed: one of DEBUG, INFO, WARNING, "
        "ERROR, CRITICAL."
    ]
    assert result.stdout == ""


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_port_in_use_is_one_line_naming_it_and_another(tmp: Path, taken_port: int) -> None:
    result = run(["make", "--no-print-directory", "run", f"PORT={taken_port}"], {}, tmp)

    assert result.status == 2
    assert result.error_lines == [
        f"error: port {taken_port} on 127.0.0.1 is already in use (another `make run`?); "
        f"choose another: make run PORT={taken_port + 1}"
    ]
    assert result.stdout == ""


def test_the_gateway_names_a_port_in_use_too(tmp: Path, taken_port: int) -> None:
    result = run([sys.executable, "-m", "local.gateway", "--port", str(taken_port)], {}, tmp)

    assert result.status == 2
    assert result.error_lines == [
        f"error: port {taken_port} on 127.0.0.1 is already in use; choose another with --port"
    ]


def test_an_unknown_engine_is_one_line(tmp: Path) -> None:
    result = run(
        [sys.executable, "-m", "local.serve", "--port", str(free_port())],
        {"EVENTS_DYNAMODB_LOCAL_ENGINE": "podman"},
        tmp,
    )
    assert result.status == 2
    assert result.error_lines == [
        "error: EVENTS_DYNAMODB_LOCAL_ENGINE='podman' is not an engine; allowed: auto, docker "
        "or java."
    ]


def test_docker_asked_for_without_docker_is_one_line(tmp: Path) -> None:
    # A Docker client aimed at a socket nothing listens on: the machine without an engine,
    # even where one runs (CI).
    result = run(
        [sys.executable, "-m", "local.serve", "--port", str(free_port())],
        {"EVENTS_DYNAMODB_LOCAL_ENGINE": "docker", "DOCKER_HOST": f"unix://{tmp}/no-docker.sock"},
        tmp,
    )
    assert result.status == 1
    assert result.error_lines == [
        "error: EVENTS_DYNAMODB_LOCAL_ENGINE=docker, but no Docker engine answered: start one, "
        "or set EVENTS_DYNAMODB_LOCAL_ENGINE=java (or auto) to run DynamoDB Local with Java."
    ]
    assert_clean(result)


@pytest.mark.parametrize(
    "command",
    [
        ["make", "--no-print-directory", "seed", "COUNT=1"],
        [sys.executable, "-m", "tools.migrate_shards", "--shards", "4", "--check"],
    ],
    ids=["make-seed", "migrate-shards"],
)
def test_without_a_target_the_tools_stop_instead_of_writing_to_aws(
    tmp: Path, command: list[str]
) -> None:
    result = run(command, {}, tmp)

    assert result.status == 2
    assert result.error_lines == [
        "error: no DynamoDB to write to: start `make run` (its DynamoDB Local is found by "
        "itself), or give --endpoint URL (or set AWS_ENDPOINT_URL_DYNAMODB), or --aws for the "
        "table EVENTS_TABLE_NAME names in AWS_REGION."
    ]


def test_aimed_at_aws_without_credentials_seed_says_so_in_one_line(tmp: Path) -> None:
    result = run([sys.executable, "-m", "tools.seed", "--aws"], {"AWS_REGION": "eu-west-1"}, tmp)

    assert result.status == 2
    (line,) = result.error_lines
    assert line.startswith("error: --aws: cannot tell which AWS account to write to (")
    assert result.stdout == ""


def test_the_smoke_command_without_a_target_says_how_to_aim_it(tmp: Path) -> None:
    result = run([sys.executable, "-m", "tools.smoke"], {}, tmp)

    assert result.status == 2
    assert result.error_lines == [
        "error: no API to test: give --url URL, or --stack NAME for a stack's apiUrl output, "
        "or start `make run` (its API is found by itself)."
    ]


class _Sts(BaseHTTPRequestHandler):
    """STS's GetCallerIdentity, as AWS answers it (Query protocol), for one account."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = (
            b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            b"<GetCallerIdentityResult><Arn>arn:aws:iam::210987654321:user/ops</Arn>"
            b"<UserId>AIDAEXAMPLE</UserId><Account>210987654321</Account>"
            b"</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId>"
            b"</ResponseMetadata></GetCallerIdentityResponse>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def sts_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_aimed_at_aws_seed_names_account_region_and_table_first(
    tmp: Path, sts_endpoint: str
) -> None:
    variables = {
        "AWS_ENDPOINT_URL_STS": sts_endpoint,  # the account lookup only; nothing is written
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "not-a-real-key",
        "AWS_REGION": "eu-west-1",
        "EVENTS_TABLE_NAME": "events-prod",
    }
    result = run(
        [sys.executable, "-m", "tools.seed", "--aws", "--count", "0", "--no-progress"],
        variables,
        tmp,
    )

    assert result.status == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "Seeding 0 sample events (seed 2026) into table 'events-prod' in AWS account "
        "210987654321, region eu-west-1."
    )


def test_create_table_without_an_endpoint_never_reaches_for_aws(tmp: Path) -> None:
    result = run([sys.executable, "-m", "local.dynamodb_local", "create-table"], {}, tmp)

    assert result.status == 2
    assert result.error_lines == [
        "error: create-table needs AWS_ENDPOINT_URL_DYNAMODB (such as http://localhost:8000): "
        "in AWS the stack's Pulumi program owns the table."
    ]
