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

`.docx`: the package is checked and re-packed within `DocumentLimits` first (`documents/archive.py`:
no zip bomb reaches python-docx); each Word paragraph becomes a paragraph (blank-line separated),
each table row a line of tab-separated cells. Word's automatic list numbering is not text
(python-docx does not render it), so sections numbered that way arrive without their numbers and
split as headings/paragraphs.
`.pdf`: pypdf's text of each page; a PDF without any text (a scan) is `NoTextLayer`, one with a
password is `CorruptDocument`. Its pages are counted (`max_pages`) and each page's content stream is
decompressed (bounded by pypdf's own limits, set to ours) and counted against
`max_pdf_content_bytes` before pypdf parses any: pages may share one small stream that costs
seconds of CPU each. The text is counted page by page (`max_text_chars`).

Limits (`documents/limits.py`) are checked before the work they bound; `checkpoint()` runs between
pages and blocks, so a caller can stop a long read (`Interrupted`).
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePath
from typing import Optional

from documents.archive import bounded_package
from documents.errors import (
    BinaryContent,
    CorruptDocument,
    DocumentError,
    DocumentTooLarge,
    EmptyDocument,
    Interrupted,
    NoTextLayer,
    UnsupportedFileType,
)
from documents.limits import DEFAULT_MAX_BYTES, Checkpoint, DocumentLimits, no_checkpoint

__all__ = ["DEFAULT_MAX_BYTES", "read_document", "supported_extensions"]
PDF_MAX_FORM_DRAWS = 100  # per page; pypdf's default is 5,000
PDF_MAX_STREAM_TOKENS = 500_000  # per content stream (~1 s of pypdf); a dense page of text has ~5,000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.01


def read_document(
    name: str,
    data: bytes,
    *,
    max_bytes: Optional[int] = None,
    limits: Optional[DocumentLimits] = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> str:
    """The text of the file `name` (its extension picks the reader) with contents `data`.

    `limits` bound the work (default `DocumentLimits()`; `max_bytes` overrides its file size);
    `checkpoint` is called between pages and blocks and may raise `Interrupted` to stop."""
    limits = limits or DocumentLimits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    suffix = PurePath(name).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        supported = ", ".join(sorted(_READERS))
        raise UnsupportedFileType(f"{name}: unsupported file type {suffix or '(no extension)'!r}; use {supported}")
    if not data:
        raise EmptyDocument(f"{name}: the file is empty")
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(f"{name}: {len(data)} bytes exceeds the limit of {limits.max_bytes} bytes")
    text = _normalize(reader(name, data, limits, checkpoint))
    if not text.strip():
        raise EmptyDocument(f"{name}: the document contains no text")
    _check_text_size(name, [text], limits)
    return text


def _check_text_size(name: str, texts: list[str], limits: DocumentLimits, where: str = "") -> None:
    if limits.max_text_chars is None:
        return
    chars = sum(len("".join(text.split())) for text in texts)
    if chars > limits.max_text_chars:
        raise DocumentTooLarge(
            f"{name}: {chars} characters of text{where}, more than the limit of {limits.max_text_chars}"
        )


def supported_extensions() -> tuple[str, ...]:
    """The file extensions `read_document` accepts, e.g. for an upload field's `accept`."""
    return tuple(sorted(_READERS))


def _normalize(text: str) -> str:
    """One line-end convention (`\\n`); a page break separates paragraphs."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")


def _read_text(name: str, data: bytes, _limits: DocumentLimits, _checkpoint: Checkpoint) -> str:
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


def _read_docx(name: str, data: bytes, limits: DocumentLimits, checkpoint: Checkpoint) -> str:
    import docx  # python-docx; imported here so that reading .txt needs neither it nor lxml
    from docx.table import Table

    package = bounded_package(name, data, limits, checkpoint)
    try:
        document = docx.Document(io.BytesIO(package))
        blocks = []
        # Paragraphs and tables in body order; each Word paragraph is a paragraph of the text.
        for i, block in enumerate(document.iter_inner_content()):
            if i % 200 == 0:
                checkpoint()
            if isinstance(block, Table):
                blocks.extend(_table_rows(block))
            else:
                blocks.append(block.text)
    except (DocumentError, Interrupted):
        raise
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


def _read_pdf(name: str, data: bytes, limits: DocumentLimits, checkpoint: Checkpoint) -> str:
    import pypdf
    from pypdf.errors import LimitReachedError

    # pypdf's own bounds, tightened to ours: no single stream decodes to more than the whole budget.
    bound = limits.max_pdf_content_bytes
    try:
        with pypdf.apply_configuration(
            zlib_maximum_output_length=bound,
            lzw_maximum_output_length=bound,
            run_length_maximum_output_length=bound,
            brotli_maximum_output_length=bound,
            array_based_stream_maximum_output_length=bound,
            maximum_declared_stream_length=bound,
            # Forms (XObjects) are parsed again each time a page draws one: fewer draws, smaller streams.
            xform_maximum_invocations_per_extraction=PDF_MAX_FORM_DRAWS,
            stream_parsing_work_maximum_count=PDF_MAX_STREAM_TOKENS,
        ):
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise CorruptDocument(f"{name}: the PDF is encrypted with a password")
            pages = _pdf_pages(name, reader, limits, checkpoint)
    except (DocumentError, Interrupted):
        raise
    except LimitReachedError as exc:  # one stream alone decompresses (or parses) beyond the bounds
        raise DocumentTooLarge(
            f"{name}: the PDF exceeds a limit ({exc}; at most {bound} bytes of contents, "
            f"{PDF_MAX_STREAM_TOKENS} tokens per stream)"
        ) from exc
    except Exception as exc:  # pypdf raises PdfReadError, but also ValueError/KeyError on damaged objects
        raise CorruptDocument(f"{name}: not a readable PDF file ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise CorruptDocument(f"{name}: the PDF has no pages")
    if not any(page.strip() for page in pages):
        raise NoTextLayer(
            f"{name}: the PDF's {len(pages)} page(s) have no text layer (a scan?); OCR it or upload the text"
        )
    return "\n\n".join(page.strip() for page in pages if page.strip())


def _pdf_pages(name: str, reader: object, limits: DocumentLimits, checkpoint: Checkpoint) -> list[str]:
    """Each page's text, once every page's contents are counted: pages may share one small stream,
    and parsing it (not decompressing it) is what costs, once per page that draws it."""
    pages = reader.pages  # type: ignore[attr-defined]
    if limits.max_pages is not None and len(pages) > limits.max_pages:
        raise DocumentTooLarge(f"{name}: {len(pages)} pages exceeds the limit of {limits.max_pages} pages")
    unpacked = 0
    for number, page in enumerate(pages, start=1):
        contents = page.get_contents()  # decompressed once per stream (pypdf keeps it), parsed later
        unpacked += len(contents.get_data()) if contents is not None else 0
        if unpacked > limits.max_pdf_content_bytes:
            raise DocumentTooLarge(
                f"{name}: the contents of pages 1-{number} decompress to {unpacked} bytes, more than the limit "
                f"of {limits.max_pdf_content_bytes}"
            )
    texts: list[str] = []
    for number, page in enumerate(pages, start=1):
        checkpoint()
        texts.append(page.extract_text() or "")
        _check_text_size(name, texts, limits, f" in pages 1-{number}")
    return texts


Reader = Callable[[str, bytes, DocumentLimits, Checkpoint], str]
_READERS: dict[str, Reader] = {".txt": _read_text, ".docx": _read_docx, ".pdf": _read_pdf}
