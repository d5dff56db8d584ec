# syncd container image: `syncd run` as a non-root user, admin server on :9108.
#
# Both stages use the same base image: the venv's interpreter is a symlink to the
# base image's python, so the venv only works on the image it was built on.
# Pin by digest (python:3.11-slim-bookworm@sha256:...) in your own build if you need
# bit-for-bit reproducible images; the tag gets security updates of the base.

# ---- builder: installs syncd into /opt/syncd, exactly as `make install` does ----
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package build reads (see .dockerignore): changes elsewhere keep the cache.
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY scripts/install-venv.sh scripts/
COPY src/ src/
# The same script the Makefile runs; here non-editable, with PostgreSQL and without the
# dev extras.
RUN scripts/install-venv.sh /opt/syncd postgres

# ---- runtime ----
FROM python:3.11-slim-bookworm

# Python output unbuffered so logs reach `kubectl logs` at once; settings for a pod:
# listen on every interface for the kubelet's probes and Prometheus, destination files
# from the mounted ConfigMap, the SQLite ledger on the mounted volume, JSON logs, and
# SQLite's temporary files in /tmp (the only writable path besides the volume when
# the root filesystem is read-only).
ENV PATH=/opt/syncd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SYNCD_LISTEN=0.0.0.0:9108 \
    SYNCD_DESTINATIONS=/etc/syncd/destinations.d \
    SYNCD_STATE=/var/lib/syncd/state.db \
    SYNCD_LOG_FORMAT=json \
    SQLITE_TMPDIR=/tmp \
    TMPDIR=/tmp

# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 syncd \
    && useradd --system --uid 10001 --gid syncd --no-create-home \
        --home-dir /var/lib/syncd --shell /usr/sbin/nologin syncd \
    && mkdir -p /var/lib/syncd /etc/syncd/destinations.d \
    && chown syncd:syncd /var/lib/syncd

COPY --from=builder /opt/syncd /opt/syncd

USER 10001:10001
WORKDIR /var/lib/syncd
EXPOSE 9108

# Exec form: syncd is PID 1 and receives SIGTERM itself (it drains, then exits 0).
# No HEALTHCHECK: in Kubernetes the liveness and readiness probes (/healthz, /readyz) do that.
ENTRYPOINT ["/opt/syncd/bin/syncd"]
CMD ["run"]
