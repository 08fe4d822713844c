"""The container image: an ECR repository and the image built from the root Dockerfile.

Built with pulumi-docker's `docker.Image` rather than the separate docker-build
provider: it is already in the lock, it builds one platform, which is all Lambda runs,
and it reports the pushed manifest digest (`repoDigest`). It talks to the Docker engine's
build API, which adds no provenance attestation of its own, so the push is a single
image manifest and not the image index Lambda rejects.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from infra.build_context import image_tag

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ServiceImageArgs:
    context: Path  # the Docker build context on disk: the repository root
    dockerfile: Path
    platform: str  # "linux/arm64" or "linux/amd64", the function's architecture
    keep_images: int  # images the lifecycle policy keeps in the repository
    force_delete: bool  # let `pulumi destroy` delete a repository that still holds images
    build_args: Mapping[str, str] = field(default_factory=dict)
    # An image already in the repository to run instead of building (a rollback).
    pinned_image_uri: str | None = None


def lifecycle_policy(keep_images: int) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"keep the last {keep_images} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_images,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def pinned_uri(repository_url: str, repo_digest: str) -> str:
    """`<repository url>@sha256:<digest>`, the one form Lambda accepts that always rolls out.

    Lambda rejects `repo:tag@digest`, and a bare tag would not redeploy a new push.
    """
    digest = repo_digest.rpartition("@")[2]
    if not _DIGEST.match(digest):
        raise ValueError(f"the pushed image has no sha256 digest: {repo_digest!r}")
    return f"{repository_url}@{digest}"


def check_pinned(pinned: str, repository_url: str) -> str:
    if not pinned.startswith(f"{repository_url}@"):
        raise pulumi.RunError(
            f"imageUri {pinned!r} is not in this stack's repository {repository_url}"
        )
    return pinned


def _relative(path: Path) -> str:
    # Relative to the program's working directory, as the docker provider resolves it:
    # an absolute path would differ between machines and make every `up` rebuild.
    return os.path.relpath(path)


class ServiceImage(pulumi.ComponentResource):
    repository: aws.ecr.Repository
    image: docker.Image | None  # None when a pinned image runs instead of a build
    image_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:ServiceImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            force_delete=args.force_delete,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(lifecycle_policy(args.keep_images)),
            opts=child,
        )
        if args.pinned_image_uri:
            pinned = args.pinned_image_uri
            self.image = None
            self.image_uri = self.repository.repository_url.apply(
                lambda url: check_pinned(pinned, url)
            )
        else:
            self.image = self._build(name, args)
            self.image_uri = pulumi.Output.all(
                self.repository.repository_url, self.image.repo_digest
            ).apply(lambda values: pinned_uri(values[0], values[1]))
        self.register_outputs({"imageUri": self.image_uri})

    def _build(self, name: str, args: ServiceImageArgs) -> docker.Image:
        if not args.dockerfile.is_file():
            raise pulumi.RunError(f"no Dockerfile at {args.dockerfile}: the image cannot be built")
        # The tag digests these very settings, so no build setting can change the image
        # without changing its tag.
        build: docker.DockerBuildArgsDict = {
            "context": _relative(args.context),
            "dockerfile": _relative(args.dockerfile),
            "platform": args.platform,
            "args": dict(args.build_args),
        }
        tag = image_tag(args.context, args.dockerfile, build)
        token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id)
        return docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.format("{0}:{1}", self.repository.repository_url, tag),
            build=build,
            registry=docker.RegistryArgs(
                server=self.repository.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
