"""What a console write must look like besides the API key: sent by the console's own pages.

A browser lets any web page send a "simple" cross-site POST (`text/plain`, form encodings, or no
Content-Type at all) without asking the server first, and a gateway that allows writes without a
key (LEXFLOW_ALLOW_UNAUTHENTICATED_WRITES) would take it. The console's script sends only
non-simple types (`application/json`, `application/octet-stream`), which a cross-site page cannot
send without a CORS preflight the gateway refuses; and browsers say where a request comes from
(`Origin`, `Sec-Fetch-Site`), which must be this gateway (or a configured CORS origin). Clients
that are not browsers send neither header and are held to the API key alone.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.params import Depends as Dependency

from serving.deps import WriteAccess
from serving.errors import ApiError

UPLOAD_TYPES = (
    "application/octet-stream",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


def same_origin(request: Request) -> None:
    """403 for a write a browser sent from another site."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise ApiError(403, "cross-site request refused: console writes come from the console's own pages")
    origin = request.headers.get("origin")
    if origin is None:
        return
    allowed = request.app.state.settings.cors_origins
    if origin in allowed or _netloc(origin) == request.headers.get("host", "").lower():
        return
    raise ApiError(403, f"cross-origin request refused (Origin {origin[:100]!r} is not this gateway)")


def content_type(*allowed: str) -> Callable[[Request], None]:
    """415 unless the request declares one of `allowed` (never a type a cross-site page may send freely)."""

    def check(request: Request) -> None:
        declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if declared not in allowed:
            raise ApiError(415, f"Content-Type must be {' or '.join(allowed)}, not {declared[:100] or 'missing'!r}")

    return check


def _netloc(origin: str) -> str:
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return ""


def console_write(*types: str) -> list[Dependency]:
    """The dependencies of a console write: the API key rule, the same origin and, with a body, its type."""
    return [WriteAccess, Depends(same_origin)] + ([Depends(content_type(*types))] if types else [])
