# syntax=docker/dockerfile:1
# The events API as an AWS Lambda container image (the last stage), plus the local tools
# image that compose.yaml runs beside it.
#
#   docker build -t events-api .                                  # arm64 (Graviton), the default
#   docker build --build-arg LAMBDA_ARCH=x86_64 -t events-api .   # x86_64
#
# Every stage that runs a command runs on the build machine's own platform ($BUILDPLATFORM)
# and only executes binaries of that platform; the build stage installs wheels made for
# the function's. The function stage, on the function's platform, only copies. So an
# arm64 image builds on an x86_64 machine without emulation (tests/test_dockerfile.py).

# Lambda's names for its two architectures: arm64 or x86_64.
ARG LAMBDA_ARCH=arm64

# The uv release the Makefile pins, for the machine that runs it: the build stages.
FROM --platform=$BUILDPLATFORM ghcr.io/astral-sh/uv:0.13.8 AS uv

FROM --platform=$BUILDPLATFORM public.ecr.aws/lambda/python:3.13 AS build
ARG LAMBDA_ARCH
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy
WORKDIR /build
COPY pyproject.toml uv.lock ./
# The runtime dependencies of the lock file and nothing else (no dev, gateway or infra
# group), every one pinned and hash-checked, as wheels for the function's platform.
RUN --mount=type=cache,target=/root/.cache/uv \
    case "$LAMBDA_ARCH" in \
      arm64) platform=aarch64-manylinux2014 ;; \
      x86_64) platform=x86_64-manylinux2014 ;; \
      *) echo "LAMBDA_ARCH is arm64 or x86_64, not '$LAMBDA_ARCH'" >&2; exit 1 ;; \
    esac \
    && uv export --frozen --no-default-groups --no-emit-project --output-file requirements.txt \
    && uv pip install --require-hashes --requirement requirements.txt --target task \
      --python-platform "$platform" --python-version 3.13 --only-binary :all:
# The service package is exactly the code the function runs: local tooling (local/) and
# operator commands (tools/) live beside it (tests/infra/test_iam.py reads this COPY: the
# function's policy covers the DynamoDB calls of what it copies).
COPY service/ task/service/
# The task root is read-only in Lambda, so Python could never cache bytecode there: compile
# it now, once, to spare every cold start. The image never changes, so no source checks.
RUN python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash task

# Local tools for compose.yaml: the gateway (`python -m local.gateway`) and the one-shot
# table creation. Runs on the host's own platform, whatever --platform says; never deployed.
FROM --platform=$BUILDPLATFORM python:3.13-slim AS local-tools
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --group gateway
COPY service/ service/
COPY local/ local/
# The AWS limits the gateway shares with the Pulumi program (no Pulumi in it).
COPY infra/__init__.py infra/limits.py infra/
CMD ["python", "-m", "local.gateway", "--host", "0.0.0.0"]

# The function: AWS's Lambda Python 3.13 base image, the service package and its
# dependencies in the task root, the handler as the command.
FROM --platform=linux/${LAMBDA_ARCH} public.ecr.aws/lambda/python:3.13
COPY --from=build /build/task ${LAMBDA_TASK_ROOT}
CMD ["service.handler.handler"]
