"""Memory: peak RSS of a process after N mixed invocations, and whether it grows.

`service` imports the Lambda handler and sends it the mixed workload of
`bench.workload.MIX`; `floor` is a boto3-only process making the DynamoDB call each of
those requests needs (GetItem, one Query of a page, UpdateItem, PutItem). Both record
their resident set every `every` invocations, so growth between two points shows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from bench.child import child_main, floor_page_request, lambda_event
from local.lambda_context import LocalContext

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_BYTES


def peak_resident_bytes() -> int:
    """VmHWM: this process's high-water mark. (ru_maxrss would carry the parent's peak
    over from fork, as Linux keeps it across execve.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _service_requests(config: dict[str, Any]) -> Callable[[str, str], None]:
    from service.handler import handler

    templates = config["templates"]
    context = LocalContext(aws_request_id="memory", log_stream_name="bench")

    def send(kind: str, event_id: str) -> None:
        response = handler(lambda_event(templates[kind], event_id), context)
        if response["statusCode"] >= 300:
            raise RuntimeError(f"{kind} answered {response['statusCode']}: {response['body']}")

    return send


def _floor_requests(config: dict[str, Any]) -> Callable[[str, str], None]:
    import boto3

    client = boto3.client("dynamodb")
    table = config["table_name"]
    item = config["new_item"]
    page_request = floor_page_request(table, config["page_partition"], config["page_size"])

    def send(kind: str, event_id: str) -> None:
        key = {"eventId": {"S": event_id}}
        if kind == "get":
            client.get_item(TableName=table, Key=key)
        elif kind == "list":
            client.query(**page_request)
        elif kind == "update":
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET #capacity = :capacity, version = version + :one",
                ConditionExpression="attribute_exists(eventId)",
                ExpressionAttributeNames={"#capacity": "capacity"},  # a reserved word
                ExpressionAttributeValues={":capacity": {"N": "1234"}, ":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )
        else:
            client.put_item(
                TableName=table,
                Item={**item, "eventId": {"S": event_id}},
                ConditionExpression="attribute_not_exists(eventId)",
            )

    return send


def measure(config: dict[str, Any]) -> dict[str, Any]:
    send = (_service_requests if config["process"] == "service" else _floor_requests)(config)
    ids, mix, prefix = config["event_ids"], config["mix"], config["new_id_prefix"]
    points: list[tuple[int, int]] = [(0, resident_bytes())]
    for number in range(1, config["invocations"] + 1):
        kind = mix[number % len(mix)]
        send(kind, f"{prefix}{number}" if kind == "create" else ids[number % len(ids)])
        if number % config["every"] == 0:
            points.append((number, resident_bytes()))
    return {"resident": points, "peak": peak_resident_bytes()}


if __name__ == "__main__":
    child_main(measure)
