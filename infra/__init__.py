"""The Pulumi program that deploys the events API to AWS (run by `pulumi up`, see README).

One module per concern: config (the stack settings), data (the table), image (ECR and
the container image), function (Lambda and its role), api (API Gateway), alarms and waf.
Importing a module creates nothing; infra/__main__.py wires the components together.
"""
