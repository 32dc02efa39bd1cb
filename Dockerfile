# Production image: non-root, gunicorn via `gateway serve`, health check on /healthz. README "Docker".
#
# Reproducible: the base image is pinned by digest (python 3.11.13, Debian bookworm slim; the digest is the
# multi-platform index, amd64 and arm64), and every Python package, the build backend included, comes from
# requirements.lock with its hashes (`make lock` regenerates it from pyproject.toml).
# tests/integration/cli/test_image_commands.py runs this file's RUN lines and its CMD in a fresh virtualenv.
FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS build
WORKDIR /src
# A virtualenv at the path it keeps in the final image (same base image, so its interpreter links hold).
RUN python -m venv /opt/gateway
COPY requirements.lock ./
RUN /opt/gateway/bin/pip install --no-cache-dir --require-hashes --only-binary=:all: -r requirements.lock
# Only what production runs: the sandbox (sandbox/) and the tests stay out of the image. pyproject.toml still names
# the sandbox's dev plugin entry point; production never loads that group, so the missing module is never imported.
# openapi.yaml too: gateway/api/openapi.yaml links to it, and the wheel carries it as package data (/openapi.yaml).
COPY pyproject.toml README.md openapi.yaml ./
COPY gateway ./gateway
# The build backend is the one the lock installed (no unpinned download); the dependencies are all in the lock.
RUN /opt/gateway/bin/pip install --no-cache-dir --no-deps --no-build-isolation . && /opt/gateway/bin/pip check

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1
RUN useradd --create-home --uid 10001 gateway
COPY --from=build /opt/gateway /opt/gateway
WORKDIR /srv/gateway
RUN mkdir -p keys var && chown -R gateway:gateway /srv/gateway
USER gateway
ENV PATH=/opt/gateway/bin:$PATH \
    GATEWAY_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    GATEWAY_KEYS_DIR=/srv/gateway/keys \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# Migrations are a release step, run once per release before new replicas start (README "Docker"):
#   docker run --rm --env-file gateway.env gateway gateway db upgrade
CMD ["gateway", "serve", "--workers", "2", "--threads", "8"]
