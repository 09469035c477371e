"""A .docx is a zip: its parts are checked, and copied within bounds, before python-docx reads them.

python-docx reads every part of the package into memory, and `zipfile` inflates a part in one
call, up to the end of its compressed data whatever size the part declares: a 400 KB file holding
400 MB of XML would cost 400 MB (and seconds of CPU) before any limit applies. So:

1. The end record's part count and directory size are read first (zipfile would make an object
   of every entry: 10 MB of empty entries are ~100,000 of them), then the central directory: the
   sum of the parts' declared sizes and each large part's compression ratio.
2. Each part is inflated in 1 MiB steps, which zipfile stops at the part's declared size (and
   checks against its CRC), and copied uncompressed into a new in-memory package. python-docx
   reads that copy: compressed data beyond a part's declared size is never inflated.

Only the XML parts are read: images, fonts and embedded files carry no text, so the copy holds
them empty and they are never inflated. A document thus costs at most `max_unpacked_bytes` of
XML (twice, briefly) however its zip is made.
"""

from __future__ import annotations

import io
import shutil
import struct
import zipfile

from documents.errors import CorruptDocument, DocumentTooLarge
from documents.limits import Checkpoint, DocumentLimits

RATIO_FLOOR = 1024 * 1024  # smaller parts may compress as well as they like: they are cheap anyway
STEP = 1024 * 1024
END_RECORD_SIZE = 22
END_RECORD_SEARCH = END_RECORD_SIZE + 65535  # the record, after a comment of at most 64 KiB
DIRECTORY_BYTES_PER_PART = 512  # 46 bytes of record, the part's name and its extra fields
TEXT_PARTS = (".xml", ".rels", ".vml")  # what python-docx parses; the rest is media it only carries
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, OSError)


def bounded_package(name: str, data: bytes, limits: DocumentLimits, checkpoint: Checkpoint) -> bytes:
    """The package re-packed within `limits`; DocumentTooLarge (413) or CorruptDocument (422) otherwise."""
    _check_end_record(name, data, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _UNREADABLE as exc:
        raise CorruptDocument(f"{name}: not a readable .docx file (not a zip archive: {exc})") from exc
    with archive:
        parts = archive.infolist()
        _check_directory(name, parts, limits)
        copy = io.BytesIO()
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
            for part in parts:
                checkpoint()
                if _is_text(part):
                    _copy_part(name, archive, part, out)
                else:
                    out.writestr(zipfile.ZipInfo(part.filename), b"")
    return copy.getvalue()


def _check_end_record(name: str, data: bytes, limits: DocumentLimits) -> None:
    """The part count and the directory's size, from the end record, before zipfile reads the directory."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - END_RECORD_SEARCH))
    if end < 0 or len(data) - end < END_RECORD_SIZE:
        raise CorruptDocument(f"{name}: not a readable .docx file (not a zip archive)")
    entries, directory_bytes = struct.unpack("<HI", data[end + 10 : end + 16])
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        raise CorruptDocument(f"{name}: a ZIP64 archive; a .docx of this size never needs one")
    if entries > limits.max_archive_entries or directory_bytes > limits.max_archive_entries * DIRECTORY_BYTES_PER_PART:
        raise DocumentTooLarge(
            f"{name}: {entries} parts ({directory_bytes} bytes of zip directory) exceeds the limit of "
            f"{limits.max_archive_entries} parts"
        )


def _check_directory(name: str, parts: list[zipfile.ZipInfo], limits: DocumentLimits) -> None:
    if len(parts) > limits.max_archive_entries:
        raise DocumentTooLarge(
            f"{name}: {len(parts)} parts in the archive exceeds the limit of {limits.max_archive_entries}"
        )
    declared = 0
    for part in filter(_is_text, parts):
        declared += part.file_size
        if declared > limits.max_unpacked_bytes:
            raise DocumentTooLarge(
                f"{name}: unpacks to more than {limits.max_unpacked_bytes} bytes (the limit); refused before reading it"
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FLOOR and ratio > limits.max_compression_ratio:
            raise DocumentTooLarge(
                f"{name}: part {_shown(part.filename)} expands {ratio:.0f} times ({part.file_size} bytes), more "
                f"than the limit of {limits.max_compression_ratio}: refused as a zip bomb"
            )


def _copy_part(name: str, archive: zipfile.ZipFile, part: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    try:
        with archive.open(part) as source, out.open(zipfile.ZipInfo(part.filename), "w") as target:
            shutil.copyfileobj(source, target, STEP)  # zipfile reads at most STEP past what it returns
    except (*_UNREADABLE, EOFError) as exc:
        # A part that is not what it claims fails its CRC; encrypted parts and exotic compressions end here too.
        raise CorruptDocument(f"{name}: part {_shown(part.filename)} cannot be read ({exc})") from exc


def _is_text(part: zipfile.ZipInfo) -> bool:
    return part.filename.lower().endswith(TEXT_PARTS)


def _shown(part_name: str) -> str:
    return repr(part_name[:100])
