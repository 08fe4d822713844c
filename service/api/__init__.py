"""HTTP routes: they translate between HTTP and the store, and do nothing else.

`service.api.events` holds the /events routes and `service.api.health` the liveness
check; `service.api.deps` the dependencies they share (the store, `If-Match`, the JSON
body check) and `service.api.responses` the error responses each route declares.
"""
