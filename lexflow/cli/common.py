"""What every command shares: the consoles, the one-line `error:` exit, config loading."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one `error:` line; the caller raises the returned Exit (exit code 2: a user error)."""
    err_console.print(f"[red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def validation_message(exc: ValidationError, prefix: str) -> str:
    """The first problem of a pydantic error as `prefix: field.path: message`."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    # pydantic prefixes a validator's own message with "Value error, "; the message says enough.
    return f"{prefix}: {where}: {first['msg'].removeprefix('Value error, ')}"


def load_config(config_file: Optional[Path], **overrides: Any) -> PipelineConfig:
    """Defaults < `--config FILE` < command-line overrides; a bad value ends with `error:`."""
    from pipeline.config import PipelineConfig

    try:
        return PipelineConfig.load(config_file, **overrides)
    except ValidationError as exc:
        raise fail(validation_message(exc, "config")) from None
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
