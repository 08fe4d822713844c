"""Run the Pulumi program (infra/__main__.py, as `pulumi up` runs it) under mocks.

Each stack's settings come from its Pulumi.<stack>.yaml, handed to the program the way
the Pulumi CLI does: as the PULUMI_CONFIG JSON map of "<namespace>:<key>" to string.
Mocks run with preview=False, so every apply callback runs and every input resolves.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
import yaml

from local.paths import REPO_ROOT
from tests.infra.mocks import AwsMocks, RecordingMonitor, Registered

PROGRAM = REPO_ROOT / "infra" / "__main__.py"
PROJECT = "events-api"
STACKS = ("dev", "prod")


def _config_string(value: Any) -> str:
    """A YAML value as the CLI passes it: strings as-is, the rest JSON-encoded."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def stack_settings(stack: str) -> dict[str, str]:
    """Pulumi.<stack>.yaml's config, keyed "<namespace>:<key>" like the CLI passes it."""
    document = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    return {key: _config_string(value) for key, value in document["config"].items()}


def short_settings(stack: str) -> dict[str, str]:
    """This project's settings in Pulumi.<stack>.yaml, by short key, as parse_config takes them."""
    prefix = f"{PROJECT}:"
    return {
        key[len(prefix) :]: value
        for key, value in stack_settings(stack).items()
        if key.startswith(prefix)
    }


@dataclass
class Deployment:
    stack: str
    mocks: AwsMocks
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    @property
    def resources(self) -> list[Registered]:
        return self.mocks.registered

    def all(self, type_: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str, suffix: str = "") -> Registered:
        """The one resource of this type (whose name ends with `suffix`, when given)."""
        found = [resource for resource in self.all(type_) if resource.name.endswith(suffix)]
        assert len(found) == 1, f"{len(found)} resources of type {type_} named *{suffix}"
        return found[0]


# prod as shipped refuses to deploy until its alarms notify someone (infra/stack_settings.py): the
# address an operator would set.
ONCALL = {"alarmEmail": "oncall@example.com"}


def deployed_settings(stack: str) -> dict[str, str]:
    """The short-key settings deploy() runs `stack` with, when given no overrides."""
    return {**short_settings(stack), **(ONCALL if stack == "prod" else {})}


def deploy(
    stack: str, overrides: dict[str, str] | None = None, mocks: AwsMocks | None = None
) -> Deployment:
    """Run the program for `stack` with its YAML settings, plus `overrides` (short keys);
    prod gets an alarm e-mail unless the overrides say otherwise."""
    settings = stack_settings(stack)
    given = {**(ONCALL if stack == "prod" else {}), **(overrides or {})}
    settings.update({f"{PROJECT}:{key}": value for key, value in given.items()})
    deployment = Deployment(stack, mocks or AwsMocks())

    async def resolve_outputs(root: pulumi.Resource) -> None:
        for name, value in getattr(root, "outputs", {}).items():
            output = pulumi.Output.from_input(value)
            deployment.outputs[name] = await output.future()
            if await output.is_secret():
                deployment.secret_outputs.add(name)

    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(PROGRAM), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        assert root is not None
        return pulumi.Output.from_input(asyncio.ensure_future(resolve_outputs(root)))

    asyncio.get_event_loop().set_exception_handler(_quiet_refusals)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PULUMI_CONFIG", json.dumps(settings))
        patch.delenv("PULUMI_CONFIG_SECRET_KEYS", raising=False)
        pulumi.runtime.set_all_config({}, [])
        # A fresh root stack per run: set_mocks only creates one when none is set.
        pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=False)
        pulumi.runtime.set_mocks(
            deployment.mocks,
            project=PROJECT,
            stack=stack,
            preview=False,
            monitor=RecordingMonitor(deployment.mocks),
        )
        # test() runs the program to completion, outstanding registrations included.
        try:
            pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
        except Exception as error:
            _REFUSALS.add(error)
            raise
    return deployment


# A refused run (a bad setting, a wrong restored table) fails every registration that
# waited on the refused value with that same error; test() raises it once and leaves the
# rest unretrieved, which asyncio would print, hundreds of tracebacks per run, at exit.
_REFUSALS: set[BaseException] = set()


def _quiet_refusals(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if context.get("exception") not in _REFUSALS:
        loop.default_exception_handler(context)


@pytest.fixture(scope="session")
def dev() -> Deployment:
    return deploy("dev")


@pytest.fixture(scope="session")
def prod() -> Deployment:
    return deploy("prod")


@pytest.fixture(params=STACKS, scope="session")
def stack(request: pytest.FixtureRequest) -> Deployment:
    deployment: Deployment = request.getfixturevalue(request.param)
    return deployment
