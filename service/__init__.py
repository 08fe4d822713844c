"""events-api: an events-management REST API on DynamoDB, served by FastAPI on AWS Lambda.

Data flows one way: HTTP request -> `service.api.events` (thin routes) ->
`service.store.EventStore` (the only code that knows DynamoDB) -> DynamoDB.
"""
