"""The DynamoDB client, and botocore's failures as the domain's errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from service.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from service.settings import Settings

# Errors after which a later retry may well succeed: the client gets a 503 with Retry-After.
_TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "ResourceNotFoundException",  # table missing or still being created
        "TransactionConflictException",
    }
)
_CONDITION_FAILED = "ConditionalCheckFailedException"


def create_dynamodb_client(settings: Settings, max_pool_connections: int = 10) -> DynamoDBClient:
    """One client per process: botocore clients are thread-safe and keep connections alive.

    Made by botocore's own session: boto3 would only wrap the same call, and importing it
    (with s3transfer) costs every cold start (bench/README.md has the figures).
    """
    from botocore.config import Config
    from botocore.session import get_session

    config = Config(
        region_name=settings.aws_region,
        connect_timeout=settings.dynamodb_connect_timeout,
        read_timeout=settings.dynamodb_read_timeout,
        retries={"mode": "standard", "total_max_attempts": settings.dynamodb_max_attempts},
        max_pool_connections=max(max_pool_connections, settings.status_shards_to_read + 2),
        tcp_keepalive=True,
    )
    client = get_session().create_client(
        "dynamodb", endpoint_url=settings.dynamodb_endpoint_url, config=config
    )
    return cast("DynamoDBClient", client)


@contextlib.contextmanager
def dynamodb_errors() -> Iterator[None]:
    """Turn botocore's transport and throttling failures into StoreUnavailable."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _TRANSIENT_ERROR_CODES:
            raise StoreUnavailable("The event store is unavailable; retry shortly.") from error
        raise
    except ParamValidationError:
        raise
    except BotoCoreError as error:  # connection refused, timeouts, credentials
        raise StoreUnavailable("The event store is unavailable; retry shortly.") from error


def condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == _CONDITION_FAILED
