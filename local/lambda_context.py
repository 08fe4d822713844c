"""Lambda's context object, for calling the handler outside Lambda.

The standard library only: the benchmark's measuring processes use it too, and must not
import more than the function itself does.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext


@dataclass
class LocalContext:
    """The attributes of Lambda's context object, for calling the handler in-process."""

    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "events-api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:events-api"
    memory_limit_in_mb: int = 512
    log_group_name: str = "/aws/lambda/events-api"
    log_stream_name: str = "local"
    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None
    deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))
