"""The one error local DynamoDB tooling raises: its message says what to do."""

from __future__ import annotations


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be installed or started; the message says what to do."""
