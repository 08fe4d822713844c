"""AWS WAF: in front of prod's stage, absent from dev, driven by the enableWaf setting."""

from __future__ import annotations

from infra.waf import MANAGED_RULE_GROUPS
from tests.infra.conftest import Deployment, deploy

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"


def test_prod_stage_is_behind_a_regional_web_acl(prod: Deployment) -> None:
    acl = prod.one(WEB_ACL)
    association = prod.one(ASSOCIATION).inputs

    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    assert association["resourceArn"] == prod.one("aws:apigateway/stage:Stage").state["arn"]
    assert association["webAclArn"] == acl.state["arn"]
    assert prod.outputs["webAclArn"] == acl.state["arn"]


def test_managed_rule_groups_keep_their_own_actions(prod: Deployment) -> None:
    rules = {rule["name"]: rule for rule in prod.one(WEB_ACL).inputs["rules"]}

    for group in MANAGED_RULE_GROUPS:
        assert rules[group]["statement"] == {
            "managedRuleGroupStatement": {"vendorName": "AWS", "name": group}
        }
        assert rules[group]["overrideAction"] == {"none": {}}
    assert set(MANAGED_RULE_GROUPS) == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
    }


def test_the_rate_rule_blocks_per_ip_over_five_minutes(prod: Deployment) -> None:
    rules = {rule["name"]: rule for rule in prod.one(WEB_ACL).inputs["rules"]}
    rate = rules["rate-limit-per-ip"]

    assert rate["statement"]["rateBasedStatement"] == {
        "limit": 2000,  # Pulumi.prod.yaml's wafRateLimit
        "aggregateKeyType": "IP",
        "evaluationWindowSec": 300,
    }
    assert rate["action"] == {"block": {}}
    assert sorted(rule["priority"] for rule in rules.values()) == [0, 1, 2]
    assert rate["priority"] == 0


def test_metrics_and_sampled_requests_everywhere(prod: Deployment) -> None:
    acl = prod.one(WEB_ACL).inputs
    configs = [acl["visibilityConfig"]] + [rule["visibilityConfig"] for rule in acl["rules"]]

    for config in configs:
        assert config["cloudwatchMetricsEnabled"] is True
        assert config["sampledRequestsEnabled"] is True
        assert config["metricName"]
    assert len({config["metricName"] for config in configs}) == len(configs)


def test_dev_has_no_web_acl(dev: Deployment) -> None:
    assert dev.all(WEB_ACL) == []
    assert dev.all(ASSOCIATION) == []
    assert "webAclArn" not in dev.outputs


def test_the_setting_alone_turns_it_on() -> None:
    deployment = deploy("dev", {"enableWaf": "true", "wafRateLimit": "500"})

    acl = deployment.one(WEB_ACL).inputs
    (rate,) = [rule for rule in acl["rules"] if "rateBasedStatement" in rule["statement"]]
    assert rate["statement"]["rateBasedStatement"]["limit"] == 500
    assert deployment.one(ASSOCIATION).inputs["resourceArn"].endswith("/stages/dev")
