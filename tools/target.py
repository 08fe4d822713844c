"""Where an operator command aims: never at AWS unless it is asked for by name.

The table seed and migrate_shards write to, in order: `--endpoint`, then
AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL), then `--aws` (the table in the account
and region the AWS credentials name), then the DynamoDB Local of a running `make run`.
The API the smoke test walks: `--url`, else the `--stack`'s apiUrl output, else the
running `make run`'s. With none of them a command stops and says how to aim it; aimed
at AWS it names the account, region and table before it writes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

from local.command_line import fail, settings_or_exit
from local.dynamodb_local import use_local_credentials
from local.run_state import running_instance
from service.settings import TABLE_NAME, Settings

NO_TARGET = (
    "no DynamoDB to write to: start `make run` (its DynamoDB Local is found by itself), "
    "or give --endpoint URL (or set AWS_ENDPOINT_URL_DYNAMODB), or --aws for the table "
    "EVENTS_TABLE_NAME names in AWS_REGION."
)


class UsageError(Exception):
    """The command cannot start: no URL, or the Pulumi CLI could not give one."""


def stack_output(name: str, stack: str) -> str:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise UsageError(
            f"give --url: --stack reads `pulumi stack output {name}`, which needs the Pulumi "
            "CLI, and it is not on PATH."
        )
    command = [pulumi, "stack", "output", name, "--stack", stack]
    shown = " ".join(["pulumi", *command[1:]])
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, text=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired:
        raise UsageError(f"`{shown}` did not answer within 120 s") from None
    if result.returncode != 0 or not result.stdout.strip():
        raise UsageError(f"`{shown}` failed: {result.stderr.strip() or 'no output'}")
    return result.stdout.strip()


def default_url(stack: str | None) -> str:
    """The named stack's apiUrl, else the running `make run`'s API; never a guess."""
    if stack:
        return stack_output("apiUrl", stack)
    running = running_instance()
    if running is None:
        raise UsageError(
            "no API to test: give --url URL, or --stack NAME for a stack's apiUrl output, "
            "or start `make run` (its API is found by itself)."
        )
    return running.api_url


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", help="table name (default: EVENTS_TABLE_NAME, else Events)")
    parser.add_argument(
        "--endpoint",
        help="DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, else `make run`'s)",
    )
    parser.add_argument(
        "--aws", action="store_true", help="write to the table in AWS (AWS_REGION, credentials)"
    )


def resolve(args: argparse.Namespace, **overrides: Any) -> tuple[Settings, str]:
    """The service's settings aimed where the arguments say, and a line naming the target."""
    settings = settings_or_exit()
    if args.table is not None:
        if not TABLE_NAME.match(args.table):
            fail(
                f"--table {args.table[:80]!r} is not a DynamoDB table name; allowed: 3 to 255 "
                "letters, digits, '_', '-' or '.'."
            )
        overrides["table_name"] = args.table
    endpoint = args.endpoint or settings.dynamodb_endpoint_url
    if args.aws and endpoint:
        fail(
            "--aws and an endpoint (--endpoint or AWS_ENDPOINT_URL_DYNAMODB) both given: "
            "choose one."
        )
    running = None
    if not endpoint and not args.aws:
        running = running_instance()
        if running is None:
            fail(NO_TARGET)
        endpoint = running.dynamodb_endpoint
    settings = settings.model_copy(update={**overrides, "dynamodb_endpoint_url": endpoint})
    if endpoint is None:
        account = aws_account(settings)
        return settings, (
            f"table {settings.table_name!r} in AWS account {account}, region {settings.aws_region}"
        )
    if urlsplit(endpoint).hostname in {"127.0.0.1", "localhost", "::1"}:
        use_local_credentials()
    where = f"table {settings.table_name!r} at {endpoint}"
    return settings, where + (f" (the `make run` of process {running.pid})" if running else "")


def aws_account(settings: Settings) -> str:
    """The account the credentials belong to (STS GetCallerIdentity needs no permission)."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    client: Any = botocore.session.get_session().create_client(
        "sts", region_name=settings.aws_region
    )
    try:
        identity = client.get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        fail(
            f"--aws: cannot tell which AWS account to write to ({error}); set AWS_PROFILE "
            "or credentials, and AWS_REGION."
        )
    return str(identity["Account"])
