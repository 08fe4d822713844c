"""Alarms on the signals that mean users see failures, sent to one SNS topic.

Lambda errors and throttles, the function's p99 duration against its timeout, API 5xx
responses, and DynamoDB throttling of any call the service makes. Missing data counts
as fine: a quiet API is not an incident. They notify the stack's own topic (with an
e-mail subscription when alarmEmail is set) or an existing topic (alarmTopicArn);
infra/stack_settings.py refuses a stack with neither unless it opts out (silentAlarms).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.function import DYNAMODB_OPERATIONS
from infra.stack_settings import AlarmSettings

PERIOD_SECONDS = 300
# Alarm when p99 reaches this share of the timeout, before requests start timing out.
DURATION_SHARE_OF_TIMEOUT = 0.8
API_5XX_PER_PERIOD = 5


@dataclass(frozen=True)
class AlarmsArgs:
    function_name: pulumi.Input[str]
    function_timeout: int
    api_name: pulumi.Input[str]
    stage_name: str
    table_name: pulumi.Input[str]
    notify: AlarmSettings


class Alarms(pulumi.ComponentResource):
    topic: aws.sns.Topic | None  # None when the alarms go to an existing topic
    topic_arn: pulumi.Output[str]
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(
        self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.notify.alarm_topic_arn:
            self.topic = None
            self.topic_arn = pulumi.Output.from_input(args.notify.alarm_topic_arn)
        else:
            # Not encrypted with the AWS-managed SNS key: CloudWatch cannot publish to a
            # topic under that key, whose policy cannot grant it access.
            self.topic = aws.sns.Topic(f"{name}-alarms", opts=child)
            self.topic_arn = self.topic.arn
        if args.notify.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-alarm-email",
                topic=self.topic_arn,
                protocol="email",
                endpoint=args.notify.alarm_email,
                opts=child,
            )
        function = {"FunctionName": args.function_name}
        self.alarms = [
            self._alarm(
                f"{name}-lambda-errors",
                "The function failed invocations (unhandled errors, timeouts, crashes).",
                namespace="AWS/Lambda",
                metric_name="Errors",
                dimensions=function,
                statistic="Sum",
                threshold=1,
            ),
            self._alarm(
                f"{name}-lambda-throttles",
                "Invocations were throttled: concurrency is exhausted.",
                namespace="AWS/Lambda",
                metric_name="Throttles",
                dimensions=function,
                statistic="Sum",
                threshold=1,
            ),
            self._alarm(
                f"{name}-lambda-duration-p99",
                "p99 duration is close to the function timeout.",
                namespace="AWS/Lambda",
                metric_name="Duration",
                dimensions=function,
                extended_statistic="p99",
                threshold=args.function_timeout * 1000 * DURATION_SHARE_OF_TIMEOUT,
            ),
            self._alarm(
                f"{name}-api-5xx",
                "The API answered with server errors.",
                namespace="AWS/ApiGateway",
                metric_name="5XXError",
                dimensions={"ApiName": args.api_name, "Stage": args.stage_name},
                statistic="Sum",
                threshold=API_5XX_PER_PERIOD,
            ),
            self._alarm(
                f"{name}-dynamodb-throttles",
                "DynamoDB throttled requests of the service.",
                metric_queries=dynamodb_throttled_requests(args.table_name),
                threshold=1,
            ),
        ]
        self.register_outputs({"topicArn": self.topic_arn})

    def _alarm(
        self,
        name: str,
        description: str,
        *,
        threshold: float,
        namespace: str | None = None,
        metric_name: str | None = None,
        dimensions: dict[str, pulumi.Input[str]] | None = None,
        statistic: str | None = None,
        extended_statistic: str | None = None,
        metric_queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] | None = None,
    ) -> aws.cloudwatch.MetricAlarm:
        """An alarm on one metric, or on metric_queries; every alarm fires, treats missing
        data and notifies alike."""
        return aws.cloudwatch.MetricAlarm(
            name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic=statistic,
            extended_statistic=extended_statistic,
            # Each metric query carries its own period; with metric_queries the provider
            # refuses a period (or metric, namespace, statistic) on the alarm itself.
            period=None if metric_queries else PERIOD_SECONDS,
            metric_queries=metric_queries,
            evaluation_periods=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=threshold,
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
            opts=pulumi.ResourceOptions(parent=self),
        )


def dynamodb_throttled_requests(
    table_name: pulumi.Input[str],
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
    """ThrottledRequests of the table, summed over the operations the service calls.

    The metric exists only per (TableName, Operation).
    """
    queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = [
        {
            "id": f"m{position}",
            "return_data": False,
            "metric": {
                "namespace": "AWS/DynamoDB",
                "metric_name": "ThrottledRequests",
                "dimensions": {"TableName": table_name, "Operation": operation},
                "period": PERIOD_SECONDS,
                "stat": "Sum",
            },
        }
        for position, operation in enumerate(DYNAMODB_OPERATIONS)
    ]
    queries.append(
        {
            "id": "throttled",
            "expression": "SUM(METRICS())",
            "label": "DynamoDB requests throttled",
            "return_data": True,
        }
    )
    return queries
