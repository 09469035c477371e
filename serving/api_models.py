"""Request and response bodies of the gateway's own API (TF Serving routes use its JSON format)."""
from __future__ import annotations

from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClassifyRequest(_Body):
    texts: Union[StrictStr, list[StrictStr]] = Field(..., description="One text or a batch of texts.")


class ClassifiedText(BaseModel):
    prediction_id: str
    label: str
    scores: dict[str, float]
    model_version: int


class ClassifyResponse(BaseModel):
    model_name: str
    model_version: int
    route: str
    predictions: list[ClassifiedText]


class FeedbackRequest(_Body):
    label: StrictStr = Field(..., description="The correct label.")
    prediction_id: Optional[StrictStr] = Field(None, description="The prediction being corrected.", max_length=64,
                                               pattern=r"^[0-9A-Za-z-]+$")  # ids are UUIDs; nothing else reaches the DB
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
