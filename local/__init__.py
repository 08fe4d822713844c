"""Local tooling: DynamoDB Local, the development server. Not shipped in the Lambda image."""
