"""Entry point of `pulumi up`: read the stack's settings once, build each component, export.

Pulumi runs this file with infra/ as the working directory and on sys.path; the
repository root goes first on sys.path so `infra` and `service` import as packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pulumi  # noqa: E402

from infra.alarms import Alarms, AlarmsArgs  # noqa: E402
from infra.api import EventsApi, EventsApiArgs  # noqa: E402
from infra.config import load_config  # noqa: E402
from infra.data import EventsTable, EventsTableArgs  # noqa: E402
from infra.function import EventsFunction, EventsFunctionArgs  # noqa: E402
from infra.image import ServiceImage, ServiceImageArgs  # noqa: E402
from infra.waf import WebFirewall, WebFirewallArgs  # noqa: E402

config = load_config()
name = f"events-{config.stack}"

data = EventsTable(
    name,
    EventsTableArgs(
        protect=config.data.protect_data, existing_table_name=config.data.existing_table_name
    ),
)
image = ServiceImage(
    name,
    ServiceImageArgs(
        repository_name=name.lower(),
        context=REPO_ROOT,
        dockerfile=REPO_ROOT / "Dockerfile",
        platform=config.image.platform,
        keep_images=config.image.ecr_keep_images,
        force_delete=not config.data.protect_data,
        # The Dockerfile's own name for the architecture of the function stage.
        build_args={"LAMBDA_ARCH": config.image.architecture},
        pinned_image_uri=config.image.image_uri,
    ),
)
function = EventsFunction(
    name,
    EventsFunctionArgs(
        image_uri=image.image_uri,
        architecture=config.image.architecture,
        settings=config.function,
        table_name=data.name,
        table_arn=data.arn,
        index_arn=data.index_arn,
        log_retention_days=config.telemetry.log_retention_days,
        tracing=config.telemetry.tracing,
        api_key_required=config.api.require_api_key,
        keys_table_name=data.keys_table.name,
        keys_table_arn=data.keys_table.arn,
    ),
)
api = EventsApi(
    name,
    EventsApiArgs(
        stage_name=config.stack,
        function_name=function.function.name,
        alias_name=function.alias.name,
        alias_invoke_arn=function.alias.invoke_arn,
        throttle=config.api.stage_throttle,
        log_retention_days=config.telemetry.log_retention_days,
        tracing=config.telemetry.tracing,
        usage_plan=config.api.usage_plan,
        manage_api_gateway_account=config.api.manage_api_gateway_account,
    ),
)
alarms = Alarms(
    name,
    AlarmsArgs(
        function_name=function.function.name,
        function_timeout=config.function.timeout,
        api_name=api.rest_api.name,
        stage_name=config.stack,
        table_name=data.name,
        notify=config.alarms,
    ),
)
firewall = (
    WebFirewall(
        name, WebFirewallArgs(stage_arn=api.stage.arn, rate_limit=config.api.waf_rate_limit)
    )
    if config.api.enable_waf
    else None
)

pulumi.export("apiUrl", api.url)
pulumi.export("docsUrl", pulumi.Output.format("{0}/docs", api.url))
pulumi.export("tableName", data.name)
pulumi.export("functionName", function.function.name)
# The version this deploy published, and the one `live` serves (they differ while
# liveVersion pins an earlier one).
pulumi.export("publishedVersion", function.function.version)
pulumi.export("liveVersion", function.alias.function_version)
pulumi.export("imageUri", image.image_uri)
pulumi.export("logGroupName", function.log_group.name)
pulumi.export("accessLogGroupName", api.access_logs.name)
pulumi.export("alarmTopicArn", alarms.topic_arn)
if api.api_key is not None:
    pulumi.export("apiKey", pulumi.Output.secret(api.api_key.value))
if firewall is not None:
    pulumi.export("webAclArn", firewall.web_acl.arn)
