# Production image: non-root, gunicorn via `gateway serve`, health check on /healthz.
FROM python:3.11-slim AS build
WORKDIR /src
# Only what production runs: the sandbox (sandbox/) and the tests stay out of the image. pyproject.toml still names
# the sandbox's dev plugin entry point; production never loads that group, so the missing module is never imported.
# openapi.yaml too: gateway/api/openapi.yaml links to it, and the wheel carries it as package data (/openapi.yaml).
COPY pyproject.toml README.md openapi.yaml ./
COPY gateway ./gateway
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 gateway
COPY --from=build /install /usr/local
WORKDIR /srv/gateway
RUN mkdir -p keys var && chown -R gateway:gateway /srv/gateway
USER gateway
ENV GATEWAY_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    GATEWAY_KEYS_DIR=/srv/gateway/keys \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# Run `gateway db upgrade` as a release step before starting new replicas.
CMD ["gateway", "serve", "--workers", "2", "--threads", "8"]
