# The serving gateway (serving/, FastAPI) on port 8080: `uvicorn serving.app:app`.
#
#   docker build -f serving.Dockerfile -t REGISTRY/lexflow-gateway:TAG .     # from the repository root
#
# Settings come from LEXFLOW_* variables (serving/settings.py); deploy/compose.yaml and deploy/k8s
# point it at TF Serving (LEXFLOW_BACKEND=rest) and PostgreSQL.
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_USE_LEGACY_KERAS=1 \
    PYTHONPATH=/app \
    LEXFLOW_MODEL_BASE_DIR=/models \
    LEXFLOW_DATABASE_URL=sqlite:////data/feedback.sqlite

WORKDIR /app

# Only the gateway's own dependencies (not the TFX stack of setup.py), at the lock file's versions;
# a separate layer so code edits do not reinstall them.
COPY requirements/constraints.txt deploy/gateway-requirements.txt /tmp/req/
RUN pip install -c /tmp/req/constraints.txt -r /tmp/req/gateway-requirements.txt \
    && rm -rf /tmp/req

# The gateway imports serving/, the feedback store (feedback/), the document readers and provision
# splitter (documents/) and core/ (workspace defaults, Keras 2 before TensorFlow), nothing else of the
# project (tests/deploy/test_deploy.py checks it).
COPY core /app/core
COPY feedback /app/feedback
COPY documents /app/documents
COPY serving /app/serving
RUN python -c "import serving.app, serving.backends.tfserving_rest, serving.backends.tfserving_grpc, documents.readers"

# Non-root, numeric so that Kubernetes' runAsNonRoot can check it; /data holds the SQLite default store.
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin lexflow \
    && mkdir -p /data /models \
    && chown lexflow /data
USER 10001

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# --no-proxy-headers: uvicorn would otherwise take X-Forwarded-For from any peer it trusts as a
# proxy; the gateway reads the client's address from LEXFLOW_CLIENT_IP_HEADER only (set it behind
# a proxy that overwrites that header).
CMD ["uvicorn", "serving.app:app", "--host", "0.0.0.0", "--port", "8080", "--no-proxy-headers"]
