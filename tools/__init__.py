"""Operator commands run from a laptop or CI, not shipped in the Lambda image."""
