"""The Dockerfile's platforms and the local-tools stage's contents, reasoned from the file.

No Docker engine runs here, so the build is resolved as BuildKit resolves it: a stage
without `--platform` runs on the target platform (`docker build --platform`), and a
`--platform` value is expanded with BUILDPLATFORM, TARGETPLATFORM and the global ARGs.
A stage that runs commands on another platform than the build machine's needs emulation
(QEMU), which the README promises the image never needs.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.stack_settings import PLATFORMS
from local.paths import REPO_ROOT
from tests.dockerfile import Dockerfile, Stage, parse_dockerfile

# Build machines: a CI runner or a Linux laptop, and an Apple-silicon or Graviton machine.
HOSTS = ("linux/amd64", "linux/arm64")
# containerd's normalisation of architecture names (platforms.Normalize): a Dockerfile
# may say linux/x86_64 or linux/aarch64.
ARCHITECTURE_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile((REPO_ROOT / "Dockerfile").read_text())


def normalised(platform: str) -> str:
    system, _, architecture = platform.partition("/")
    return f"{system}/{ARCHITECTURE_ALIASES.get(architecture, architecture)}"


def expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)", lambda match: variables[match.group(1) or match.group(2)], text
    )


def stage_platforms(
    dockerfile: Dockerfile, host: str, target: str, build_args: dict[str, str]
) -> list[str]:
    """The platform each stage runs on, in order, for one `docker build`."""
    variables = {
        **dockerfile.global_arguments,
        **build_args,
        "BUILDPLATFORM": host,
        "TARGETPLATFORM": target,
    }
    return [
        normalised(expand(stage.platform, variables)) if stage.platform else target
        for stage in dockerfile.stages
    ]


def copied_from(stage: Stage) -> list[str]:
    return [
        word.removeprefix("--from=")
        for copy in stage.all("COPY")
        for word in copy.arguments.split()
        if word.startswith("--from=")
    ]


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("architecture", sorted(PLATFORMS))
def test_every_build_runs_commands_only_on_the_build_machines_platform(
    dockerfile: Dockerfile, architecture: str, host: str
) -> None:
    # What infra/image.py asks for: --platform of the function, LAMBDA_ARCH for its stage.
    target = PLATFORMS[architecture]
    platforms = stage_platforms(dockerfile, host, target, {"LAMBDA_ARCH": architecture})
    by_name = {
        stage.name: platform
        for stage, platform in zip(dockerfile.stages, platforms, strict=True)
        if stage.name
    }

    # The function stage is the function's platform, and only copies.
    assert platforms[-1] == target
    assert dockerfile.stages[-1].all("RUN") == []
    for stage, platform in zip(dockerfile.stages, platforms, strict=True):
        if not stage.all("RUN"):
            continue
        # A stage that runs commands runs natively, and so does every binary it copies in.
        assert platform == host, f"stage {stage.name} runs on {platform} on a {host} machine"
        for source in copied_from(stage):
            assert by_name[source] == host, f"stage {stage.name} runs {source}'s {by_name[source]}"


def test_the_function_stage_copies_only_the_build_stages_task_root(
    dockerfile: Dockerfile,
) -> None:
    # Files, not binaries, cross from the build platform to the function's.
    assert copied_from(dockerfile.stages[-1]) == ["build"]


# The local-tools stage: everything its commands import must be copied into it.


def repository_modules(module: str) -> set[Path]:
    """The repository's source files `module` imports, at any depth and in any function."""
    found: set[Path] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        candidates = [
            REPO_ROOT.joinpath(*parts).with_suffix(".py"),
            REPO_ROOT.joinpath(*parts, "__init__.py"),
        ]
        path = next((path for path in candidates if path.is_file()), None)
        if path is None or path in found:
            continue
        found.add(path)
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        pending += [".".join(parts[:depth]) for depth in range(1, len(parts))]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                pending += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                pending.append(node.module)
                pending += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def local_tools_commands(dockerfile: Dockerfile) -> list[list[str]]:
    """The CMD of the stage and every compose.yaml command run from it."""
    commands = [json.loads(dockerfile.stage("local-tools").all("CMD")[0].arguments)]
    compose: dict[str, Any] = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    for service in compose["services"].values():
        if isinstance(service.get("build"), dict) and service["build"].get("target") == (
            "local-tools"
        ):
            commands.append(service.get("command", commands[0]))
    return commands


def test_the_local_tools_stage_holds_every_module_its_commands_import(
    dockerfile: Dockerfile,
) -> None:
    copies = [
        copy.arguments.split()
        for copy in dockerfile.stage("local-tools").all("COPY")
        if "--from=" not in copy.arguments
    ]
    copied = [REPO_ROOT / source for words in copies for source in words[:-1]]
    commands = local_tools_commands(dockerfile)
    assert len(commands) >= 2

    for command in commands:
        assert command[:2] == ["python", "-m"]
        for path in repository_modules(command[2]):
            assert any(path == source or source in path.parents for source in copied), (
                f"{command[2]} imports {path.relative_to(REPO_ROOT)}, not copied into local-tools"
            )
