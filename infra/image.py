"""The container image: an ECR repository and the image built from the root Dockerfile.

Built with pulumi-docker's `docker.Image` rather than the separate docker-build
provider: it is already in the lock, it builds one platform, which is all Lambda runs,
and it reports the pushed manifest digest (`repoDigest`). It talks to the Docker engine's
build API, which adds no provenance attestation of its own, so the push is a single
image manifest and not the image index Lambda rejects.

The tag is a digest of the build context (infra/build_context.py) and the repository's
tags are immutable. When the tag is already there (a revert brings back a context that
was built before), the program deploys that image by its digest and builds nothing:
Docker builds are not byte-identical, so a rebuild would push a different image to an
existing tag, which ECR refuses.
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
# ECR's rule for repository names.
_REPOSITORY_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


@dataclass(frozen=True)
class ServiceImageArgs:
    # Named, not generated: the program looks the tag up in it before the update runs.
    repository_name: str
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


def pushed_digest(repository_name: str, tag: str) -> str | None:
    """The digest of the image already pushed as `tag`, or None when there is none yet.

    Asked at program time, so `pulumi preview` already shows whether the image is built.
    A failed lookup stops the program: building blind could end in ECR refusing the push
    of an existing tag after the build.
    """
    try:
        # Listing the names rather than asking for the one repository: a repository that
        # does not exist yet (the stack's first update) is an answer, not an error.
        if repository_name not in aws.ecr.get_repositories().names:
            return None
        images = aws.ecr.get_images(repository_name=repository_name).image_ids
    except Exception as error:  # the provider's invoke failure carries AWS's message
        raise pulumi.RunError(
            f"cannot tell whether the image {repository_name}:{tag} is already pushed "
            f"({error}); the deploying identity needs ecr:DescribeRepositories and "
            "ecr:ListImages"
        ) from None
    digests = sorted({image.image_digest for image in images if image.image_tag == tag})
    return digests[0] if digests else None


def _relative(path: Path) -> str:
    # Relative to the program's working directory, as the docker provider resolves it:
    # an absolute path would differ between machines and make every `up` rebuild.
    return os.path.relpath(path)


class ServiceImage(pulumi.ComponentResource):
    repository: aws.ecr.Repository
    image: docker.Image | None  # None when a pinned or already pushed image runs
    image_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:ServiceImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not _REPOSITORY_NAME.match(args.repository_name):
            raise pulumi.RunError(
                f"{args.repository_name!r} cannot name an ECR repository: use a stack name "
                "of lower-case letters and digits separated by single '-', '_' or '.'"
            )
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
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
            if not args.dockerfile.is_file():
                raise pulumi.RunError(
                    f"no Dockerfile at {args.dockerfile}: the image cannot be built"
                )
            # The tag digests these very settings, so no build setting can change the
            # image without changing its tag.
            build: docker.DockerBuildArgsDict = {
                "context": _relative(args.context),
                "dockerfile": _relative(args.dockerfile),
                "platform": args.platform,
                "args": dict(args.build_args),
            }
            tag = image_tag(args.context, args.dockerfile, build)
            digest = pushed_digest(args.repository_name, tag)
            if digest is not None:
                pulumi.log.info(f"image {tag} is already in the repository: no build, {digest}")
                self.image = None
                self.image_uri = self.repository.repository_url.apply(lambda url: f"{url}@{digest}")
            else:
                self.image = self._build(name, build, tag)
                self.image_uri = pulumi.Output.all(
                    self.repository.repository_url, self.image.repo_digest
                ).apply(lambda values: pinned_uri(values[0], values[1]))
        self.register_outputs({"imageUri": self.image_uri})

    def _build(self, name: str, build: docker.DockerBuildArgsDict, tag: str) -> docker.Image:
        token = aws.ecr.get_authorization_token_output(registry_id=self.repository.registry_id)
        return docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.format("{0}:{1}", self.repository.repository_url, tag),
            build=build,
            # A pull request's preview builds the image too, so a broken Dockerfile shows
            # there and not at deploy (the push happens only on `pulumi up`).
            build_on_preview=True,
            registry=docker.RegistryArgs(
                server=self.repository.repository_url,
                username=token.user_name,
                password=pulumi.Output.secret(token.password),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
