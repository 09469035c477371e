"""Contracts in: the `documents` package reads an upload and splits it into provisions; this module
bounds that work (the gateway's document limits, and a checkpoint that stops it when the client
hangs up), turns its typed errors into the page's 4xx answers, and checks every provision before
anything is classified or stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import Request

from documents import (
    DEFAULT_MAX_CHARS,
    Checkpoint,
    DocumentError,
    DocumentLimits,
    Interrupted,
    read_document,
    split_provisions,
    supported_extensions,
)
from serving.errors import ApiError
from serving.service import ClassificationService
from serving.settings import ServingSettings

__all__ = ["Provisions", "Readers", "client_gone", "intake", "limits", "readers", "supported_extensions"]


@dataclass(frozen=True)
class Provisions:
    headings: list[str]
    texts: list[str]


def limits(settings: ServingSettings) -> DocumentLimits:
    return DocumentLimits(
        max_bytes=min(settings.max_document_bytes, settings.max_body_bytes),
        max_unpacked_bytes=settings.max_document_unpacked_bytes,
        max_compression_ratio=settings.max_document_compression_ratio,
        max_pdf_content_bytes=settings.max_document_pdf_content_bytes,
        max_pages=settings.max_document_pages,
        # No provision is longer than the splitter's max_chars: more text cannot fit the provisions allowed.
        max_text_chars=settings.max_document_provisions * DEFAULT_MAX_CHARS,
    )


def disconnect_checkpoint(request: Request) -> Checkpoint:
    """For work in a worker thread (`run_in_threadpool`): raises Interrupted once the client has
    gone, asked of the event loop, which owns the connection."""

    def checkpoint() -> None:
        if anyio.from_thread.run(request.is_disconnected):
            raise Interrupted("the client disconnected")

    return checkpoint


def client_gone() -> ApiError:
    # 499 (nginx's "client closed request"): nobody reads it, but the request metrics count it.
    return ApiError(499, "the client disconnected; nothing was stored")


class Readers:
    """How many documents this replica reads at once: a document at the limits holds ~200 MB while
    python-docx reads it (benchmarks/results/upload_memory.json), so the others wait their turn."""

    def __init__(self, settings: ServingSettings):
        self.limiter = anyio.CapacityLimiter(settings.max_concurrent_documents)

    async def intake(self, name: str, data: bytes, service: ClassificationService, request: Request) -> Provisions:
        checkpoint = disconnect_checkpoint(request)
        return await anyio.to_thread.run_sync(intake, name, data, service, checkpoint, limiter=self.limiter)


def readers(request: Request) -> Readers:
    """The app's Readers, made on first use (the limiter belongs to the event loop that serves)."""
    state = request.app.state
    if getattr(state, "document_readers", None) is None:
        state.document_readers = Readers(state.settings)
    found: Readers = state.document_readers
    return found


def intake(
    name: str,
    data: bytes,
    service: ClassificationService,
    checkpoint: Callable[[], None],
) -> Provisions:
    """The provisions of an uploaded (or pasted) document; ApiError (4xx) when it has none usable."""
    settings = service.settings
    try:
        text = read_document(name, data, limits=limits(settings), checkpoint=checkpoint)
        checkpoint()
        provisions = split_provisions(text)
    except DocumentError as exc:
        raise ApiError(getattr(exc, "status", 422), str(exc)) from None
    if len(provisions) > settings.max_document_provisions:
        raise ApiError(
            413,
            f"{name}: {len(provisions)} provisions exceeds the limit of {settings.max_document_provisions} "
            "per document; split the document",
        )
    headings = [" ".join(part for part in (p.number, p.heading) if part) for p in provisions]
    texts = [p.flat_text for p in provisions]  # on one line, as the model was trained on
    # Every provision passes the service's limits before the first is classified: nothing is
    # stored for a document that would be refused half-way.
    for start in range(0, len(texts), settings.max_batch):
        service.check_texts(texts[start : start + settings.max_batch])
    return Provisions(headings, texts)
