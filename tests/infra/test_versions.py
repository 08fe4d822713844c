"""Versions and the `live` alias: every deploy publishes, API Gateway invokes `live`, a
setting pins it or splits it for a canary, provisioned concurrency and SnapStart sit on it."""

from __future__ import annotations

import pulumi
import pytest

from infra.setting_types import ConfigError
from tests.infra.conftest import Deployment, deploy
from tests.infra.mocks import AwsMocks

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
PROVISIONED = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"


def history(published: int) -> AwsMocks:
    """A stack whose function has `published` versions, this deploy's the newest."""
    return AwsMocks(published=published)


def test_each_deploy_publishes_and_live_serves_the_newest(stack: Deployment) -> None:
    function = stack.one(FUNCTION)
    alias = stack.one(ALIAS).inputs

    assert function.inputs["publish"] is True
    assert alias["name"] == "live"
    assert alias["functionName"] == function.state["name"]
    assert alias["functionVersion"] == function.state["version"] == "1"
    assert alias["routingConfig"] == {"additionalVersionWeights": {}}
    assert stack.outputs["publishedVersion"] == stack.outputs["liveVersion"] == "1"


def test_a_pinned_version_serves_all_traffic_whatever_was_published() -> None:
    deployment = deploy("dev", {"liveVersion": "5"}, history(7))

    alias = deployment.one(ALIAS).inputs
    assert alias["functionVersion"] == "5"
    assert alias["routingConfig"] == {"additionalVersionWeights": {}}
    assert deployment.outputs["publishedVersion"] == "7"
    assert deployment.outputs["liveVersion"] == "5"


def test_a_canary_sends_its_share_to_the_new_version_and_the_rest_to_the_pinned_one() -> None:
    deployment = deploy("prod", {"liveVersion": "6", "canaryPercent": "10"}, history(7))

    alias = deployment.one(ALIAS).inputs
    assert alias["functionVersion"] == "6"
    assert alias["routingConfig"] == {"additionalVersionWeights": {"7": 0.1}}


def test_a_version_not_yet_published_cannot_be_pinned() -> None:
    with pytest.raises(
        pulumi.RunError, match=r"^liveVersion 9 is not a published version: the newest is 7$"
    ):
        deploy("dev", {"liveVersion": "9"}, history(7))


def test_a_canary_needs_a_version_newer_than_the_pinned_one() -> None:
    with pytest.raises(pulumi.RunError, match=r"^canaryPercent 10 has no new version"):
        deploy("dev", {"liveVersion": "7", "canaryPercent": "10"}, history(7))


def test_a_canary_needs_a_pinned_version() -> None:
    with pytest.raises(ConfigError, match=r"canaryPercent 10 needs events-api:liveVersion"):
        deploy("dev", {"canaryPercent": "10"})


def test_provisioned_concurrency_keeps_live_warm_in_prod_and_none_in_dev(
    dev: Deployment, prod: Deployment
) -> None:
    assert dev.all(PROVISIONED) == []

    provisioned = prod.one(PROVISIONED).inputs
    assert provisioned["functionName"] == prod.outputs["functionName"]
    assert provisioned["qualifier"] == "live"
    assert provisioned["provisionedConcurrentExecutions"] == 2


def test_snapstart_is_off_unless_set(stack: Deployment) -> None:
    assert "snapStart" not in stack.one(FUNCTION).inputs


def test_snapstart_applies_to_published_versions() -> None:
    deployment = deploy("dev", {"snapStart": "true"})

    assert deployment.one(FUNCTION).inputs["snapStart"] == {"applyOn": "PublishedVersions"}
    assert deployment.all(PROVISIONED) == []


def test_snapstart_with_provisioned_concurrency_is_refused() -> None:
    # prod ships provisionedConcurrency 2: turning SnapStart on alone is refused.
    with pytest.raises(ConfigError) as error:
        deploy("prod", {"snapStart": "true"})

    assert str(error.value) == (
        "events-api:snapStart true cannot go with events-api:provisionedConcurrency 2: AWS "
        "refuses SnapStart on a function with provisioned concurrency; set one of the two "
        "(provisionedConcurrency 0, or snapStart false)"
    )


def test_snapstart_in_prod_once_provisioned_concurrency_is_off() -> None:
    deployment = deploy("prod", {"snapStart": "true", "provisionedConcurrency": "0"})

    assert deployment.one(FUNCTION).inputs["snapStart"] == {"applyOn": "PublishedVersions"}
    assert deployment.all(PROVISIONED) == []
