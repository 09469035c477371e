"""Request and response bodies of the gateway's own API (TF Serving routes use its JSON format)."""
from __future__ import annotations

from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictStr


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
    prediction_id: Optional[StrictStr] = Field(None, description="The prediction being corrected.")
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
    canary_share: Optional[float] = Field(None, ge=0.0, le=1.0)
    shadow: Optional[int] = Field(None, description="Scored and logged alongside, never returned.")


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
