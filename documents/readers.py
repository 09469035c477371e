"""Text out of an uploaded document: `.txt`, `.docx` (python-docx) and `.pdf` (pypdf).

`read_document(name, data)` returns the text with `\\n` line ends (so the splitter's offsets index it)
or raises a `DocumentError` naming the file. Text-file decoding policy, in order:

1. A byte-order mark decides: UTF-8 (BOM dropped), UTF-16 LE/BE (Word's "Unicode text").
2. Without a BOM, NUL bytes mean binary content (no text editor writes them; UTF-16 without a BOM
   is not guessed).
3. Strict UTF-8; if that fails, Windows-1252 (the legacy encoding of Word-saved `.txt`, a superset of
   Latin-1's printable characters), with Latin-1 for the five bytes cp1252 leaves undefined. A legacy
   file thus always decodes, so the last check is on the result:
4. more than 1 % control characters (other than tab, line and page breaks) means binary content.

`.docx`: each Word paragraph becomes a paragraph (blank-line separated), each table row a line of
tab-separated cells. Word's automatic list numbering is not text (python-docx does not render it),
so sections numbered that way arrive without their numbers and split as headings/paragraphs.
`.pdf`: pypdf's text of each page; a PDF without any text (a scan) is `NoTextLayer`, one with a
password is `CorruptDocument`.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from pathlib import PurePath

from documents.errors import (
    BinaryContent,
    CorruptDocument,
    DocumentTooLarge,
    EmptyDocument,
    NoTextLayer,
    UnsupportedFileType,
)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.01


def read_document(name: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of the file `name` (its extension picks the reader) with contents `data`."""
    suffix = PurePath(name).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        supported = ", ".join(sorted(_READERS))
        raise UnsupportedFileType(f"{name}: unsupported file type {suffix or '(no extension)'!r}; use {supported}")
    if not data:
        raise EmptyDocument(f"{name}: the file is empty")
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{name}: {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    text = _normalize(reader(name, data))
    if not text.strip():
        raise EmptyDocument(f"{name}: the document contains no text")
    return text


def supported_extensions() -> tuple[str, ...]:
    """The file extensions `read_document` accepts, e.g. for an upload field's `accept`."""
    return tuple(sorted(_READERS))


def _normalize(text: str) -> str:
    """One line-end convention (`\\n`); a page break separates paragraphs."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")


def _read_text(name: str, data: bytes) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return _check_text(name, data[len(bom) :].decode(encoding))
            except UnicodeDecodeError as exc:
                raise BinaryContent(
                    f"{name}: not valid {encoding} text after its byte-order mark ({exc.reason})"
                ) from exc
    if b"\x00" in data:
        raise BinaryContent(f"{name}: binary content (NUL bytes), not a text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="documents.latin1")
    return _check_text(name, text)


def _legacy_latin1(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) as Latin-1 does."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("documents.latin1", _legacy_latin1)


def _check_text(name: str, text: str) -> str:
    controls = len(_CONTROL.findall(text))
    if controls > _MAX_CONTROL_SHARE * max(len(text), 1):
        raise BinaryContent(f"{name}: binary content ({controls} control characters), not a text file")
    return text


def _read_docx(name: str, data: bytes) -> str:
    import docx  # python-docx; imported here so that reading .txt needs neither it nor lxml
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = []
        # Paragraphs and tables in body order; each Word paragraph is a paragraph of the text.
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                blocks.extend(_table_rows(block))
            else:
                blocks.append(block.text)
    except Exception as exc:  # python-docx raises zipfile, KeyError, lxml and its own errors alike
        raise CorruptDocument(f"{name}: not a readable .docx file ({type(exc).__name__}: {exc})") from exc
    return "\n\n".join(block.strip() for block in blocks if block.strip())


def _table_rows(table: object) -> list[str]:
    rows = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            if text and (not cells or cells[-1] != text):  # a merged cell repeats in each grid column
                cells.append(text)
        rows.append("\t".join(cells))
    return rows


def _read_pdf(name: str, data: bytes) -> str:
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorruptDocument(f"{name}: the PDF is encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except CorruptDocument:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, but also ValueError/KeyError on damaged objects
        raise CorruptDocument(f"{name}: not a readable PDF file ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise CorruptDocument(f"{name}: the PDF has no pages")
    if not any(page.strip() for page in pages):
        raise NoTextLayer(
            f"{name}: the PDF's {len(pages)} page(s) have no text layer (a scan?); OCR it or upload the text"
        )
    return "\n\n".join(page.strip() for page in pages if page.strip())


_READERS: dict[str, Callable[[str, bytes], str]] = {".txt": _read_text, ".docx": _read_docx, ".pdf": _read_pdf}
