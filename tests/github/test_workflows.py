"""The GitHub Actions workflows: valid against GitHub's schema, offline, and consistent
with the repository they build, so a typo fails `make test` and not a push."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ruamel.yaml import YAML

from local.paths import REPO_ROOT
from service.app import create_app
from service.handler import build_handler
from service.settings import Settings

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
# Every workflow file, so a new one gets the schema, pinning and uv checks too.
ALL_WORKFLOWS = sorted(WORKFLOWS.glob("*.yml"))
# check-jsonschema ships a copy of SchemaStore's schema for workflow files.
BUILTIN_SCHEMA = "vendor.github-workflows"

# Runs check-jsonschema with every way of opening a connection refused, so a check
# that needed the network fails instead of quietly downloading.
OFFLINE_CHECK_JSONSCHEMA = """
import socket
import sys

def refuse(*args, **kwargs):
    raise OSError("network access is disabled for this check")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from check_jsonschema import main

sys.argv[0] = "check-jsonschema"
sys.exit(main())
"""


def check_offline(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", OFFLINE_CHECK_JSONSCHEMA, *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def steps(workflow: Any) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]
    return dict(step)


def test_every_workflow_is_valid_against_the_schema_with_no_network() -> None:
    assert {CI, DEPLOY} <= set(ALL_WORKFLOWS)
    result = check_offline("--builtin-schema", BUILTIN_SCHEMA, *ALL_WORKFLOWS)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_the_offline_guard_really_stops_a_schema_download() -> None:
    # The same check with the schema's URL instead of the built-in copy must fail: this
    # is what shows the test above used no network.
    result = check_offline(
        "--no-cache", "--schemafile", "https://json.schemastore.org/github-workflow.json", CI
    )

    assert result.returncode != 0
    assert "network access is disabled" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("typo", "fixed", "reported"),
    [
        ("    runs-on: ubuntu-latest", "    run-on: ubuntu-latest", "'runs-on' is a required"),
        ("    timeout-minutes: 30", "    timeout-minutes: thirty", "thirty"),
        ("  pull_request:", "  pull_requests:", "pull_requests"),
    ],
    ids=["misspelt key", "wrong type", "unknown event"],
)
def test_a_broken_copy_fails_the_check(
    tmp_path: Path, typo: str, fixed: str, reported: str
) -> None:
    broken = tmp_path / "ci.yml"
    text = CI.read_text(encoding="utf-8")
    assert typo in text
    broken.write_text(text.replace(typo, fixed, 1), encoding="utf-8")

    result = check_offline("--builtin-schema", BUILTIN_SCHEMA, broken)

    assert result.returncode == 1
    assert reported in result.stdout


def test_every_action_is_pinned_to_a_full_commit_with_its_release_in_a_comment() -> None:
    pinned = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+)*$")
    for workflow in ALL_WORKFLOWS:
        lines = [line for line in workflow.read_text().splitlines() if "uses:" in line]
        assert lines
        for line in lines:
            assert pinned.match(line), f"{workflow.name}: not pinned: {line.strip()}"


def test_ci_runs_make_test_the_slow_suites_and_builds_the_image_for_arm64() -> None:
    jobs = load(CI)["jobs"]
    assert "make test" in " ".join(step.get("run", "") for step in jobs["test"]["steps"])
    assert "make test-slow" in [step.get("run") for step in jobs["slow"]["steps"]]
    assert {"3.11", "3.13"} <= set(jobs["test"]["strategy"]["matrix"]["python"])
    build = step_using(jobs["image"], "docker/build-push-action")["with"]
    assert build["platforms"] == "linux/arm64"
    assert build["cache-from"] == "type=gha"


def test_workflows_use_the_makefiles_uv_and_a_pulumi_cli_matching_the_locked_sdk() -> None:
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    assert uv_version is not None
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    (pulumi_sdk,) = [
        package["version"] for package in lock["package"] if package["name"] == "pulumi"
    ]
    for workflow in ALL_WORKFLOWS:
        for step in steps(load(workflow)):
            if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                assert step["with"]["version"] == uv_version.group(1), workflow.name
            if step.get("uses", "").startswith("pulumi/actions@"):
                assert step["with"]["pulumi-version"] == pulumi_sdk, workflow.name


def test_deploy_uses_oidc_previews_pull_requests_and_smoke_tests_after_up() -> None:
    workflow = load(DEPLOY)
    assert "aws-access-key-id" not in DEPLOY.read_text()
    for name in ("preview", "deploy"):
        job = workflow["jobs"][name]
        assert job["permissions"]["id-token"] == "write"
        credentials = step_using(job, "aws-actions/configure-aws-credentials")["with"]
        assert credentials["role-to-assume"].startswith("${{ vars.")
    preview = step_using(workflow["jobs"]["preview"], "pulumi/actions")["with"]
    assert preview["command"] == "preview"
    assert preview["comment-on-pr"] is True
    assert workflow["jobs"]["preview"]["permissions"]["pull-requests"] == "write"

    deploy = workflow["jobs"]["deploy"]
    commands = [
        step["with"]["command"]
        for step in deploy["steps"]
        if "pulumi/actions@" in step.get("uses", "")
    ]
    assert commands == ["preview", "up"]
    names = [step.get("id") or step.get("name", "") for step in deploy["steps"]]
    smoke = next(step for step in deploy["steps"] if "tools.smoke" in step.get("run", ""))
    assert deploy["steps"].index(smoke) > names.index("up")
    assert smoke["env"]["EVENTS_API_KEY"] == "${{ steps.up.outputs.apiKey }}"
    assert set(workflow["on"]["workflow_dispatch"]["inputs"]["stack"]["options"]) == {"dev", "prod"}
    assert "inputs.stack" in deploy["environment"]["name"]


def test_each_run_previews_its_stack_once() -> None:
    # The preview job runs for pull requests and manual runs, the deploy job's own
    # preview only for a push to main, whose preview job is skipped.
    jobs = load(DEPLOY)["jobs"]
    (deploy_preview,) = [
        step
        for step in jobs["deploy"]["steps"]
        if "pulumi/actions@" in step.get("uses", "") and step["with"]["command"] == "preview"
    ]

    assert deploy_preview["if"] == "github.event_name == 'workflow_run'"
    assert "github.event_name == 'workflow_dispatch'" in jobs["preview"]["if"]
    assert "github.event_name == 'pull_request'" in jobs["preview"]["if"]
    assert "workflow_run" not in jobs["preview"]["if"]


def test_the_image_check_sends_an_event_the_app_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    (step,) = [
        step for step in load(CI)["jobs"]["image"]["steps"] if "HEALTH_EVENT" in step.get("env", {})
    ]
    event = json.loads(step["env"]["HEALTH_EVENT"])
    # As under the emulator, which names the function: the init refuses the local secret.
    assert '--env EVENTS_CURSOR_SECRET="$(openssl rand -hex 24)"' in step["run"]
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "test_function")
    monkeypatch.setenv("EVENTS_CURSOR_SECRET", secrets.token_hex(24))
    handler = build_handler(create_app(Settings()))  # as the image's CMD builds it

    answer = handler(event, SimpleNamespace(aws_request_id="ci"))

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"status": "ok"}


# Only a commit whose CI passed is deployed.


def test_a_push_to_main_deploys_only_once_ci_has_passed_for_that_exact_commit() -> None:
    workflow = load(DEPLOY)
    trigger = workflow["on"]

    assert "push" not in trigger
    assert trigger["workflow_run"] == {
        "workflows": [load(CI)["name"]],
        "types": ["completed"],
        "branches": ["main"],
    }
    deploy = workflow["jobs"]["deploy"]
    for condition in (
        "github.event.workflow_run.conclusion == 'success'",
        "github.event.workflow_run.event == 'push'",
        "github.event.workflow_run.head_branch == 'main'",
    ):
        assert condition in deploy["if"]
    # Every checkout takes the commit CI tested, not the branch's head at deploy time.
    assert "github.event.workflow_run.head_sha" in workflow["env"]["COMMIT"]
    checkouts = [
        step_using(job, "actions/checkout")
        for job in workflow["jobs"].values()
        if any("actions/checkout@" in step.get("uses", "") for step in job["steps"])
    ]
    assert len(checkouts) == 2
    assert {checkout["with"]["ref"] for checkout in checkouts} == {"${{ env.COMMIT }}"}


def ci_check_script() -> str:
    jobs = load(DEPLOY)["jobs"]
    (step,) = jobs["ci-passed"]["steps"]
    return str(step["run"])


def run_ci_check(tmp_path: Path, conclusion: str) -> subprocess.CompletedProcess[str]:
    """The manual run's CI check as written, with a `gh` that answers `conclusion`."""
    tools = tmp_path / "bin"
    tools.mkdir()
    gh = tools / "gh"
    # Records its arguments, answers what `--jq '.[0].conclusion'` prints.
    gh.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/gh-args"\necho "{conclusion}"\n')
    gh.chmod(0o755)
    return subprocess.run(
        ["bash", "-e", "-c", ci_check_script()],
        env={
            "PATH": f"{tools}:/usr/bin:/bin",
            "COMMIT": "0123abc",
            "GITHUB_REPOSITORY": "owner/events-api",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("conclusion", ["failure", "cancelled", ""])
def test_a_manual_run_stops_when_ci_has_not_passed_for_the_commit(
    tmp_path: Path, conclusion: str
) -> None:
    result = run_ci_check(tmp_path, conclusion)

    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"::error::CI has not passed for 0123abc (its run: {conclusion or 'none'}); "
        "only a commit whose CI passed is deployed."
    )
    arguments = (tmp_path / "gh-args").read_text().split()
    assert arguments[:2] == ["run", "list"]
    assert arguments[arguments.index("--commit") + 1] == "0123abc"
    assert arguments[arguments.index("--workflow") + 1] == CI.name


def test_a_manual_run_goes_on_when_ci_passed(tmp_path: Path) -> None:
    result = run_ci_check(tmp_path, "success")

    assert result.returncode == 0, result.stdout + result.stderr
    jobs = load(DEPLOY)["jobs"]
    assert jobs["ci-passed"]["if"] == "github.event_name == 'workflow_dispatch'"
    assert jobs["ci-passed"]["permissions"] == {"actions": "read"}
    assert "ci-passed" in jobs["deploy"]["needs"]
    assert jobs["preview"]["needs"] == "ci-passed"
    for job in ("preview", "deploy"):
        assert "needs.ci-passed.result == 'success'" in jobs[job]["if"]


def test_deploys_build_the_arm64_image_without_emulation() -> None:
    # The Dockerfile runs every command on the runner's platform (tests/test_dockerfile.py);
    # QEMU here would hide a regression. CI keeps it only to run the built image.
    for step in steps(load(DEPLOY)):
        assert not step.get("uses", "").startswith("docker/setup-qemu-action@")
