"""What every command shares: the consoles, the one-line `error:` exit, and the one settings seam:
the pipeline's config, the gateway's settings for a model, and that model's feedback store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

if TYPE_CHECKING:
    from feedback import FeedbackStore
    from pipeline.config import PipelineConfig
    from serving.settings import ServingSettings

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one `error:` line; the caller raises the returned Exit (exit code 2: a user error)."""
    err_console.print(f"[red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def validation_message(exc: ValidationError, prefix: str) -> str:
    """The first problem of a pydantic error as `prefix: field.path: message` (`prefix: message` for a
    check across fields)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    # pydantic prefixes a validator's own message with "Value error, "; the message says enough.
    message = first["msg"].removeprefix("Value error, ")
    return f"{prefix}: {where}: {message}" if where else f"{prefix}: {message}"


def load_config(
    config_file: Optional[Path], target: Literal["local", "kubeflow"] = "local", /, **options: Any
) -> PipelineConfig:
    """Defaults < `--config FILE` < command-line options (None: not given); a bad value ends with `error:`."""
    from pipeline.config import PipelineConfig

    try:
        return PipelineConfig.from_options(config_file, target, **options)
    except ValidationError as exc:
        raise fail(validation_message(exc, "config")) from None
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None


def check_inputs(config: PipelineConfig, outputs: bool = True) -> None:
    """The run's intake checks (no TensorFlow needed): an `error:` line, or warnings worth a look."""
    from core.errors import UserError
    from lexflow.runs.preflight import check_run_inputs

    try:
        warnings = check_run_inputs(config, outputs)
    except UserError as exc:
        raise fail(str(exc)) from None
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)


def gateway_settings(**overrides: Any) -> ServingSettings:
    """The gateway's settings (LEXFLOW_*, `.env`) with the options given (None: not given), so a command
    acts where the gateway of that model serves from."""
    from serving.settings import ServingSettings

    try:
        return ServingSettings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        raise fail(validation_message(exc, "settings")) from None


def open_feedback_store(url: str) -> FeedbackStore:
    """The feedback store at `url` (see `gateway_settings(model_name=...).database_url`), or one `error:` line."""
    from feedback import FeedbackStore

    try:
        return FeedbackStore(url)
    except Exception as exc:  # SQLAlchemy: bad URL, unreachable server
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise fail(f"feedback store: cannot open it ({type(exc).__name__}: {first})") from None
