"""The DynamoDB client, and the store's one exception map: botocore's failures as domain errors.

Every DynamoDB call the store makes runs inside `dynamodb_errors()`, in the manner of
httpx's `map_httpcore_exceptions`: nothing above the store ever sees a botocore type.

- a failure a later retry may well get past (throttling, a timeout, no connection) is
  `StoreUnavailable`: a 503 with Retry-After;
- a failed write condition is `ConditionFailed`, which only the store's own write methods
  see: they alone know whether it means 404, 409, 412 or a retried write that had landed;
  a cancelled transaction is `TransactionCancelled`, likewise for the keyed create alone;
- anything else (ValidationException, AccessDeniedException, a parameter botocore refused)
  is `StoreFailure`, with the cause logged: a 500, as no retry will get past it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from service.errors import StoreFailure, StoreUnavailable
from service.logs import logger

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
_UNAVAILABLE = "The event store is unavailable; retry shortly."


class ConditionFailed(Exception):
    """A write's condition did not hold. Internal to the store: its write methods turn it
    into a domain error, or into success when it was their own retried write."""

    def __init__(self, item: Mapping[str, Any] | None, retried: bool) -> None:
        super().__init__("The write's condition did not hold.")
        self.item = item
        """The item the condition was checked against (ReturnValuesOnConditionCheckFailure),
        or None when there was none."""
        self.retried = retried
        """The SDK had sent this very call before: an earlier attempt may have landed."""


class TransactionCancelled(Exception):
    """A transaction was cancelled (a condition, a conflict) or its first attempt is still
    being applied. Internal to the store, like ConditionFailed: only the keyed create knows
    what its items' cancellation reasons mean."""

    def __init__(self, reasons: list[Mapping[str, Any]], in_progress: bool) -> None:
        super().__init__("The transaction was cancelled.")
        self.reasons = reasons
        """One per item, in order: `Code` and, for a failed condition, the `Item` found."""
        self.in_progress = in_progress
        """The SDK's retry found this very call's first attempt still in progress."""


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
    """Run DynamoDB calls whose every failure leaves as a domain error (or ConditionFailed)."""
    try:
        yield
    except ClientError as error:
        raise _client_error(error) from error
    except ParamValidationError as error:  # a request this code built wrong: never transient
        raise unexpected(error, "ParamValidationError") from error
    except BotoCoreError as error:  # connection refused, timeouts, credentials
        raise StoreUnavailable(_UNAVAILABLE) from error


def _client_error(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    if code == _CONDITION_FAILED:
        attempts = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        item: Mapping[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
        return ConditionFailed(item, retried=attempts > 0)
    if code == "TransactionCanceledException":
        reasons: list[Mapping[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
        return TransactionCancelled(reasons, in_progress=False)
    if code == "TransactionInProgressException":
        return TransactionCancelled([], in_progress=True)
    if code in _TRANSIENT_ERROR_CODES:
        return StoreUnavailable(_UNAVAILABLE)
    return unexpected(error, code)


def unexpected(error: Exception, code: str) -> StoreFailure:
    # The cause goes to the log, never to the client: its message can name the table's
    # ARN and the account, and the caller can do nothing with it.
    logger.error(
        "unexpected DynamoDB error",
        extra={"operation": getattr(error, "operation_name", None), "code": code},
        exc_info=error,
    )
    return StoreFailure(
        "The event store refused this request unexpectedly; retrying will not help. "
        "The cause is logged: quote the X-Request-ID to the operators."
    )
