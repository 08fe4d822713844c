"""The gateway's command-line arguments, checked before anything starts."""

from __future__ import annotations

import argparse

import local.gateway

RIE_INVOCATIONS_PATH = "/2015-03-31/functions/function/invocations"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.gateway",
        description=local.gateway.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--stage", help="serve under /STAGE, as on the execute-api host")
    parser.add_argument(
        "--function-url",
        help=f"a Lambda Invoke endpoint, such as http://localhost:9000{RIE_INVOCATIONS_PATH}; "
        "without it the handler runs in this process",
    )
    parser.add_argument(
        "--dynamodb-local",
        action="store_true",
        help="in-process only: start DynamoDB Local with the table and use it",
    )
    args = parser.parse_args(argv)
    if args.stage is not None and (not args.stage or "/" in args.stage):
        parser.error("--stage takes a name such as dev, without slashes")
    if args.function_url and args.dynamodb_local:
        parser.error("--dynamodb-local applies only when the handler runs in this process")
    return args
