"""Settings of the pretrained-encoder model (`encoder:` in the pipeline config; absent = the TF-IDF model).

    encoder:
      checkpoint: path/to/bert-dir      # config.json, vocab.txt, model.safetensors (no download)
      max_tokens: 128                   # wordpieces per text, [CLS] and [SEP] included
      train_steps: 300

The checkpoint is checked when the config is loaded (`checkpoint.inspect_checkpoint`), so a bad
directory stops the run with one message naming it. Transform reads the tokenisation settings
(`transform_part`), the Trainer all of them; the checkpoint's content hash is in both cache keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Field, field_validator, model_validator

from core import workspace
from core.strict import StrictModel
from trainer.encoder.checkpoint import fingerprint, inspect_checkpoint

CUSTOM_CONFIG_KEY = "encoder"
FINGERPRINT_KEY = "encoder_checkpoint_sha256"
TRANSFORM_FIELDS = ("checkpoint", "max_tokens", "lower_case")


class EncoderParams(StrictModel):
    checkpoint: Path = Field(
        description="Local directory of a BERT checkpoint in the HuggingFace layout (config.json, vocab.txt, "
        "model.safetensors); relative paths follow the workspace rule."
    )
    max_tokens: int = Field(
        128, ge=8, description="Wordpieces kept per text, [CLS] and [SEP] included (longer texts are truncated)."
    )
    lower_case: Optional[bool] = Field(
        None, description="Case-fold before WordPiece; default: the checkpoint's tokenizer_config.json (else True)."
    )
    train_layers: Optional[int] = Field(
        None,
        ge=0,
        description="None: fine-tune the whole encoder; k: only its top k blocks (embeddings and lower blocks "
        "frozen, each step cheaper); 0: the encoder is a frozen feature extractor and only the head trains.",
    )
    train_steps: int = Field(300, ge=1, description="Optimizer steps (the Trainer's train_args).")
    eval_steps: int = Field(10, ge=1, description="Validation batches after each epoch of the progress log.")
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(1e-4, gt=0.0, description="Peak AdamW learning rate.")
    warmup_fraction: float = Field(0.1, ge=0.0, lt=1.0, description="Linear warm-up share of train_steps.")
    weight_decay: float = Field(0.01, ge=0.0, description="AdamW decoupled weight decay (not on biases or norms).")
    head_dropout: float = Field(0.1, ge=0.0, lt=1.0, description="Dropout on the pooled vector before the head.")
    class_weighting: Union[Literal["none", "sqrt", "balanced"], Annotated[float, Field(ge=0.0, le=2.0)]] = Field(
        "sqrt", description="Loss weight per class from label frequencies, as train.class_weighting."
    )
    time_budget_seconds: Optional[float] = Field(
        None,
        gt=0.0,
        description="Stop training after this many seconds even if train_steps are not done (the learning rate "
        "schedule still spans train_steps); None = no limit.",
    )
    seed: int = 42

    @field_validator("checkpoint", mode="before")
    @classmethod
    def _resolve(cls, value: Any) -> Any:
        if isinstance(value, (str, Path)) and str(value):
            if workspace.is_uri(value):
                raise ValueError(f"encoder checkpoint {value}: must be a local directory, not a bucket URI")
            return workspace.resolve(value)
        return value

    @model_validator(mode="after")
    def _check_checkpoint(self) -> EncoderParams:
        checkpoint = inspect_checkpoint(self.checkpoint)
        limit = checkpoint.config.max_position_embeddings
        if self.max_tokens > limit:
            raise ValueError(f"max_tokens {self.max_tokens} exceeds the checkpoint's max_position_embeddings {limit}")
        layers = checkpoint.config.num_hidden_layers
        if self.train_layers is not None and self.train_layers > layers:
            raise ValueError(f"train_layers {self.train_layers} exceeds the checkpoint's {layers} layers")
        return self

    def transform_part(self) -> dict[str, Any]:
        """What Transform's graph depends on (JSON; a change re-runs Transform)."""
        return self.model_dump(mode="json", include=set(TRANSFORM_FIELDS))

    def custom_config(self, for_transform: bool) -> dict[str, Any]:
        """The `custom_config` entries of Transform or the Trainer: settings plus the checkpoint's content hash."""
        part = self.transform_part() if for_transform else self.model_dump(mode="json")
        return {CUSTOM_CONFIG_KEY: part, FINGERPRINT_KEY: fingerprint(self.checkpoint)}


def from_custom_config(custom_config: Optional[dict[str, Any]]) -> Optional[EncoderParams]:
    """The encoder settings a component received, or None for the TF-IDF model."""
    data = (custom_config or {}).get(CUSTOM_CONFIG_KEY)
    return None if data is None else EncoderParams.model_validate(data)
