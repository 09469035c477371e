"""Documents in, provisions out: read `.txt`/`.docx`/`.pdf` uploads and split them into provisions.

A low-level package (beside `feedback/`, importing only `core/` and libraries) shared by the gateway's
review console and `lexflow classify`:

    text = read_document("msa.pdf", data, limits=DocumentLimits(max_pages=500))  # DocumentError subclasses on bad input
    for provision in split_provisions(text):                        # NoProvisions when nothing to classify
        provision.index, provision.number, provision.heading, provision.text, provision.start, provision.end
"""

from documents.errors import (
    BinaryContent,
    CorruptDocument,
    DocumentError,
    DocumentTooLarge,
    EmptyDocument,
    Interrupted,
    NoProvisions,
    NoTextLayer,
    UnsupportedFileType,
)
from documents.limits import DEFAULT_MAX_BYTES, Checkpoint, DocumentLimits
from documents.readers import read_document, supported_extensions
from documents.splitter import DEFAULT_MAX_CHARS, DEFAULT_MIN_CHARS, Provision, split_provisions

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_MIN_CHARS",
    "BinaryContent",
    "Checkpoint",
    "CorruptDocument",
    "DocumentError",
    "DocumentLimits",
    "DocumentTooLarge",
    "EmptyDocument",
    "Interrupted",
    "NoProvisions",
    "NoTextLayer",
    "Provision",
    "UnsupportedFileType",
    "read_document",
    "split_provisions",
    "supported_extensions",
]
