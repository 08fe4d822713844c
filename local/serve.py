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
import signal
import threading
from pathlib import Path
from types import FrameType

import uvicorn

from local import http_server
from local.command_line import fail, settings_or_exit
from local.dynamodb_local import ENGINE_VARIABLE, ENGINES, DynamoDBLocalError, serving_database
from local.paths import DATA_DIR
from local.run_state import advertised

PERSIST_DIR = DATA_DIR / "dynamodb"
PARENT_POLL_SECONDS = 0.5


class Stopped(Exception):
    """SIGTERM reached this process: unwind, stopping the server and DynamoDB Local."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped


def _catches_sigint(pid: int) -> bool | None:
    """Whether process `pid` has a handler for SIGINT (None: it cannot be read)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return None


def stop_with_parent(server: uvicorn.Server) -> None:
    """Stop the server once the parent process (`make`) stops or is told to stop.

    GNU make passes SIGTERM on to its recipe, but on SIGINT it only waits for the recipe
    to finish, assuming the terminal sent SIGINT to the whole process group. A script
    that sends SIGINT to make alone would wait forever. Make's handler resets SIGINT to
    its default before waiting, which its /proc status shows: that is the cue.
    """
    parent = os.getppid()
    watching_sigint = _catches_sigint(parent) is True

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent or (watching_sigint and _catches_sigint(parent) is False):
                server.should_exit = True
                return
            threading.Event().wait(PARENT_POLL_SECONDS)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


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
    engine = os.environ.get(ENGINE_VARIABLE, "auto")
    if engine not in ENGINES:
        fail(f"{ENGINE_VARIABLE}={engine[:40]!r} is not an engine; allowed: auto, docker or java.")
    try:
        listener = http_server.listen(args.host, args.port)
    except http_server.PortInUse as error:
        fail(f"{error} (another `make run`?); choose another: make run PORT={args.port + 1}")
    signal.signal(signal.SIGTERM, _stop)

    from service.app import create_app

    api_url = f"http://{args.host}:{args.port}"
    persist = PERSIST_DIR if args.persist else None
    try:
        with serving_database(settings.table_name, persist) as (local, created):
            if created:
                print(f"Created table {settings.table_name!r}.")
            storage = f"persisted in {PERSIST_DIR}" if args.persist else "in memory"
            print(f"DynamoDB Local ({local.engine}, {storage}) on {local.endpoint_url}")
            server = http_server.server(create_app(settings), read_seconds=args.request_timeout)
            with advertised(local.endpoint_url, api_url) as owner:
                if not owner:
                    print("Another `make run` is serving: `make seed` and the tools aim at it.")
                print(f"Events API on {api_url}  (docs: /docs)  Ctrl-C stops both.", flush=True)
                stop_with_parent(server)
                server.run(sockets=[listener])
    except DynamoDBLocalError as error:
        fail(str(error), status=1)
    except (KeyboardInterrupt, Stopped):
        pass
    finally:
        listener.close()
    print("Stopped the API and DynamoDB Local.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
