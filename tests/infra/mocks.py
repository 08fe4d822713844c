"""Pulumi mocks that answer like AWS: every resource gets the computed outputs AWS gives it.

An invoke or a resource type without an answer here fails the run, so a new one cannot
quietly resolve to None. Values are derived from resource names, so runs are repeatable.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from service.table import create_table_request

ACCOUNT = "123456789012"
REGION = "us-east-1"


# How Pulumi's wire format marks a secret value: {SECRET_SIGNATURE_KEY: SECRET_SIG, "value": ...}
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIGNATURE_KEY) == SECRET_SIG


def reveal(value: Any) -> Any:
    """The value with every secret wrapper removed."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


@dataclass(frozen=True)
class Registered:
    """One resource as the program declared it."""

    type: str
    name: str
    id: str  # the physical id, as AWS would assign it
    raw_inputs: dict[str, Any]  # as sent, secrets still wrapped
    state: dict[str, Any]  # inputs plus the outputs the mocks computed
    options: dict[str, Any]  # protect, retainOnDelete, dependencies (URNs)

    @property
    def inputs(self) -> dict[str, Any]:
        """The resolved inputs, secrets revealed."""
        return reveal(self.raw_inputs)  # type: ignore[no-any-return]


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _autoname(args: pulumi.runtime.MockResourceArgs) -> str:
    """Pulumi's auto-naming: the given name, or a prefix or the resource name plus a suffix."""
    inputs = args.inputs
    if inputs.get("name"):
        return str(inputs["name"])
    prefix = inputs.get("namePrefix") or f"{args.name}-"
    return f"{prefix}{_hex(args.name, 7)}"


def _computed(args: pulumi.runtime.MockResourceArgs, published: int) -> dict[str, Any]:
    """The outputs AWS (or the provider) computes for each resource type the program uses;
    a function that publishes versions has published `published` so far."""
    inputs, name = args.inputs, _autoname(args)
    arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
    match args.typ:
        case "aws:ecr/repository:Repository":
            return {
                "name": name,
                "arn": arn.format("ecr", f"repository/{name}"),
                "registryId": ACCOUNT,
                "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}",
            }
        case "aws:ecr/lifecyclePolicy:LifecyclePolicy":
            return {"registryId": ACCOUNT}
        case "docker:index/image:Image":
            image_name = inputs["imageName"]
            repository = image_name.rsplit(":", 1)[0]
            digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
            return {
                "repoDigest": f"{repository}@sha256:{digest}",
                "baseImageName": image_name,
                "registryServer": repository.split("/", 1)[0],
                "platform": inputs["build"]["platform"],
                "context": inputs["build"]["context"],
                "dockerfile": inputs["build"]["dockerfile"],
            }
        case "aws:dynamodb/table:Table":
            return {
                "name": name,
                "arn": arn.format("dynamodb", f"table/{name}"),
            }
        case "aws:cloudwatch/logGroup:LogGroup":
            return {"name": name, "arn": arn.format("logs", f"log-group:{name}")}
        case "aws:iam/role:Role":
            return {
                "name": name,
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
                "uniqueId": f"AROA{_hex(name, 16).upper()}",
            }
        case "aws:iam/rolePolicy:RolePolicy":
            return {"name": name}
        case "random:index/randomPassword:RandomPassword":
            result = _hex(args.name, 64)[: int(inputs["length"])]
            return {"result": result, "bcryptHash": f"$2a$10${_hex(result, 53)}"}
        case "aws:lambda/function:Function":
            function_arn = arn.format("lambda", f"function:{name}")
            version = str(published) if inputs.get("publish") else "$LATEST"
            return {
                "name": name,
                "arn": function_arn,
                "qualifiedArn": f"{function_arn}:{version}",
                "invokeArn": _invoke_arn(function_arn),
                "version": version,
            }
        case "aws:lambda/alias:Alias":
            alias_arn = f"{inputs['functionName']}:{inputs['name']}"
            alias_arn = arn.format("lambda", f"function:{alias_arn}")
            return {"arn": alias_arn, "invokeArn": _invoke_arn(alias_arn)}
        case "aws:apigateway/restApi:RestApi":
            return {
                "id": _hex(name, 10),
                "name": name,
                "rootResourceId": _hex(f"{name}/root", 10),
                "executionArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{_hex(name, 10)}",
                "arn": f"arn:aws:apigateway:{REGION}::/restapis/{_hex(name, 10)}",
            }
        case "aws:apigateway/resource:Resource":
            return {"path": f"/{inputs['pathPart']}"}
        case "aws:apigateway/stage:Stage":
            api_id, stage = inputs["restApi"], inputs["stageName"]
            return {
                "arn": f"arn:aws:apigateway:{REGION}::/restapis/{api_id}/stages/{stage}",
                "invokeUrl": f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stage}",
                "executionArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/{stage}",
            }
        case "aws:apigateway/apiKey:ApiKey":
            return {
                "name": name,
                "value": _hex(f"{name}/value", 40),
                "arn": f"arn:aws:apigateway:{REGION}::/apikeys/{_hex(name, 10)}",
            }
        case "aws:apigateway/usagePlan:UsagePlan":
            return {"name": name, "arn": f"arn:aws:apigateway:{REGION}::/usageplans/{name}"}
        case "aws:sns/topic:Topic":
            return {"name": name, "arn": arn.format("sns", name)}
        case "aws:sns/topicSubscription:TopicSubscription":
            return {"arn": arn.format("sns", f"{name}:{_hex(name, 8)}")}
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return {"name": name, "arn": arn.format("cloudwatch", f"alarm:{name}")}
        case "aws:wafv2/webAcl:WebAcl":
            return {
                "name": name,
                "arn": arn.format("wafv2", f"regional/webacl/{name}/{_hex(name, 8)}"),
                "capacity": 1000,
            }
        case (
            "aws:apigateway/method:Method"
            | "aws:apigateway/integration:Integration"
            | "aws:apigateway/deployment:Deployment"
            | "aws:apigateway/methodSettings:MethodSettings"
            | "aws:apigateway/account:Account"
            | "aws:apigateway/usagePlanKey:UsagePlanKey"
            | "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
            | "aws:lambda/permission:Permission"
            | "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
            | "aws:wafv2/webAclAssociation:WebAclAssociation"
        ):
            return {}
    raise NotImplementedError(f"the mocks have no outputs for {args.typ} ({args.name})")


def _invoke_arn(function_arn: str) -> str:
    return (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


def _existing_table(name: str) -> dict[str, Any]:
    """getTable's answer: a table restored from the events table, or, named "wrong-...",
    a table of some other shape: "wrong-key-..." another partition key only,
    "wrong-index-..." no status index only, any other "wrong-..." both."""
    request = create_table_request(name)
    if name.startswith("wrong-") and not name.startswith("wrong-index-"):
        request["KeySchema"] = [{"AttributeName": "id", "KeyType": "HASH"}]
    if name.startswith("wrong-") and not name.startswith("wrong-key-"):
        request["GlobalSecondaryIndexes"] = []
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
        "hashKey": request["KeySchema"][0]["AttributeName"],
        "rangeKey": "",
        "billingMode": request["BillingMode"],
        "attributes": [
            {"name": a["AttributeName"], "type": a["AttributeType"]}
            for a in request["AttributeDefinitions"]
        ],
        "globalSecondaryIndexes": [
            {
                "name": index["IndexName"],
                "hashKey": "",
                "rangeKey": "",
                "keySchemas": [
                    {"attributeName": key["AttributeName"], "keyType": key["KeyType"]}
                    for key in index["KeySchema"]
                ],
                "projectionType": index["Projection"]["ProjectionType"],
                "nonKeyAttributes": [],
                "onDemandThroughputs": [],
                "warmThroughputs": [],
                "readCapacity": 0,
                "writeCapacity": 0,
            }
            for index in request["GlobalSecondaryIndexes"]
        ],
        "localSecondaryIndexes": [],
        "deletionProtectionEnabled": True,
        "pointInTimeRecovery": {"enabled": True, "recoveryPeriodInDays": 35},
        "serverSideEncryption": {"enabled": True, "kmsKeyArn": ""},
    }


class AwsMocks(pulumi.runtime.Mocks):
    """`pushed` is the ECR repositories that exist, by name, each with its images by tag;
        a repository named in `refused` answers AccessDenied to a listing of its images, and
    "*" in `refused` to the listing of repositories. `published` is the
        number of versions a function that publishes has published, this deploy's included."""

    def __init__(
        self,
        pushed: dict[str, dict[str, str]] | None = None,
        refused: tuple[str, ...] = (),
        published: int = 1,
    ) -> None:
        self.registered: list[Registered] = []
        self.options: dict[tuple[str, str], dict[str, Any]] = {}
        self.pushed = pushed or {}
        self.refused = refused
        self.published = published
        self.invokes: list[str] = []

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:  # a ComponentResource: nothing to compute
            return f"{args.name}-component", {}
        computed = _computed(args, self.published)
        physical_id = str(computed.pop("id", None) or computed.get("name") or _hex(args.name, 12))
        state = {**args.inputs, **computed}
        options = self.options.get((args.typ, args.name), {})
        self.registered.append(
            Registered(args.typ, args.name, physical_id, dict(args.inputs), state, options)
        )
        return physical_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append(args.token)
        match args.token:
            case "aws:ecr/getRepositories:getRepositories":
                if "*" in self.refused:
                    return {}, [("", _access_denied("ecr:DescribeRepositories"))]
                return {"id": REGION, "names": sorted(self.pushed), "region": REGION}, []
            case "aws:ecr/getImages:getImages":
                name = str(args.args["repositoryName"])
                if name in self.refused:
                    return {}, [("", _access_denied("ecr:ListImages"))]
                if name not in self.pushed:  # as AWS answers for a missing repository
                    return {}, [("repositoryName", f"RepositoryNotFoundException: {name}")]
                image_ids = [
                    {"imageDigest": digest, "imageTag": tag}
                    for tag, digest in self.pushed[name].items()
                ]
                return {"id": name, "repositoryName": name, "imageIds": image_ids}, []
            case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                password = "mock-ecr-password"
                return {
                    "id": REGION,
                    "registryId": args.args.get("registryId", ACCOUNT),
                    "userName": "AWS",
                    "password": password,
                    "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
                    "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
                    "expiresAt": "2030-01-01T00:00:00Z",
                }, []
            case "aws:dynamodb/getTable:getTable":
                return _existing_table(str(args.args["name"])), []
            case "aws:index/getPartition:getPartition":
                return {
                    "id": "aws",
                    "partition": "aws",
                    "dnsSuffix": "amazonaws.com",
                    "reverseDnsPrefix": "com.amazonaws",
                }, []
        raise NotImplementedError(f"the mocks do not answer the invoke {args.token}")


# A failed invoke comes back from the engine as failures, which the SDK raises in the
# program as "invoke of <token> failed: <reason>": a mock that raised instead would
# fail the whole run whatever the program does with the error.
def _access_denied(action: str) -> str:
    return (
        f"operation error ECR: {action.split(':')[1]}, https response error StatusCode: 400, "
        f"AccessDeniedException: User is not authorized to perform: {action}"
    )


class RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping the resource options each registration carries."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.aws_mocks = mocks

    def RegisterResource(self, request: Any) -> Any:
        self.aws_mocks.options[(request.type, request.name)] = {
            "protect": request.protect,
            "retainOnDelete": request.retainOnDelete,
            "dependencies": list(request.dependencies),
        }
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]
