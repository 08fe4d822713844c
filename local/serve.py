"""`make run`: DynamoDB Local, the events table, and the API on http://127.0.0.1:8000.

Everything that can be wrong is checked before anything starts: the settings, the
DynamoDB Local engine variable, and the port (held from then on). Ctrl-C, or SIGINT or
SIGTERM sent to this process or to the `make` running it, stops the server and then
DynamoDB Local, leaving nothing running.

    python -m local.serve [--persist] [--port 8000]
"""

from __future__ import annotations

import argparse
import os

from local import http_server
from local.command_line import fail, settings_or_exit
from local.dynamodb_local import (
    ENGINE_VARIABLE,
    DynamoDBLocalError,
    checked_engine,
    serving_database,
)
from local.paths import DATA_DIR
from local.run_state import advertised

PERSIST_DIR = DATA_DIR / "dynamodb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persist", action="store_true", help=f"keep data in {PERSIST_DIR}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=http_server.REQUEST_READ_SECONDS,
        help="seconds a request may take to arrive whole",
    )
    args = parser.parse_args(argv)

    settings = settings_or_exit()
    try:  # before the port is taken: a wrong engine is the line, not a half-started server
        checked_engine(os.environ.get(ENGINE_VARIABLE, "auto"))
    except DynamoDBLocalError as error:
        fail(str(error))
    try:
        listener = http_server.listen(args.host, args.port)
    except http_server.PortInUse as error:
        fail(f"{error} (another `make run`?); choose another: make run PORT={args.port + 1}")
    http_server.stop_on_sigterm()

    from service.app import create_app

    api_url = f"http://{args.host}:{args.port}"
    persist = PERSIST_DIR if args.persist else None
    try:
        with serving_database(settings, persist) as (local, created):
            if created:
                print(f"Created table {settings.table_name!r}.")
            storage = f"persisted in {PERSIST_DIR}" if args.persist else "in memory"
            print(f"DynamoDB Local ({local.engine}, {storage}) on {local.endpoint_url}")
            server = http_server.server(create_app(settings), read_seconds=args.request_timeout)
            with advertised(local.endpoint_url, api_url) as owner:
                if not owner:
                    print("Another `make run` is serving: `make seed` and the tools aim at it.")
                print(f"Events API on {api_url}  (docs: /docs)  Ctrl-C stops both.", flush=True)
                http_server.run(server, listener)
    except DynamoDBLocalError as error:
        fail(str(error), status=1)
    except (KeyboardInterrupt, http_server.Stopped):
        pass
    finally:
        listener.close()
    print("Stopped the API and DynamoDB Local.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
