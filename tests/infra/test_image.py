"""The image: ECR repository, build for the configured architecture, pinned by digest, and
no build when the tag is already pushed (a revert)."""

from __future__ import annotations

import json
import os
import re

import pulumi
import pytest

from infra.build_context import image_tag
from infra.image import pinned_uri
from infra.stack_settings import PLATFORMS
from local.paths import REPO_ROOT
from tests.infra.conftest import Deployment, deploy
from tests.infra.mocks import ACCOUNT, REGION, AwsMocks, is_secret

REPOSITORY = "aws:ecr/repository:Repository"
IMAGE = "docker:index/image:Image"
FUNCTION = "aws:lambda/function:Function"
PINNED = re.compile(r"^[^:@]+@sha256:[0-9a-f]{64}$")


def test_the_function_runs_the_pushed_image_by_digest(stack: Deployment) -> None:
    image_uri = stack.one(FUNCTION).inputs["imageUri"]
    repository_url = stack.one(REPOSITORY).state["repositoryUrl"]
    repo_digest = stack.one(IMAGE).state["repoDigest"]

    assert PINNED.match(image_uri)
    assert image_uri == f"{repository_url}@{repo_digest.rpartition('@')[2]}"
    assert stack.outputs["imageUri"] == image_uri


def test_one_architecture_setting_drives_build_and_function(stack: Deployment) -> None:
    architectures = stack.one(FUNCTION).inputs["architectures"]
    platform = stack.one(IMAGE).inputs["build"]["platform"]

    assert architectures == ["arm64"]
    assert platform == PLATFORMS["arm64"] == "linux/arm64"


def test_x86_64_builds_and_runs_amd64() -> None:
    deployment = deploy("dev", {"architecture": "x86_64"})

    assert deployment.one(FUNCTION).inputs["architectures"] == ["x86_64"]
    assert deployment.one(IMAGE).inputs["build"]["platform"] == "linux/amd64"
    assert deployment.one(IMAGE).inputs["build"]["args"] == {"LAMBDA_ARCH": "x86_64"}


def test_the_dockerfile_takes_the_architecture_the_program_passes(stack: Deployment) -> None:
    # The function stage is FROM --platform=linux/${LAMBDA_ARCH}: the build argument, not
    # only --platform, decides what the function stage runs on.
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    build_args = stack.one(IMAGE).inputs["build"]["args"]

    assert build_args == {"LAMBDA_ARCH": "arm64"}
    for name in build_args:
        assert re.search(rf"^ARG {name}\b", dockerfile, re.MULTILINE), name
    assert re.search(r"^FROM --platform=linux/\$\{LAMBDA_ARCH\}", dockerfile, re.MULTILINE)


def test_a_pinned_image_runs_without_a_build(dev: Deployment) -> None:
    repository_url = dev.one(REPOSITORY).state["repositoryUrl"]
    pinned = f"{repository_url}@sha256:{'b' * 64}"

    deployment = deploy("dev", {"imageUri": pinned})

    assert deployment.all(IMAGE) == []
    assert deployment.one(FUNCTION).inputs["imageUri"] == pinned
    assert deployment.outputs["imageUri"] == pinned


def test_a_pinned_image_must_come_from_the_stacks_repository() -> None:
    foreign = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/elsewhere@sha256:{'b' * 64}"

    with pytest.raises(pulumi.RunError, match="not in this stack's repository"):
        deploy("dev", {"imageUri": foreign})


def test_the_image_is_built_from_the_root_dockerfile_and_pushed_to_the_repository(
    stack: Deployment,
) -> None:
    image = stack.one(IMAGE)
    build = image.inputs["build"]
    repository_url = stack.one(REPOSITORY).state["repositoryUrl"]

    assert os.path.realpath(build["context"]) == str(REPO_ROOT)
    assert os.path.realpath(build["dockerfile"]) == str(REPO_ROOT / "Dockerfile")
    # The tag is the content digest of exactly this build.
    tag = image_tag(
        REPO_ROOT,
        REPO_ROOT / "Dockerfile",
        {
            "context": build["context"],
            "dockerfile": build["dockerfile"],
            "platform": build["platform"],
            "args": build["args"],
        },
    )
    assert image.inputs["imageName"] == f"{repository_url}:{tag}"
    assert image.inputs.get("skipPush") is False


def test_the_push_uses_the_ecr_authorization_token(stack: Deployment) -> None:
    image = stack.one(IMAGE)
    registry = image.inputs["registry"]

    assert registry["server"] == stack.one(REPOSITORY).state["repositoryUrl"]
    assert registry["username"] == "AWS"
    assert registry["password"] == "mock-ecr-password"  # what the token invoke answered
    assert is_secret(image.raw_inputs["registry"])


def test_the_repository_scans_keeps_tags_and_expires_old_images(
    dev: Deployment, prod: Deployment
) -> None:
    for deployment, keep, force_delete in ((dev, 3, True), (prod, 10, False)):
        repository = deployment.one(REPOSITORY).inputs
        assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repository["imageTagMutability"] == "IMMUTABLE"
        assert repository["forceDelete"] is force_delete

        lifecycle = deployment.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs
        assert lifecycle["repository"] == deployment.one(REPOSITORY).state["name"]
        (rule,) = json.loads(lifecycle["policy"])["rules"]
        assert rule["selection"] == {
            "tagStatus": "any",
            "countType": "imageCountMoreThan",
            "countNumber": keep,
        }
        assert rule["action"] == {"type": "expire"}


def test_a_digest_is_required() -> None:
    url = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/events"

    assert pinned_uri(url, f"{url}@sha256:{'a' * 64}") == f"{url}@sha256:{'a' * 64}"
    with pytest.raises(ValueError, match="no sha256 digest"):
        pinned_uri(url, f"{url}:latest")


# A revert brings back a build context whose tag is still in the repository.

OLD_DIGEST = f"sha256:{'c' * 64}"


def built_tag(deployment: Deployment) -> str:
    return str(deployment.one(IMAGE).inputs["imageName"]).rpartition(":")[2]


def test_the_repository_is_named_after_the_stack(stack: Deployment) -> None:
    assert stack.one(REPOSITORY).inputs["name"] == f"events-{stack.stack}"


def test_a_tag_already_pushed_is_deployed_by_its_digest_without_a_build(dev: Deployment) -> None:
    tag = built_tag(dev)
    mocks = AwsMocks(pushed={"events-dev": {"older": f"sha256:{'d' * 64}", tag: OLD_DIGEST}})

    deployment = deploy("dev", mocks=mocks)

    repository_url = deployment.one(REPOSITORY).state["repositoryUrl"]
    assert deployment.all(IMAGE) == []
    assert deployment.one(FUNCTION).inputs["imageUri"] == f"{repository_url}@{OLD_DIGEST}"
    assert deployment.outputs["imageUri"] == f"{repository_url}@{OLD_DIGEST}"
    assert "aws:ecr/getAuthorizationToken:getAuthorizationToken" not in mocks.invokes


def test_a_tag_not_in_the_repository_is_built_and_pushed(dev: Deployment) -> None:
    mocks = AwsMocks(pushed={"events-dev": {"0123456789abcdef": OLD_DIGEST}})

    deployment = deploy("dev", mocks=mocks)

    image = deployment.one(IMAGE)
    assert built_tag(deployment) == built_tag(dev)
    assert (
        deployment.one(FUNCTION)
        .inputs["imageUri"]
        .endswith(image.state["repoDigest"].rpartition("@")[2])
    )
    assert "aws:ecr/getImages:getImages" in mocks.invokes


def test_the_first_deploy_builds_without_asking_for_images_of_a_missing_repository() -> None:
    mocks = AwsMocks(pushed={"events-prod": {}})  # another stack's repository only

    deployment = deploy("dev", mocks=mocks)

    assert len(deployment.all(IMAGE)) == 1
    assert "aws:ecr/getRepositories:getRepositories" in mocks.invokes
    assert "aws:ecr/getImages:getImages" not in mocks.invokes


@pytest.mark.parametrize("refused", ["events-dev", "*"], ids=["list-images", "list-repositories"])
def test_a_failed_lookup_stops_the_program_before_any_build(refused: str) -> None:
    mocks = AwsMocks(pushed={"events-dev": {}}, refused=(refused,))

    with pytest.raises(pulumi.RunError) as error:
        deploy("dev", mocks=mocks)

    message = str(error.value)
    assert message.startswith("cannot tell whether the image events-dev:")
    assert "AccessDeniedException" in message
    assert message.endswith(
        "the deploying identity needs ecr:DescribeRepositories and ecr:ListImages"
    )
    assert IMAGE not in {resource.type for resource in mocks.registered}


def test_previews_build_the_image(stack: Deployment) -> None:
    # A pull request's preview builds it, so a broken Dockerfile fails there.
    assert stack.one(IMAGE).inputs["buildOnPreview"] is True
