"""`python -m local.gateway`: the local API Gateway (see local/gateway/__init__.py)."""

from __future__ import annotations

import contextlib

from local import http_server
from local.command_line import fail, settings_or_exit
from local.gateway.app import LocalGateway
from local.gateway.arguments import parse_arguments
from local.gateway.invokers import InProcessFunction, Invoke, RemoteFunction


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    # In process, the handler reads the settings when it is imported: check them first.
    settings = None if args.function_url else settings_or_exit()
    try:
        listener = http_server.listen(args.host, args.port)
    except http_server.PortInUse as error:
        fail(f"{error}; choose another with --port")
    http_server.stop_on_sigterm()

    with contextlib.ExitStack() as stack:
        if args.dynamodb_local and settings is not None:
            from local.dynamodb_local import DynamoDBLocalError, serving_database

            try:
                local, _ = stack.enter_context(serving_database(settings))
            except DynamoDBLocalError as error:
                fail(str(error), status=1)
            print(f"DynamoDB Local ({local.engine}) on {local.endpoint_url}")
        invoke: Invoke = (
            RemoteFunction(args.function_url)
            if args.function_url
            else stack.enter_context(InProcessFunction())
        )
        target = args.function_url or "service.handler.handler (in process)"
        root = f"/{args.stage}" if args.stage else ""
        print(f"Gateway on http://{args.host}:{args.port}{root}/ -> {target}", flush=True)
        gateway = LocalGateway(invoke, args.stage)
        with contextlib.suppress(KeyboardInterrupt, http_server.Stopped):
            http_server.run(http_server.server(gateway, lifespan="off"), listener)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
