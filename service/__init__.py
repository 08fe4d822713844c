"""events-api: an events-management REST API on DynamoDB, served by FastAPI on AWS Lambda.

This is the code reference, built by `make docs`. The README says how to run, test and
deploy the service; `docs/operations.md` how to run it in production and what it costs.

## How a request flows

Data flows one way, and each step lives in one module:

1. API Gateway hands the request to the Lambda function, where Mangum turns the event
   into an ASGI request for the app that `service.app.create_app` builds.
2. `service.middleware.RequestContextMiddleware` gives it an id (`X-Request-ID`), caps
   the body at 64 KiB, adds the security headers and writes the one JSON log line
   (`service.logs`) that CloudWatch keeps.
3. A route of `service.api.events` validates it against the schemas of `service.models`
   and makes one call to the store.
4. `service.store.EventStore`, the only code that knows DynamoDB, reads or writes
   conditionally, using the table layout of `service.table` and the signed cursors of
   `service.cursor`, and raises the domain errors of `service.errors`.
5. `service.errors` turns any of those errors into an RFC 9457 problem document.

## Where things are

| module | what it holds |
|---|---|
| `service.settings` | configuration, read once from the environment |
| `service.models` | request and response schemas, and the rules each field follows |
| `service.table` | the table and status-index definition, shared with infra and the local tools |
| `service.store` | `EventStore`: every DynamoDB read and write the API makes |
| `service.cursor` | opaque, HMAC-signed pagination cursors |
| `service.errors` | domain errors and their problem+json translation |
| `service.api` | the thin HTTP routes, their dependencies, preconditions and strict JSON |
| `service.field_errors` | validation errors as one public-named entry per invalid input |
| `service.methods` | HEAD, OPTIONS and `Allow`, from the routing table |
| `service.middleware` | request id, body limit, security headers, the request's log line |
| `service.logs` | the JSON log lines CloudWatch keeps |
| `service.app` | `create_app()`: middleware, routers, error handlers, docs pages |
| `service.docs` | `/docs` and `/redoc`, served with no CDN and under any stage prefix |
| `service.handler` | the Lambda entry point: the app behind Mangum, stage-aware `root_path` |
| `service.snapstart` | SnapStart's hooks: warm every route, refresh after a restore |

This package is exactly what the Lambda image runs. Local tooling (the top-level `local`
package: DynamoDB Local, the development server, the API Gateway stand-in) and operator
commands (`tools`: seed, smoke, migrate_shards, `TableAdmin`) live beside it and import
it, never the reverse.
"""
