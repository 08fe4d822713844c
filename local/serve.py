"""`make run`: DynamoDB Local, the events table, and the API on http://127.0.0.1:8000.

Ctrl-C stops the server and then DynamoDB Local, leaving nothing running.

    python -m local.serve [--persist] [--port 8000]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from local.dynamodb_local import REPO_ROOT, DynamoDBLocalError, serving_database

PERSIST_DIR = REPO_ROOT / ".data" / "dynamodb"
# Where the running server leaves its DynamoDB Local endpoint, so `make seed` finds it.
ENDPOINT_FILE = REPO_ROOT / ".data" / "endpoint"


@contextlib.contextmanager
def advertised_endpoint(endpoint_url: str, path: Path = ENDPOINT_FILE) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(endpoint_url + "\n")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persist", action="store_true", help=f"keep data in {PERSIST_DIR}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    import uvicorn

    from service.app import create_app
    from service.settings import Settings

    try:
        with serving_database(PERSIST_DIR if args.persist else None) as (local, created):
            settings = Settings()
            if created:
                print(f"Created table {settings.table_name!r}.")
            storage = f"persisted in {PERSIST_DIR}" if args.persist else "in memory"
            print(f"DynamoDB Local ({local.engine}, {storage}) on {local.endpoint_url}")
            print(
                f"Events API on http://{args.host}:{args.port}  (docs: /docs)  Ctrl-C stops both."
            )
            with advertised_endpoint(local.endpoint_url):
                uvicorn.run(
                    create_app(settings), host=args.host, port=args.port, log_level="warning"
                )
    except DynamoDBLocalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
