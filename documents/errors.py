"""Why a document could not be read or split: one typed error per reason a reviewer can fix.

Every error is a `core.errors.UserError` (entry points print it as one `error:` line, exit 2); the
gateway can map `reason` to a message on the page and `status` to its HTTP code without parsing text.
"""

from __future__ import annotations

from core.errors import UserError


class DocumentError(UserError):
    """A document the reader or the splitter refuses; the message names the file and the reason."""

    reason = "invalid_document"
    status = 422


class EmptyDocument(DocumentError):
    reason = "empty"
    status = 422


class DocumentTooLarge(DocumentError):
    reason = "too_large"
    status = 413


class UnsupportedFileType(DocumentError):
    reason = "unsupported_type"
    status = 415


class BinaryContent(DocumentError):
    """Bytes that are not text (NUL bytes, control characters) in a file that claims to be text."""

    reason = "binary"
    status = 415


class CorruptDocument(DocumentError):
    """A .docx/.pdf its parser cannot open (truncated, not really that format, encrypted)."""

    reason = "corrupt"
    status = 422


class NoTextLayer(DocumentError):
    """A PDF whose pages carry no extractable text (a scan): it would need OCR, which lexflow does not do."""

    reason = "no_text_layer"
    status = 422


class NoProvisions(DocumentError):
    """Text with nothing to classify: whitespace, punctuation, or fewer letters than the minimum."""

    reason = "no_provisions"
    status = 422


class Interrupted(Exception):
    """Raised by a caller's checkpoint to stop reading a document (not the document's fault)."""
