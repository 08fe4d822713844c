"""Reading the stack's settings from Pulumi, checked before any resource is declared.

A misspelt key or an out-of-range value stops the program before anything is declared,
so `pulumi preview` fails with one line that names the setting, says what is wrong and
what is allowed, instead of an AWS error half-way through `pulumi up`. Pulumi.dev.yaml
and Pulumi.prod.yaml list every setting with its value for that environment; the model
(infra/stack_settings.py) groups them by the component that reads them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.runtime.config
from pydantic import ValidationError

from infra.setting_types import ConfigError, allowed_text, field_name
from infra.stack_settings import GROUPS, StackConfig

# API Gateway stage names allow only these characters; the stage is named after the stack.
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def setting_keys() -> set[str]:
    """Every key a stack file may set, as the stack files spell it."""
    return {str(field.alias) for group in GROUPS.values() for field in group.model_fields.values()}


def _refusal(project: str, error: Any, values: Mapping[str, str]) -> ConfigError:
    """The one line for the first thing pydantic refused: key, what is wrong, what is allowed."""
    group, key = error["loc"][0], error["loc"][1]
    field = GROUPS[group].model_fields[field_name(GROUPS[group], key)]
    problem = error["msg"] if error["type"] == "setting" else f"must be {allowed_text(field)}"
    return ConfigError(f"{project}:{key} {problem}, got {values[key]!r}")


def parse_config(project: str, stack: str, values: Mapping[str, str]) -> StackConfig:
    """Check raw settings (short key -> string, as Pulumi stores them) and type them."""
    if not _STAGE_NAME.match(stack):
        raise ConfigError(
            f"stack name {stack!r} must be 1-128 letters, digits, '-' or '_': "
            "it names the API Gateway stage"
        )
    known = setting_keys()
    for key in sorted(set(values) - known):
        hint = difflib.get_close_matches(key, sorted(known), n=1)
        suggestion = f"; did you mean {project}:{hint[0]}?" if hint else ""
        raise ConfigError(f"unknown setting {project}:{key}{suggestion}")
    try:
        config = StackConfig.model_validate(
            {"stack": stack, **{group: dict(values) for group in GROUPS}}
        )
    except ValidationError as error:
        raise _refusal(project, error.errors()[0], values) from None
    for group in GROUPS:
        getattr(config, group).check(lambda key: f"{project}:{key}")
    return config


def _config_keys() -> set[str]:
    """Every configuration key the program was given, whatever its namespace.

    pulumi.Config can only look keys up, not list them. The CLI hands the program its
    configuration as the PULUMI_CONFIG JSON map; the Automation API and the tests'
    mocks may also set it in-process, so both sources are read.
    """
    return set(pulumi.runtime.get_config_env()) | set(pulumi.runtime.config.CONFIG.get())


def load_config() -> StackConfig:
    """Read this stack's settings from Pulumi's configuration, failing on any bad one."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    config = pulumi.Config()
    prefix = f"{project}:"
    keys = {key[len(prefix) :] for key in _config_keys() if key.startswith(prefix)}
    values = {key: value for key in keys if (value := config.get(key)) is not None}
    return parse_config(project, stack, values)
