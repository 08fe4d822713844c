"""The event store: the only code that knows DynamoDB.

Reads and writes events through the low-level client (the resource layer costs import
time and a second conversion pass), builds and checks cursors, makes every write
conditional, and maps botocore's exceptions to the domain errors of `service.errors`.

- `event_store`: `EventStore`, what the routes call: single events, and listings;
- `listing`: pages of events, a paged Scan or a merge of the status index's shards;
- `items`: an event as a DynamoDB item, and back;
- `client`: the client, and the one map of botocore's failures to the domain's errors.
- `rehearsal`: calls answered inside the process, for SnapStart's warm-up.
"""

from service.store.client import ConditionFailed, create_dynamodb_client, dynamodb_errors
from service.store.event_store import EventStore
from service.store.items import (
    PUBLIC_FIELDS,
    EventRecord,
    from_item,
    new_event_id,
    rfc3339,
    to_item,
    utc_now,
)
from service.store.listing import CURSOR_VERSION, EventListing, ListingQuery, Page

__all__ = [
    "CURSOR_VERSION",
    "PUBLIC_FIELDS",
    "ConditionFailed",
    "EventListing",
    "EventRecord",
    "EventStore",
    "ListingQuery",
    "Page",
    "create_dynamodb_client",
    "dynamodb_errors",
    "from_item",
    "new_event_id",
    "rfc3339",
    "to_item",
    "utc_now",
]
