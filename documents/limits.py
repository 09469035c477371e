"""How much of a document the readers will take on, checked before the parser does the work.

A file's size says little about what parsing it costs: a .docx is a zip (10 MB can unpack to
gigabytes), and a PDF's pages are compressed streams that several pages may share (a few KB can
cost minutes of CPU). So the readers bound what a document unpacks to before a parser reads it,
the pages a PDF may have and the text it may yield; the splitter's caller bounds the provisions. Every bound crossed is
a `DocumentTooLarge` (HTTP 413) that names the file, the figure and the limit.

A reader also takes a `checkpoint`, called between pages and blocks: the caller's way to stop the
work (the gateway stops when the client hangs up) by raising `Interrupted`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_UNPACKED_BYTES = 16 * 1024 * 1024  # Word writes ~5-10 bytes of XML per character of text
DEFAULT_MAX_PDF_CONTENT_BYTES = 8 * 1024 * 1024  # ~2-3 bytes of text operators per character
DEFAULT_MAX_COMPRESSION_RATIO = 100
# A .docx of a long contract has a few dozen parts (plus its images); 10 MB of empty zip entries
# would be ~100,000 of them, each a Python object before anything else is checked.
DEFAULT_MAX_ARCHIVE_ENTRIES = 2000

Checkpoint = Callable[[], None]


@dataclass(frozen=True)
class DocumentLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    """The file itself."""
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES
    """What a .docx's XML parts unzip to."""
    max_compression_ratio: int = DEFAULT_MAX_COMPRESSION_RATIO
    """A .docx part larger than 1 MiB that expands more than this is a zip bomb, whatever the total."""
    max_pdf_content_bytes: int = DEFAULT_MAX_PDF_CONTENT_BYTES
    """What a PDF's page contents decompress to, all pages together (a stream shared by n pages
    counts n times: it is parsed n times). pypdf parses 0.3-0.6 MB of text operators a second."""
    max_pages: Optional[int] = None
    """Pages of a PDF; None: no page limit (the content limit still holds)."""
    max_text_chars: Optional[int] = None
    """Characters of text (not counting white space) a document may yield, checked as it is
    extracted (page by page for a PDF): a caller that takes at most n provisions of m characters
    can refuse beyond n * m without splitting. None: no limit."""
    max_archive_entries: int = DEFAULT_MAX_ARCHIVE_ENTRIES


def no_checkpoint() -> None:
    """The default checkpoint: never stops."""
