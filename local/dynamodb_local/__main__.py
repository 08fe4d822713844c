"""The DynamoDB Local command line.

python -m local.dynamodb_local fetch    # download and verify the jar
python -m local.dynamodb_local serve    # run it in the foreground
python -m local.dynamodb_local create-table    # the events table, where the
    # environment points the service (EVENTS_TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB)
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from local.command_line import fail, settings_or_exit
from local.dynamodb_local.engine import DynamoDBLocal
from local.dynamodb_local.errors import DynamoDBLocalError
from local.dynamodb_local.jar import fetch_jar
from local.dynamodb_local.tables import create_configured_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["fetch", "serve", "create-table"])
    parser.add_argument("--db-path", type=Path, help="persist data here instead of in memory")
    parser.add_argument(
        "--wait", type=float, default=30.0, help="create-table: seconds to wait for the endpoint"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(fetch_jar())
            return 0
        if args.command == "create-table":
            settings = settings_or_exit()
            if settings.dynamodb_endpoint_url is None:
                fail(
                    "create-table needs AWS_ENDPOINT_URL_DYNAMODB (such as "
                    "http://localhost:8000): in AWS the stack's Pulumi program owns the table."
                )
            print(create_configured_table(settings, args.wait))
            return 0
        with DynamoDBLocal(args.db_path) as local:
            print(f"DynamoDB Local ({local.engine}) on {local.endpoint_url}; Ctrl-C stops it.")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    except DynamoDBLocalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
