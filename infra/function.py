"""The Lambda function: its execution role, its log group, the image it runs, and `live`.

Every deploy that changes the function publishes a version; API Gateway invokes the alias
`live`, never `$LATEST`. `live` serves the newest version unless the stack pins it to an
earlier one (liveVersion: a rollback without a build) or splits its traffic between the
pinned version and the newest (canaryPercent). Provisioned concurrency, when set, keeps
environments of `live` initialised.

The role's inline policy grants exactly the DynamoDB calls service/store/ makes, each on
the one table or index it targets, plus log writing to the function's own log group. A test
reads the store's source and fails if the two ever disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra.limits import dynamodb_request_budget
from infra.stack_settings import FunctionSettings

# The store reads and writes items and scans the table, and queries only the status index.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Scan",
)
INDEX_ACTIONS = ("dynamodb:Query",)
# Creates with an Idempotency-Key: a TransactWriteItems of two Puts, which IAM authorises
# as PutItem on each table (there is no TransactWriteItems action to grant).
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
KEYS_TABLE_ACTIONS = ("dynamodb:PutItem",)
TRANSACTION_OPERATIONS = ("TransactWriteItems",)
DYNAMODB_OPERATIONS = (
    tuple(action.split(":")[1] for action in TABLE_ACTIONS + INDEX_ACTIONS) + TRANSACTION_OPERATIONS
)
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# X-Ray has no resource-level permissions: these two actions only accept Resource "*".
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# service/settings.py asks for at least 16 characters.
CURSOR_SECRET_LENGTH = 48
# The alias API Gateway invokes.
LIVE_ALIAS = "live"


def assume_role_policy(service: str) -> str:
    """The trust policy (JSON) of a role that only `service` may assume."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def execution_policy(
    table_arn: str, index_arn: str, log_group_arn: str, tracing: bool, keys_table_arn: str
) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "EventsTable",
            "Effect": "Allow",
            "Action": list(TABLE_ACTIONS),
            "Resource": [table_arn],
        },
        {
            "Sid": "EventsStatusIndex",
            "Effect": "Allow",
            "Action": list(INDEX_ACTIONS),
            "Resource": [index_arn],
        },
        {
            "Sid": "IdempotencyKeys",
            "Effect": "Allow",
            "Action": list(KEYS_TABLE_ACTIONS),
            "Resource": [keys_table_arn],
        },
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
        },
    ]
    if tracing:
        statements.append(
            {"Sid": "XRayWrite", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class EventsFunctionArgs:
    image_uri: pulumi.Input[str]
    architecture: str
    settings: FunctionSettings  # size, limits, service settings, versions and `live`
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    index_arn: pulumi.Input[str]
    log_retention_days: int
    tracing: bool
    api_key_required: bool  # API Gateway checks it; the service only documents it
    keys_table_name: pulumi.Input[str]
    keys_table_arn: pulumi.Input[str]


def live_routing(
    published: str, pinned: int | None, canary_percent: int
) -> tuple[str, dict[str, float]]:
    """The version `live` serves and the extra versions it weighs, for the version this
    deploy published (the newest), an optional pinned version and a canary share."""
    if pinned is None:
        return published, {}
    newest = int(published)
    if pinned > newest:
        raise pulumi.RunError(
            f"liveVersion {pinned} is not a published version: the newest is {newest}"
        )
    if not canary_percent:
        return str(pinned), {}
    if pinned == newest:
        raise pulumi.RunError(
            f"canaryPercent {canary_percent} has no new version to send traffic to: "
            f"liveVersion {pinned} is the newest; deploy a change, or set canaryPercent 0"
        )
    return str(pinned), {published: canary_percent / 100}


class EventsFunction(pulumi.ComponentResource):
    function: aws.lambda_.Function
    alias: aws.lambda_.Alias  # `live`, what API Gateway invokes
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    def __init__(
        self, name: str, args: EventsFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:EventsFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name_prefix=f"/aws/lambda/{name}-",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(
                    args.table_arn, args.index_arn, self.log_group.arn, args.keys_table_arn
                ).apply(
                    lambda arns: execution_policy(arns[0], arns[1], arns[2], args.tracing, arns[3])
                )
            ),
            opts=child,
        )
        # One secret per stack, shared by every instance: a cursor one instance signs
        # must verify on any other.
        cursor_secret = random.RandomPassword(
            f"{name}-cursor-secret", length=CURSOR_SECRET_LENGTH, special=False, opts=child
        )
        # Marked secret here too (RandomPassword's own marking is done by the engine), so
        # the whole environment stays encrypted in the state and hidden in output.
        secret: pulumi.Output[str] = pulumi.Output.secret(cursor_secret.result)
        settings = args.settings
        self.function = aws.lambda_.Function(
            f"{name}-function",
            package_type="Image",
            image_uri=args.image_uri,
            architectures=[args.architecture],
            memory_size=settings.memory_size,
            timeout=settings.timeout,
            reserved_concurrent_executions=settings.reserved_concurrency,
            # A new version for every change: `live` points at versions, never $LATEST.
            publish=True,
            # SnapStart snapshots each published version's initialised environment.
            snap_start={"apply_on": "PublishedVersions"} if settings.snap_start else None,
            role=self.role.arn,
            environment={
                "variables": {
                    "EVENTS_TABLE_NAME": args.table_name,
                    "EVENTS_IDEMPOTENCY_TABLE_NAME": args.keys_table_name,
                    "EVENTS_STATUS_SHARDS": str(settings.status_shards),
                    "EVENTS_STATUS_SHARDS_READ": str(settings.status_shards_to_read),
                    "EVENTS_CURSOR_SECRET": secret,
                    "EVENTS_CORS_ORIGINS": ",".join(settings.cors_origins),
                    "EVENTS_API_KEY_REQUIRED": "true" if args.api_key_required else "false",
                    "EVENTS_DYNAMODB_REQUEST_BUDGET": (
                        f"{dynamodb_request_budget(settings.timeout):g}"
                    ),
                    "LOG_LEVEL": settings.log_level,
                }
            },
            # The service writes JSON lines itself; "Text" keeps them as they are.
            logging_config={"log_format": "Text", "log_group": self.log_group.name},
            tracing_config={"mode": "Active" if args.tracing else "PassThrough"},
            # The role must be able to write logs before the first invocation.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.alias = self._live(name, settings)
        self.register_outputs(
            {
                "functionName": self.function.name,
                "logGroupName": self.log_group.name,
                "liveAliasArn": self.alias.arn,
            }
        )

    def _live(self, name: str, settings: FunctionSettings) -> aws.lambda_.Alias:
        routing = self.function.version.apply(
            lambda published: live_routing(
                published, settings.pinned_version, settings.canary_percent
            )
        )
        alias = aws.lambda_.Alias(
            f"{name}-live",
            name=LIVE_ALIAS,
            function_name=self.function.name,
            function_version=routing.apply(lambda route: route[0]),
            routing_config={"additional_version_weights": routing.apply(lambda route: route[1])},
            opts=pulumi.ResourceOptions(parent=self),
        )
        if settings.provisioned_concurrency:
            aws.lambda_.ProvisionedConcurrencyConfig(
                f"{name}-provisioned",
                function_name=self.function.name,
                qualifier=alias.name,
                provisioned_concurrent_executions=settings.provisioned_concurrency,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return alias
