"""Gateway settings, from the environment (prefix LEXFLOW_) or a .env file.

Defaults come from `core/workspace.py` (shared with the pipeline and the notebooks), and
relative paths follow its rule: `$LEXFLOW_HOME/<path>`, else `<working directory>/<path>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import workspace


class ServingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEXFLOW_", env_file=".env", extra="ignore", validate_default=True)

    backend: Literal["inprocess", "rest", "grpc"] = Field(
        "inprocess", description="inprocess: load SavedModels here; rest/grpc: a TensorFlow Serving."
    )
    model_name: str = Field(workspace.DEFAULT_MODEL_NAME, pattern=r"^[A-Za-z0-9_\-]+$")
    model_base_dir: Path = Field(workspace.DEFAULT_SERVING_DIR, description="Holds <model_name>/<version>/.")
    tf_serving_url: Optional[str] = Field(None, description="TF Serving REST, e.g. http://tfserving:8501")
    tf_serving_grpc: Optional[str] = Field(None, description="TF Serving gRPC, e.g. tfserving:8500")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the feedback store (default: SQLite at artifacts/<model_name>/feedback.sqlite).",
    )
    api_key: Optional[SecretStr] = Field(None, description="Required on write endpoints when set.")
    store_text: bool = Field(True, description="Keep prediction texts (else only their SHA-256).")
    allow_unauthenticated_text_listing: bool = Field(
        False,
        description="Without an API key, endpoints that list stored texts (GET /v1/feedback, correction "
        "histories) are refused unless this is true.",
    )
    allow_unauthenticated_writes: bool = Field(
        False,
        description="Without an API key, every write (feedback, export, routing, the console's uploads and "
        "reviews) is refused unless this is true: anyone who can reach the gateway could then write.",
    )
    review_queue_traffic: Literal["all", "authenticated"] = Field(
        "all",
        description="Which predictions the review queue offers: all, or only those made with the API key "
        "(so anonymous traffic cannot fill the reviewers' queue).",
    )
    quota_requests_per_minute: Optional[int] = Field(
        None, ge=1, description="Per-client request quota for calls without a valid API key (429 + Retry-After)."
    )
    quota_bytes_per_minute: Optional[int] = Field(
        None, ge=1024, description="Per-client request-body byte quota for calls without a valid API key."
    )
    client_ip_header: Optional[str] = Field(
        None,
        description="Header naming the client behind a proxy (e.g. x-forwarded-for, first address); "
        "unset: the peer address. Set it only behind a proxy that overwrites it.",
    )
    max_text_chars: int = Field(100_000, ge=1)
    max_batch: int = Field(64, ge=1)
    max_body_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Larger request bodies get a 413 before they are read."
    )
    max_document_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Console uploads: the file's size (also bounded by max_body_bytes)."
    )
    max_document_unpacked_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024 * 1024,
        description="Console uploads: what a .docx's XML unzips to, checked before python-docx reads it (413).",
    )
    max_document_compression_ratio: int = Field(
        100, ge=10, description="Console uploads: a .docx part that expands more than this (a zip bomb) is refused."
    )
    max_document_pdf_content_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024 * 1024,
        description="Console uploads: what a PDF's page contents decompress to, all pages together, checked "
        "before pypdf parses any (413).",
    )
    max_document_pages: int = Field(500, ge=1, description="Console uploads: pages per PDF (413 beyond).")
    max_document_provisions: int = Field(
        1000,
        ge=1,
        description="Console uploads: provisions per document, each one a stored prediction (413 beyond; the text "
        "is refused as soon as it is longer than this many provisions can hold).",
    )
    max_concurrent_documents: int = Field(
        2, ge=1, description="Console uploads read and split at once per replica (the others wait their turn)."
    )
    canary_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Initial share of unpinned traffic sent to staging (before any routing change).",
    )
    poll_seconds: float = Field(2.0, gt=0.0, description="How often the in-process backend looks for new versions.")
    keep_versions: int = Field(
        3, ge=1, description="In-process backend: newest versions kept loaded (plus every version routing names)."
    )
    routing_refresh_seconds: float = Field(
        1.0, gt=0.0, description="How often a replica reads the shared routing state (and checks the store)."
    )
    metrics_cache_seconds: float = Field(
        5.0, ge=0.0, description="Store-backed gauges are recomputed at most this often, whatever the scrape rate."
    )
    export_wait_seconds: float = Field(
        10.0, ge=0.0, description="POST /v1/feedback/export waits this long for a concurrent export, then 409."
    )
    store_startup_seconds: float = Field(
        60.0, ge=0.0, description="At start, retry an unreachable store this long before giving up."
    )
    tfserving_config_path: Optional[Path] = Field(
        None,
        description="Keep a TF Serving model config here (shared volume): the routed versions plus the newest "
        "tfserving_keep_versions, as `specific` versions, so TF Serving never unloads a routed version.",
    )
    tfserving_base_path: Optional[str] = Field(
        None, description="The model's base_path as TF Serving sees it (default: <model_base_dir>/<model_name>)."
    )
    tfserving_keep_versions: int = Field(2, ge=1, description="Newest versions TF Serving keeps besides routed ones.")
    export_data_root: Path = Field(workspace.DEFAULT_DATA_ROOT, description="Feedback exports become span-<N>/ here.")
    reports_dir: Path = Field(
        Path(""),
        description="Drift reports served at /v1/reports (written by `lexflow drift`); "
        "default: artifacts/<model_name>/reports.",
    )
    grpc_port: Optional[int] = Field(
        None, ge=0, le=65535, description="Serve TF Serving's gRPC PredictionService here too (0: any free port)."
    )
    grpc_host: str = Field("127.0.0.1", description="Interface of the gRPC server.")
    cors_origins: list[str] = Field(default_factory=list, description="Empty: CORS off.")
    access_log: bool = Field(
        False,
        description="uvicorn's access log, one line per request. Off by default: /metrics counts requests by "
        "route and status, errors are logged, and the line costs ~15-20% of the gateway's CPU under load.",
    )

    @field_validator("model_base_dir", "export_data_root", "tfserving_config_path")
    @classmethod
    def _workspace_path(cls, value: Optional[Path]) -> Optional[Path]:
        return workspace.resolve(value) if value is not None else None

    @field_validator("reports_dir")
    @classmethod
    def _model_reports(cls, value: Path, info: ValidationInfo) -> Path:
        model = info.data.get("model_name", workspace.DEFAULT_MODEL_NAME)
        return workspace.resolve(value if str(value) not in ("", ".") else workspace.reports_dir(model))

    @field_validator("database_url")
    @classmethod
    def _workspace_database(cls, value: str, info: ValidationInfo) -> str:
        return workspace.database_url(value or None, info.data.get("model_name", workspace.DEFAULT_MODEL_NAME))
