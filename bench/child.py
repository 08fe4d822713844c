"""Measuring in a fresh Python process, configured like the Lambda function.

Each figure measures in its own process: the service's JSON log lines go to /dev/null as
they would go to CloudWatch (still written, so still paid for), no figure inherits another's
memory or warm caches, and a cold start is a process that really is new. This module is
imported by those processes, so it holds only the standard library (Lambda's context
object is local.lambda_context's, standard library too).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from local.paths import REPO_ROOT

# Lambda request templates carry this where each request's eventId goes.
EVENT_ID = "__EVENT_ID__"


class BenchError(RuntimeError):
    """A measurement could not be made; the message says which and why."""


def lambda_event(template: str, event_id: str) -> dict[str, Any]:
    """A request of the template for one event."""
    event: dict[str, Any] = json.loads(template.replace(EVENT_ID, event_id))
    return event


def floor_page_request(table_name: str, partition: str, page_size: int) -> dict[str, Any]:
    """The floor of a list page: the one Query it needs on an index that is not sharded,
    one partition, `Limit` = page + 1 (the extra item tells whether a next page exists,
    as the service's cursor does). Built once, sent as `client.query(**request)`."""
    from service.table import STATUS_INDEX, STATUS_SHARD_ATTRIBUTE

    return {
        "TableName": table_name,
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": f"{STATUS_SHARD_ATTRIBUTE} = :shard",
        "ExpressionAttributeValues": {":shard": {"S": partition}},
        "Limit": page_size + 1,
    }


def run_child(
    module: str, config: Mapping[str, Any], env: Mapping[str, str], timeout: float
) -> dict[str, Any]:
    """Run `python -m module config.json result.json` and return what it wrote."""
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        config_path, result_path = Path(folder, "config.json"), Path(folder, "result.json")
        config_path.write_text(json.dumps(config))
        try:
            completed = subprocess.run(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", module, str(config_path), str(result_path)],
                env=dict(env),
                cwd=REPO_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"{module} did not finish within {timeout:.0f} s") from None
        if completed.returncode != 0 or not result_path.exists():
            error = completed.stderr.decode(errors="replace")[-3000:]
            raise BenchError(f"{module} failed (exit {completed.returncode}):\n{error}")
        result: dict[str, Any] = json.loads(result_path.read_text())
        return result


def child_main(measure: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The `__main__` of a measuring module: read the config, measure, write the result."""
    config_path, result_path = sys.argv[1:3]
    result = measure(json.loads(Path(config_path).read_text()))
    Path(result_path).write_text(json.dumps(result))
