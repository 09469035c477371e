"""Request and response bodies of the gateway's own API (TF Serving routes use its JSON format).

`/v1/classify` has one request model, one query model and one response type, shared by the
FastAPI route and its hand-written fast path (serving/api/classify.py). Its response is a
TypedDict: mypy checks the code that builds it, pydantic serializes it by this schema and
documents it in OpenAPI, without a per-request model validation (measured: 35 us, ~8 % of the
gateway's CPU per request).
"""

from __future__ import annotations

from typing import Annotated, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, field_validator
from typing_extensions import TypedDict

# Versions are 64-bit everywhere (the Pusher names them by UNIX time).
Version = Annotated[int, Field(ge=0, le=2**63 - 1)]


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


class FeedbackList(BaseModel):
    items: list[FeedbackItem]
    next_after_id: Optional[int]


class VersionHealthOut(BaseModel):
    version: int
    predictions: int
    feedback: int
    correct: int
    live_accuracy: Optional[float]


class HealthResponse(BaseModel):
    model_name: str
    serving_versions: list[int]
    predictions: int
    feedback: int
    errors: int
    versions: list[VersionHealthOut]


class RoutingUpdate(_Body):
    production: Optional[int] = Field(None, description="Stable version; null = always the newest.")
    staging: Optional[int] = Field(None, description="Canary version; null = none.")
    canary_share: Optional[float] = Field(None, ge=0.0, le=1.0, description="Omit to keep it; 0 turns the canary off.")
    shadow: Optional[int] = Field(None, description="Scored and logged alongside, never returned.")

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


class ExportOut(BaseModel):
    span: Optional[int] = Field(None, description="The span written; null when there was nothing new.")
    rows: int
    path: Optional[str]
    first_feedback_id: Optional[int]
    last_feedback_id: Optional[int]
