"""Contracts in: the `documents` package reads an upload and splits it into provisions; this module
turns its typed errors into the page's 4xx answers and checks every provision before anything is
classified or stored."""

from __future__ import annotations

from dataclasses import dataclass

from documents import DocumentError, read_document, split_provisions, supported_extensions
from serving.errors import ApiError
from serving.service import ClassificationService

__all__ = ["Provisions", "intake", "supported_extensions"]


@dataclass(frozen=True)
class Provisions:
    headings: list[str]
    texts: list[str]


def intake(name: str, data: bytes, service: ClassificationService, max_bytes: int) -> Provisions:
    """The provisions of an uploaded (or pasted) document; ApiError (4xx) when it has none usable."""
    try:
        text = read_document(name, data, max_bytes=max_bytes)
        provisions = split_provisions(text)
    except DocumentError as exc:
        raise ApiError(getattr(exc, "status", 422), str(exc)) from None
    headings = [" ".join(part for part in (p.number, p.heading) if part) for p in provisions]
    texts = [p.flat_text for p in provisions]  # on one line, as the model was trained on
    # Every provision passes the service's limits before the first is classified: nothing is
    # stored for a document that would be refused half-way.
    for start in range(0, len(texts), service.settings.max_batch):
        service.check_texts(texts[start : start + service.settings.max_batch])
    return Provisions(headings, texts)
