"""AWS WAF in front of the API stage: AWS managed rules plus a per-IP rate limit.

The two managed rule groups block common exploit patterns (the core rule set: oversized
bodies, cross-site scripting, path traversal...) and inputs known to be malicious (Log4j
lookups, Java deserialization...). The rate rule blocks an IP address that sends more
than the configured number of requests in five minutes. Every rule records CloudWatch
metrics and samples of the requests it matched.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
RATE_WINDOW_SECONDS = 300


def _visibility(metric_name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgsDict:
    return {
        "cloudwatch_metrics_enabled": True,
        "sampled_requests_enabled": True,
        "metric_name": metric_name,
    }


def web_acl_rules(rate_limit: int) -> list[aws.wafv2.WebAclRuleArgsDict]:
    # The rate rule comes first, so a flood is cut before the managed rules spend work on it.
    rules: list[aws.wafv2.WebAclRuleArgsDict] = [
        {
            "name": "rate-limit-per-ip",
            "priority": 0,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "limit": rate_limit,
                    "aggregate_key_type": "IP",
                    "evaluation_window_sec": RATE_WINDOW_SECONDS,
                }
            },
            "visibility_config": _visibility("rate-limit-per-ip"),
        }
    ]
    for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
        rules.append(
            {
                "name": group,
                "priority": priority,
                # "none" keeps the group's own block actions.
                "override_action": {"none": {}},
                "statement": {
                    "managed_rule_group_statement": {"vendor_name": "AWS", "name": group}
                },
                "visibility_config": _visibility(group),
            }
        )
    return rules


@dataclass(frozen=True)
class WebFirewallArgs:
    stage_arn: pulumi.Input[str]
    rate_limit: int  # requests per IP per five minutes


class WebFirewall(pulumi.ComponentResource):
    web_acl: aws.wafv2.WebAcl

    def __init__(
        self, name: str, args: WebFirewallArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:WebFirewall", name, None, opts)
        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-web-acl",
            # REGIONAL is the scope for API Gateway stages (CLOUDFRONT is for distributions).
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=web_acl_rules(args.rate_limit),
            visibility_config=_visibility(f"{name}-web-acl"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.wafv2.WebAclAssociation(
            f"{name}-web-acl-association",
            resource_arn=args.stage_arn,
            web_acl_arn=self.web_acl.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"webAclArn": self.web_acl.arn})
