"""The Lambda image's Dockerfile, .dockerignore and compose.yaml, checked by reading them.

No Docker engine runs here, so these tests read the files and run what can run without
one: the Dockerfile's own dependency export (and, in the slow suite, its install step),
the commands compose.yaml starts, and the handler its CMD names.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from infra.build_context import is_ignored, read_dockerignore
from local.dynamodb_local import DOCKER_IMAGE, DynamoDBLocal
from local.gateway import RIE_INVOCATIONS_PATH, parse_arguments
from local.paths import REPO_ROOT
from service.settings import Settings, variable_names
from service.table import create_table_request
from tests.dockerfile import Dockerfile, parse_dockerfile

UV = REPO_ROOT / ".tools" / "bin" / "uv"
LAMBDA_BASE_IMAGE = "public.ecr.aws/lambda/python:3.13"
# The environment of the function: markers in the lock and the export are read against it.
LAMBDA_ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}


def lambda_environment(machine: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": "3.13.0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "python_full_version": "3.13.0",
        "python_version": "3.13",
        "sys_platform": "linux",
        "extra": "",
    }


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile((REPO_ROOT / "Dockerfile").read_text())


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a RUN line joined with &&, as argument lists."""
    return [shlex.split(part) for part in script.split("&&")]


def run_script(dockerfile: Dockerfile, stage: str, marker: str) -> str:
    (run,) = [item for item in dockerfile.stage(stage).all("RUN") if marker in item.arguments]
    return re.sub(r"^(--mount=\S+\s+)+", "", run.arguments)


def test_the_function_is_the_lambda_python_base_image_for_the_chosen_architecture(
    dockerfile: Dockerfile,
) -> None:
    final = dockerfile.stages[-1]
    assert final.base == LAMBDA_BASE_IMAGE
    assert final.platform == "linux/${LAMBDA_ARCH}"
    assert dockerfile.global_arguments["LAMBDA_ARCH"] == "arm64"
    assert [item.arguments for item in final.all("COPY")] == [
        "--from=build /build/task ${LAMBDA_TASK_ROOT}"
    ]
    assert [item.keyword for item in final.instructions] == ["COPY", "CMD"]
    build = dockerfile.stage("build")
    assert (build.base, build.platform) == (LAMBDA_BASE_IMAGE, "$BUILDPLATFORM")
    assert build.all("ARG")[0].arguments == "LAMBDA_ARCH"


def test_the_architecture_argument_selects_the_wheels_platform(dockerfile: Dockerfile) -> None:
    script = run_script(dockerfile, "build", "uv export")
    mapping = script.split("&&")[0]
    for architecture, machine in LAMBDA_ARCHITECTURES.items():
        chosen = subprocess.run(
            ["bash", "-c", f'{mapping}; echo "$platform"'],
            env={"LAMBDA_ARCH": architecture, "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            check=True,
        )
        assert chosen.stdout.strip() == f"{machine}-manylinux2014"
    wrong = subprocess.run(
        ["bash", "-c", mapping], env={"LAMBDA_ARCH": "amd64"}, capture_output=True, text=True
    )
    assert wrong.returncode != 0
    assert "arm64 or x86_64" in wrong.stderr


def test_cmd_names_an_importable_handler(dockerfile: Dockerfile) -> None:
    (cmd,) = dockerfile.stages[-1].all("CMD")
    (target,) = json.loads(cmd.arguments)
    module_name, _, attribute = target.rpartition(".")
    module = importlib.import_module(module_name)
    handler = getattr(module, attribute)
    assert type(handler).__name__ == "Mangum"
    assert callable(handler)
    tools_cmd = json.loads(dockerfile.stage("local-tools").all("CMD")[0].arguments)
    assert tools_cmd[:3] == ["python", "-m", "local.gateway"]
    parse_arguments(tools_cmd[3:])


def test_every_copy_source_exists_in_the_build_context(dockerfile: Dockerfile) -> None:
    patterns = read_dockerignore(REPO_ROOT)
    names = [stage.name for stage in dockerfile.stages]
    copied = 0
    for number, stage in enumerate(dockerfile.stages):
        for copy in stage.all("COPY"):
            words = copy.arguments.split()
            options = [word for word in words if word.startswith("--")]
            sources = [word for word in words if not word.startswith("--")][:-1]
            source_stage = next(
                (word.removeprefix("--from=") for word in options if word.startswith("--from=")),
                None,
            )
            if source_stage is not None:
                assert source_stage in names[:number], f"{copy.arguments}: no earlier stage"
                continue
            for source in sources:
                copied += 1
                path = REPO_ROOT / source
                assert path.exists(), f"COPY {source}: not in the repository"
                assert not is_ignored(patterns, source.rstrip("/")), (
                    f"COPY {source}: .dockerignored"
                )
    assert copied >= 4


def copied_into_the_task_root(dockerfile: Dockerfile) -> list[Path]:
    """The repository folders the build stage copies into the function's task root."""
    copies = [item.arguments.split() for item in dockerfile.stage("build").all("COPY")]
    return [
        REPO_ROOT / words[0]
        for words in copies
        if not words[0].startswith("--") and words[-1].startswith("task/")
    ]


def deployed_sources() -> list[Path]:
    """Every Python file the function's image holds of this repository."""
    dockerfile = parse_dockerfile((REPO_ROOT / "Dockerfile").read_text())
    return sorted(
        path for folder in copied_into_the_task_root(dockerfile) for path in folder.rglob("*.py")
    )


def test_the_task_root_holds_the_service_package_whole(dockerfile: Dockerfile) -> None:
    # service/ is exactly what runs in Lambda: copied whole, nothing deleted afterwards,
    # and the local and operator tooling lives beside it, never imported by it.
    assert copied_into_the_task_root(dockerfile) == [REPO_ROOT / "service"]
    for run in dockerfile.stage("build").all("RUN"):
        for command in shell_commands(re.sub(r"^(--mount=\S+\s+)+", "", run.arguments)):
            assert command[0] not in {"rm", "find", "mv"}, f"edits the task root: {command}"
    for path in (REPO_ROOT / "service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in {"local", "tools", "tests", "bench"}, (
                    f"{path}: imports {node.module}"
                )
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in {"local", "tools", "tests", "bench"}


def test_uv_is_the_release_the_makefile_pins(dockerfile: Dockerfile) -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    pinned = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert pinned is not None
    assert dockerfile.stage("uv").base == f"ghcr.io/astral-sh/uv:{pinned.group(1)}"


# .dockerignore: read as infra/build_context.py reads it for the image tag, so the tag's
# digest and these checks cannot disagree on what the build context holds.


@pytest.mark.parametrize(
    "path",
    [
        "tests/conftest.py",
        "tests/service/test_handler.py",
        "infra/__main__.py",
        ".venv/bin/python",
        ".tools/bin/uv",
        ".cache/dynamodb-local/DynamoDBLocal.jar",
        ".data/dynamodb/shared-local-instance.db",
        ".git/HEAD",
        ".env",
        ".pytest_cache/v/cache/nodeids",
        ".mypy_cache/3.11/service/app.data.json",
        "service/__pycache__/app.cpython-313.pyc",
        "service/api/__pycache__/events.cpython-311.pyc",
        "README.md",
        "Dockerfile",
    ],
)
def test_dockerignore_keeps_out_tests_infra_caches_and_environments(path: str) -> None:
    assert is_ignored(read_dockerignore(REPO_ROOT), path)


def test_dockerignore_lets_in_the_service_and_the_lock() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "service", "pyproject.toml", "uv.lock"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "service/handler.py" in tracked
    patterns = read_dockerignore(REPO_ROOT)
    assert [path for path in tracked if is_ignored(patterns, path)] == []


# The dependency set


def lock_runtime_closure(lock: dict[str, Any], machine: str) -> dict[str, str]:
    """Walk uv.lock from the project's runtime dependencies: {name: version} for the function."""
    environment = lambda_environment(machine)
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)

    def applies(marker: str | None) -> bool:
        return marker is None or Marker(marker).evaluate(environment)

    def resolve(dependency: dict[str, Any]) -> dict[str, Any]:
        candidates = [
            package
            for package in packages[dependency["name"]]
            if dependency.get("version") in (None, package["version"])
            and any(map(applies, package.get("resolution-markers") or [None]))
        ]
        (package,) = candidates
        return package

    (project,) = packages["events-api"]
    closure: dict[str, str] = {}
    pending = [item for item in project["dependencies"] if applies(item.get("marker"))]
    while pending:
        dependency = pending.pop()
        package = resolve(dependency)
        wanted = list(package.get("dependencies", []))
        for extra in dependency.get("extra", []):
            wanted += package.get("optional-dependencies", {}).get(extra, [])
        if package["name"] in closure and not dependency.get("extra"):
            continue
        closure[package["name"]] = package["version"]
        pending += [item for item in wanted if applies(item.get("marker"))]
    return closure


def exported_requirements(requirements: str, machine: str) -> dict[str, str]:
    """The pins of a `uv export` requirements file that apply on the function's platform."""
    pins: dict[str, str] = {}
    for line in requirements.splitlines():
        match = re.match(
            r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line
        )
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate(lambda_environment(machine)):
            pins[canonicalize_name(name)] = version
    return pins


def run_dockerfile_export(dockerfile: Dockerfile, workdir: Path) -> str:
    """Run the build stage's `uv export` command as written, on copies of what it COPYs."""
    script = run_script(dockerfile, "build", "uv export")
    (export,) = [command for command in shell_commands(script) if command[:2] == ["uv", "export"]]
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(REPO_ROOT / name, workdir / name)
    subprocess.run(
        [str(UV), *export[1:]],
        cwd=workdir,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        check=True,
    )
    output = export[export.index("--output-file") + 1]
    return (workdir / output).read_text()


def test_the_image_installs_exactly_the_runtime_dependencies_of_the_lock(
    dockerfile: Dockerfile, tmp_path: Path
) -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    requirements = run_dockerfile_export(dockerfile, tmp_path)
    for machine in LAMBDA_ARCHITECTURES.values():
        closure = lock_runtime_closure(lock, machine)
        assert exported_requirements(requirements, machine) == closure
    runtime = set(closure)
    assert {"fastapi", "pydantic", "botocore", "mangum"} <= runtime
    # The service calls botocore alone: boto3 and s3transfer would be dead weight. The
    # runtime ships snapshot-restore-py (SnapStart's hooks): a copy could shadow its own.
    assert runtime.isdisjoint(
        {"pytest", "mypy", "ruff", "uvicorn", "httpx", "pulumi", "boto3", "s3transfer"}
        | {"snapshot-restore-py"}
    )

    # The install step takes that file whole, and hash-checking refuses anything else.
    script = run_script(dockerfile, "build", "uv export")
    (install,) = [
        command for command in shell_commands(script) if command[:3] == ["uv", "pip", "install"]
    ]
    assert install[install.index("--requirement") + 1] == "requirements.txt"
    assert {"--require-hashes", "--only-binary", "--target"} <= set(install)
    assert install[install.index("--python-version") + 1] == "3.13"


@pytest.mark.slow
@pytest.mark.parametrize("architecture", sorted(LAMBDA_ARCHITECTURES))
def test_the_install_step_builds_the_task_root(
    dockerfile: Dockerfile, tmp_path: Path, architecture: str
) -> None:
    """The build stage's RUN, as written, for each architecture (wheels come from PyPI)."""
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "uv").symlink_to(UV)
    subprocess.run(
        ["bash", "-euc", run_script(dockerfile, "build", "uv export")],
        cwd=tmp_path,
        env={
            **os.environ,
            "LAMBDA_ARCH": architecture,
            "PATH": f"{tools}:{os.environ['PATH']}",
            "UV_PYTHON_DOWNLOADS": "never",
        },
        capture_output=True,
        check=True,
        timeout=600,
    )
    installed = {}
    for info in (tmp_path / "task").glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[canonicalize_name(name)] = version
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    assert installed == lock_runtime_closure(lock, LAMBDA_ARCHITECTURES[architecture])
    (core,) = (tmp_path / "task" / "pydantic_core").glob("*.so")
    assert core.name.endswith(f"cpython-313-{LAMBDA_ARCHITECTURES[architecture]}-linux-gnu.so")


# compose.yaml


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    return document


def test_compose_runs_dynamodb_local_the_function_and_the_gateway(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    services = compose["services"]
    assert set(services) == {"dynamodb", "create-table", "function", "gateway"}
    dynamodb = services["dynamodb"]
    assert dynamodb["image"] == DOCKER_IMAGE
    assert dynamodb["command"][dynamodb["command"].index("-port") + 1] == "8000"

    function = services["function"]
    assert "target" not in function["build"], "the function is the Dockerfile's last stage"
    assert function["build"]["args"]["LAMBDA_ARCH"] == "${LAMBDA_ARCH:-arm64}"
    # The base image's entrypoint runs the Runtime Interface Emulator on port 8080.
    assert function["ports"] == ["9000:8080"]
    assert function["depends_on"]["create-table"]["condition"] == "service_completed_successfully"

    stage_names = {stage.name for stage in dockerfile.stages}
    for name in ("create-table", "gateway"):
        assert services[name]["build"]["target"] in stage_names

    gateway = services["gateway"]
    assert gateway["ports"] == ["3000:3000"]
    command = gateway["command"]
    assert command[:3] == ["python", "-m", "local.gateway"]
    arguments = parse_arguments(command[3:])
    assert (arguments.host, arguments.port) == ("0.0.0.0", 3000)
    assert arguments.function_url == f"http://function:8080{RIE_INVOCATIONS_PATH}"


def test_compose_environment_names_settings_the_service_reads(compose: dict[str, Any]) -> None:
    known = variable_names() | {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    lambda_variables = {"AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}
    for name in ("create-table", "function"):
        environment = compose["services"][name]["environment"]
        assert set(environment) - known - lambda_variables == set(), name
        assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == "http://dynamodb:8000"
        Settings(**environment)  # every value is valid


def test_compose_table_creation_runs_and_is_repeatable(
    compose: dict[str, Any], dynamodb_local: DynamoDBLocal, dynamodb: Any
) -> None:
    service = compose["services"]["create-table"]
    command = service["command"]
    assert command[:2] == ["python", "-m"]
    table = "compose-table-test"
    environment = {
        **os.environ,
        **service["environment"],
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "EVENTS_TABLE_NAME": table,
    }
    outputs = [
        subprocess.run(
            [sys.executable, *command[1:]],
            env=environment,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.strip()
        for _ in range(2)
    ]
    try:
        assert outputs == [f"Table {table!r} created.", f"Table {table!r} already exists."]
        described = dynamodb.describe_table(TableName=table)["Table"]
        expected = create_table_request(table)
        assert described["KeySchema"] == expected["KeySchema"]
        assert [index["IndexName"] for index in described["GlobalSecondaryIndexes"]] == [
            index["IndexName"] for index in expected["GlobalSecondaryIndexes"]
        ]
    finally:
        dynamodb.delete_table(TableName=table)


def test_table_creation_gives_up_when_nothing_answers() -> None:
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
        "EVENTS_DYNAMODB_CONNECT_TIMEOUT": "0.2",
        "EVENTS_DYNAMODB_MAX_ATTEMPTS": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "local.dynamodb_local", "create-table", "--wait", "0"],
        env=environment,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert "http://127.0.0.1:9" in completed.stderr
