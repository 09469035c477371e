"""`lexflow serve`: the FastAPI gateway under uvicorn."""

from __future__ import annotations

from typing import Any

import typer
from pydantic import ValidationError

from lexflow.cli import options as opt
from lexflow.cli.common import fail, validation_message


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 in a container)."),
    port: int = typer.Option(8080, help="HTTP port."),
    model_base_dir: opt.ModelBaseDir = None,
    database_url: opt.DatabaseUrl = None,
) -> None:
    """Start the FastAPI gateway (settings from LEXFLOW_* environment variables)."""
    import uvicorn

    from serving.api.http_protocol import OneWriteHttpToolsProtocol
    from serving.app import create_app
    from serving.settings import ServingSettings

    overrides: dict[str, Any] = {"model_base_dir": model_base_dir, "database_url": database_url}
    try:
        settings = ServingSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise fail(validation_message(exc, "settings")) from None
    # uvicorn's proxy headers would let any client behind (or posing as) a local proxy set its own
    # address with X-Forwarded-For: the quota identity and the audit trail. The gateway reads the
    # client's address from LEXFLOW_CLIENT_IP_HEADER alone, and only when it is configured.
    # One socket write per response (serving/http_protocol.py).
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
        http=OneWriteHttpToolsProtocol,
    )
