"""Least privilege: every policy document the program writes, against what the code calls."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import botocore.session

from infra.function import XRAY_ACTIONS
from local.paths import REPO_ROOT
from tests.infra.conftest import Deployment, deploy
from tests.test_image import deployed_sources

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OPERATOR_ACTIONS = {"dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}


def iam_actions(called: set[str]) -> set[str]:
    """The IAM actions that authorise these calls: a transaction is authorised item by
    item, as the PutItem each of its Puts is (the only kind the store sends)."""
    return {
        "dynamodb:PutItem" if action == "dynamodb:TransactWriteItems" else action
        for action in called
    }


def dynamodb_actions_called(sources: Iterable[Path] | None = None) -> set[str]:
    """`dynamodb:<Operation>` for each DynamoDB client method the code (by default, the
    deployed code) calls or hands on to be called.

    A method counts when its receiver's name mentions "client" (`self._client.query(...)`,
    `send(self._client.batch_write_item)`) and it is a DynamoDB operation in botocore's
    service model.
    """
    model = botocore.session.get_session().get_service_model("dynamodb")
    operations = {model.operation_model(name).name: name for name in model.operation_names}
    by_method = {botocore.xform_name(name): name for name in operations}
    called: set[str] = set()
    for path in deployed_sources() if sources is None else sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            receiver = node.value
            receiver_name = (
                receiver.attr
                if isinstance(receiver, ast.Attribute)
                else receiver.id
                if isinstance(receiver, ast.Name)
                else ""
            )
            if "client" in receiver_name.lower() and node.attr in by_method:
                called.add(f"dynamodb:{by_method[node.attr]}")
    return called


def policy_documents(deployment: Deployment) -> list[tuple[str, str, dict[str, Any]]]:
    """(resource type, resource name, document) for every IAM document the program writes."""
    documents = []
    for resource in deployment.resources:
        for key in ("policy", "assumeRolePolicy"):
            text = resource.inputs.get(key)
            if isinstance(text, str) and '"Statement"' in text:
                documents.append((resource.type, resource.name, json.loads(text)))
    return documents


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_the_code_calls_what_the_service_is_known_to_call() -> None:
    # Guards the source walk itself: if it found nothing, every check below would pass.
    assert dynamodb_actions_called() == {
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Scan",
        "dynamodb:Query",
        "dynamodb:TransactWriteItems",
    }


def test_transactions_hold_only_puts() -> None:
    # iam_actions maps a transaction to PutItem: a Delete, Update or ConditionCheck in one
    # would need another grant.
    # Every deployed module that sends one, however many there come to be.
    sources = [p.read_text() for p in deployed_sources()]
    transacting = [source for source in sources if "transact_write_items" in source]
    assert transacting
    kinds = {"Put", "Update", "Delete", "ConditionCheck"}
    used = {
        node.value
        for source in transacting
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and node.value in kinds
    }
    assert used == {"Put"}


def test_operator_calls_are_left_out_only_because_their_code_is_not_deployed() -> None:
    # The walk sees the operator module's batch and describe calls (the batch ones handed
    # on to a retry helper, not called in place); they drop out only with the code the
    # image lacks.
    admin = REPO_ROOT / "tools" / "table_admin.py"
    assert REPO_ROOT / "service" / "store" / "event_store.py" in deployed_sources()
    assert admin not in deployed_sources()
    assert OPERATOR_ACTIONS.issubset(dynamodb_actions_called([admin]))
    assert OPERATOR_ACTIONS.isdisjoint(dynamodb_actions_called())


def test_no_wildcard_action_or_resource_anywhere(stack: Deployment) -> None:
    tracing = stack.stack == "prod"
    documents = policy_documents(stack)
    assert documents, "no policy document found"
    log_group_arns = {
        log_group.state["arn"] for log_group in stack.all("aws:cloudwatch/logGroup:LogGroup")
    }
    for type_, name, document in documents:
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow", (name, statement)
            actions = as_list(statement["Action"])
            assert all("*" not in action for action in actions), (name, statement)
            if type_ != ROLE_POLICY:
                continue  # a trust policy: principals, no resources (checked below)
            for resource in as_list(statement["Resource"]):
                if resource == "*":
                    # The one exception: X-Ray accepts no resource-level permission.
                    assert tracing, (name, statement)
                    assert sorted(actions) == sorted(XRAY_ACTIONS), (name, statement)
                elif "*" in resource:
                    # Only "any stream of this function's own log group".
                    group, _, stream = resource.partition(":log-stream:")
                    assert group in log_group_arns, (name, resource)
                    assert stream == "*", (name, resource)


def test_dynamodb_actions_are_exactly_those_the_code_calls(stack: Deployment) -> None:
    called = iam_actions(dynamodb_actions_called())
    granted: set[str] = set()
    for _, _, document in policy_documents(stack):
        for statement in document["Statement"]:
            granted |= {a for a in as_list(statement["Action"]) if a.startswith("dynamodb:")}

    assert granted - called == set(), "granted but never called"
    assert called - granted == set(), "called but not granted"


def test_dynamodb_access_is_on_the_tables_and_the_index_only(stack: Deployment) -> None:
    table = stack.one("aws:dynamodb/table:Table", "-table")
    table_arn = table.state["arn"]
    index_arns = {
        f"{table_arn}/index/{index['name']}" for index in table.inputs["globalSecondaryIndexes"]
    }
    resources_by_action: dict[str, set[str]] = {}
    for statement in json.loads(stack.one(ROLE_POLICY).inputs["policy"])["Statement"]:
        for action in as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                resources_by_action.setdefault(action, set()).update(as_list(statement["Resource"]))

    keys_arn = stack.one("aws:dynamodb/table:Table", "-keys").state["arn"]
    # The store queries only the index, puts key records in their table (transactions),
    # and reads, writes and scans only the events table.
    assert resources_by_action.pop("dynamodb:Query") == index_arns
    assert resources_by_action.pop("dynamodb:PutItem") == {table_arn, keys_arn}
    assert all(resources == {table_arn} for resources in resources_by_action.values())


def test_logs_go_to_the_functions_own_log_group(stack: Deployment) -> None:
    (policy,) = stack.all(ROLE_POLICY)
    function = stack.one("aws:lambda/function:Function").inputs
    log_group = next(
        group
        for group in stack.all("aws:cloudwatch/logGroup:LogGroup")
        if group.state["name"] == function["loggingConfig"]["logGroup"]
    )
    (statement,) = [
        statement
        for statement in json.loads(policy.inputs["policy"])["Statement"]
        if any(action.startswith("logs:") for action in as_list(statement["Action"]))
    ]

    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == [
        log_group.state["arn"],
        f"{log_group.state['arn']}:log-stream:*",
    ]


def test_xray_write_only_with_tracing(dev: Deployment, prod: Deployment) -> None:
    def xray_granted(deployment: Deployment) -> bool:
        return "xray:" in deployment.one(ROLE_POLICY).inputs["policy"]

    assert dev.one("aws:lambda/function:Function").inputs["tracingConfig"] == {
        "mode": "PassThrough"
    }
    assert not xray_granted(dev)
    assert prod.one("aws:lambda/function:Function").inputs["tracingConfig"] == {"mode": "Active"}
    assert xray_granted(prod)
    assert xray_granted(deploy("dev", {"tracing": "true"}))


def test_roles_are_assumable_by_their_service_only(stack: Deployment) -> None:
    # Only the stack that owns API Gateway's account-wide logging role (prod) has its role.
    owner = bool(stack.all("aws:apigateway/account:Account"))
    principals = set()
    for type_, name, document in policy_documents(stack):
        if type_ != "aws:iam/role:Role":
            continue
        (statement,) = document["Statement"]
        assert statement["Action"] == "sts:AssumeRole", name
        assert set(statement["Principal"]) == {"Service"}, name
        principals.add(statement["Principal"]["Service"])

    assert principals == {"lambda.amazonaws.com"} | (
        {"apigateway.amazonaws.com"} if owner else set()
    )


def test_the_only_managed_policy_is_api_gateways_logging_role(prod: Deployment) -> None:
    stack = prod
    (attachment,) = stack.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    role = next(
        role
        for role in stack.all("aws:iam/role:Role")
        if role.state["name"] == attachment.inputs["role"]
    )

    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    )
    assert "apigateway.amazonaws.com" in role.inputs["assumeRolePolicy"]
    account = stack.one("aws:apigateway/account:Account")
    assert account.inputs["cloudwatchRoleArn"] == role.state["arn"]


def test_a_stack_can_leave_the_account_role_to_another(prod: Deployment) -> None:
    deployment = deploy("prod", {"manageApiGatewayAccount": "false"})

    assert deployment.all("aws:apigateway/account:Account") == []
    assert deployment.all("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    assert len(deployment.all("aws:iam/role:Role")) == len(prod.all("aws:iam/role:Role")) - 1
