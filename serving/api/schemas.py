"""Request and response bodies of the gateway's own API (TF Serving routes use its JSON format).

`/v1/classify` has one request model, one query model and one response type, shared by the
FastAPI route and its hand-written fast path (serving/api/classify.py). Its response is a
TypedDict: mypy checks the code that builds it and OpenAPI documents it, without a per-request
model validation (measured: 35 us, ~8 % of the gateway's CPU per request); orjson encodes it
(`CLASSIFY_RESPONSE` checks the shape in the tests).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, TypeAdapter, field_validator
from typing_extensions import TypedDict

from core.model_dir import MAX_VERSION


def _version_digits(value: Any) -> Any:
    # Query and path parameters arrive as text: digits only (no sign, spaces, "_" or exponent),
    # at most 19 of them, checked before anything converts a 4,300-digit string to an int. In
    # JSON a version is an integer: pydantic would read true as 1 and 7.0 as 7.
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= 19):
        raise ValueError("a version is a whole number from 0 to 2^63-1, in digits")
    if isinstance(value, (bool, float)):
        raise ValueError(f"a version is a whole number from 0 to 2^63-1, not {type(value).__name__} {value!r}")
    return value


# Versions are 64-bit everywhere (the Pusher names them by UNIX time).
Version = Annotated[int, BeforeValidator(_version_digits), Field(ge=0, le=MAX_VERSION)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClassifyRequest(_Body):
    texts: Union[StrictStr, list[StrictStr]] = Field(..., description="One text or a batch of texts.")


class ClassifyQuery(_Body):
    version: Optional[Version] = Field(None, description="Pin a version.")
    label: Optional[str] = Field(None, description="production|stable or staging|canary")


class ClassifiedText(TypedDict):
    prediction_id: str
    label: str
    scores: dict[str, float]
    model_version: int


class ClassifyResponse(TypedDict):
    model_name: str
    model_version: int
    route: str
    predictions: list[ClassifiedText]


CLASSIFY_RESPONSE = TypeAdapter(ClassifyResponse)


class FeedbackRequest(_Body):
    label: StrictStr = Field(..., description="The correct label.")
    prediction_id: Optional[StrictStr] = Field(
        None, description="The prediction being corrected.", max_length=64, pattern=r"^[0-9A-Za-z-]+$"
    )  # ids are UUIDs; nothing else reaches the DB
    text: Optional[StrictStr] = Field(None, description="Required when there is no prediction_id.")


class FeedbackItem(BaseModel):
    id: int
    prediction_id: Optional[str]
    text: str
    label: str
    predicted_label: Optional[str]
    model_version: Optional[int]
    created_at: str
    superseded_by: Optional[int] = Field(None, description="The later correction of the same prediction that counts.")
    exported: bool = Field(False, description="Claimed by a feedback export (in a span, or superseded there).")


class CorrectionHistory(BaseModel):
    prediction_id: str
    current: Optional[FeedbackItem] = Field(description="The correction that counts (the latest).")
    history: list[FeedbackItem] = Field(description="Every correction of the prediction, oldest first.")


class FeedbackList(BaseModel):
    items: list[FeedbackItem]
    next_after_id: Optional[int]


class VersionHealthOut(BaseModel):
    version: int
    predictions: int
    feedback: int
    correct: int
    live_accuracy: Optional[float]


class ShadowAgreementOut(BaseModel):
    version: int
    shadow_version: int
    predictions: int
    agreements: int
    agreement: Optional[float]


class HealthResponse(BaseModel):
    model_name: str
    serving_versions: list[int]
    predictions: int
    feedback: int
    errors: int
    versions: list[VersionHealthOut]
    shadow: list[ShadowAgreementOut] = Field(default_factory=list)


class ShadowResponse(BaseModel):
    model_name: str
    shadow_version: Optional[int] = Field(description="The version shadowing now (routing).")
    pairs: list[ShadowAgreementOut]


class RoutingUpdate(_Body):
    production: Optional[Version] = Field(None, description="Stable version; null = always the newest.")
    staging: Optional[Version] = Field(None, description="Canary version; null = none.")
    canary_share: Optional[float] = Field(None, ge=0.0, le=1.0, description="Omit to keep it; 0 turns the canary off.")
    shadow: Optional[Version] = Field(None, description="Scored and logged alongside, never returned.")

    @field_validator("canary_share", mode="before")
    @classmethod
    def _share_is_not_a_flag(cls, value: Any) -> Any:
        if isinstance(value, (bool, str)):  # pydantic would read true as 1.0
            raise ValueError(f"must be a number from 0 to 1, not {type(value).__name__} {str(value)[:20]!r}")
        return value

    @field_validator("canary_share")
    @classmethod
    def _share_is_a_number(cls, value: Optional[float]) -> float:
        # Omitted means unchanged; an explicit null would reach the routing table and break
        # every canary decision (and the routing responses) until the next update.
        if value is None:
            raise ValueError("must be a number from 0 to 1, not null (0 turns the canary off)")
        return value


class RoutingOut(BaseModel):
    production: Optional[int]
    staging: Optional[int]
    canary_share: float
    shadow: Optional[int]
    revision: int = Field(description="Increments on every change; 0: never changed.")
    updated_at: Optional[str]
    updated_by: str
    in_effect: bool = Field(description="False while this replica still loads a version the change names.")
    pending_versions: list[int] = Field(description="Versions named but not loaded on this replica yet.")


class RoutingChangeOut(BaseModel):
    id: int
    revision: int
    at: str
    client: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


class RoutingHistory(BaseModel):
    changes: list[RoutingChangeOut] = Field(description="Newest first.")
    next_before_id: Optional[int]


class ExportOut(BaseModel):
    span: Optional[int] = Field(None, description="The span written; null when there was nothing new.")
    rows: int = Field(description="Rows written to the span.")
    path: Optional[str]
    first_feedback_id: Optional[int]
    last_feedback_id: Optional[int]
    claimed: int = Field(0, description="Feedback rows this export claimed: `rows` plus superseded corrections.")
