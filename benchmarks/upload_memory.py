"""What hostile documents cost a running gateway: peak memory and CPU per upload to the console.

    python -m benchmarks.upload_memory [--expand-mb 400] [--out benchmarks/results/upload_memory.json]

Starts `lexflow serve` (no model is needed: a document is read, bounded and split before anything is
classified, so an accepted one ends in a 503 "no version" here) and posts, through real HTTP:

- a .docx whose 1.2 MB hold `--expand-mb` of XML (issue 21: 408 KB for 400 MB took the gateway
  from 0.8 to 1.48 GB), with honest sizes, and again with a zip directory that claims the part is
  100 KB (its CRC made to match), which zipfile alone would inflate whole;
- a .docx of 60,000 empty parts (5 MB), which zipfile would turn into ~35 MB of objects;
- a PDF whose 40 pages share one 8 KB stream of text operators (issue 21: ~70 s of CPU);
- the largest .docx the default limits accept (1,000 provisions in ~14.6 MB of Word XML), and a
  PDF at the content limit (400 pages of dense kerned text, ~8 MB), for what the limits allow.

For each: the answer, the server's peak resident memory (VmHWM) before and after, its CPU seconds,
and the load average. Writes benchmarks/results/upload_memory.json.
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import httpx
import typer

from benchmarks.load_test import REPO, free_port

app = typer.Typer(add_completion=False)
KEY = "upload-memory-key"
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_HEAD = f'<?xml version="1.0"?><w:document xmlns:w="{WORD_NS}"><w:body>'.encode()
_TAIL = b"</w:body></w:document>"


def _base_package() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Governed by the laws of New York.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_with_body(
    chunks: list[bytes] | None, repeat: bytes, expanded_bytes: int, declared_bytes: int | None = None
) -> bytes:
    """A .docx whose word/document.xml is `_HEAD`, `repeat` until `expanded_bytes`, `_TAIL`
    (deflated as it is made). With `declared_bytes`, the zip's directory and local header claim the
    part is that small, its CRC matching that prefix: a bomb that lies about its size."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, crc, written, prefix = [deflate.compress(_HEAD)], zlib.crc32(_HEAD), len(_HEAD), bytearray(_HEAD)
    while written + len(repeat) + len(_TAIL) <= expanded_bytes:
        piece = repeat if chunks is None else random.choice(chunks)
        parts.append(deflate.compress(piece))
        crc, written = zlib.crc32(piece, crc), written + len(piece)
        if declared_bytes is not None and len(prefix) < declared_bytes:
            prefix += piece
    parts += [deflate.compress(_TAIL), deflate.flush()]
    crc, written = zlib.crc32(_TAIL, crc), written + len(_TAIL)
    data = b"".join(parts)
    size, claimed_crc = written, crc
    if declared_bytes is not None:
        size, claimed_crc = declared_bytes, zlib.crc32(bytes(prefix[:declared_bytes]))
    return _with_document_part(data, size, claimed_crc)


def _with_document_part(data: bytes, size: int, crc: int) -> bytes:
    """python-docx's default package with word/document.xml replaced by a hand-made deflate stream."""
    source = zipfile.ZipFile(io.BytesIO(_base_package()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info, source.read(info.filename))
        placeholder = zipfile.ZipInfo("word/document.xml")
        placeholder.compress_type = zipfile.ZIP_DEFLATED
        target.writestr(placeholder, b"")  # written last: its local header is the last one
    raw = out.getvalue()
    central = raw.find(b"PK\x01\x02")
    local = raw.rfind(b"PK\x03\x04", 0, central)
    name_length = struct.unpack("<H", raw[local + 26 : local + 28])[0]
    sizes = struct.pack("<III", crc, len(data), size)
    header = raw[local : local + 14] + sizes + raw[local + 26 : local + 30 + name_length]
    directory = raw[central:]
    entry = directory.rfind(b"PK\x01\x02", 0, directory.find(b"PK\x05\x06"))
    directory = directory[: entry + 16] + sizes + directory[entry + 28 :]
    front = raw[:local] + header + data
    end = directory.find(b"PK\x05\x06")  # the end record holds the directory's offset
    directory = directory[: end + 16] + struct.pack("<I", len(front)) + directory[end + 20 :]
    return front + directory


def docx_bomb(expanded_bytes: int, *, declared_bytes: int | None = None) -> bytes:
    """word/document.xml inflating to `expanded_bytes` of one repeated paragraph (~340:1)."""
    paragraph = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    return docx_with_body(None, paragraph * (2**20 // len(paragraph)), expanded_bytes, declared_bytes)


WORDS = [b"the", b"party", b"shall", b"agreement", b"notice", b"days", b"written", b"law", b"terms", b"fees"]
# How Word writes a formatted run: each word with its own properties (~100 bytes of XML per word).
RUN = (
    b'<w:r><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri"/><w:sz w:val="22"/></w:rPr>'
    b'<w:t xml:space="preserve">%s </w:t></w:r>'
)


def ordinary_docx(paragraphs: int, words_per_paragraph: int, seed: int = 7) -> bytes:
    """A contract as Word saves it: `paragraphs` paragraphs (one provision each) of varied words,
    every word a formatted run, so its XML is ~10 times its text and compresses ~10:1."""
    rng = random.Random(seed)
    chunks = []
    for _ in range(200):
        words = [rng.choice(WORDS) + str(rng.randrange(10**4)).encode() for _ in range(words_per_paragraph)]
        chunks.append(b"<w:p>" + b"".join(RUN % w for w in words) + b"</w:p>")
    random.seed(seed)
    size = len(_HEAD) + len(_TAIL) + sum(len(c) for c in chunks) * paragraphs // len(chunks)
    return docx_with_body(chunks, max(chunks, key=len), size)


def dense_pdf(pages: int, page_bytes: int) -> bytes:
    """`pages` pages, each its own stream of kerned text (TJ arrays, as Word's PDFs write it): the
    costliest content for pypdf to parse, per byte, that a real contract has."""
    line = b"[(Gov)20(erned)-10( by the)30( laws of)-20( New)10( York.)]TJ 0 -14 Td\n"
    ops = b"BT /F1 11 Tf 72 720 Td\n" + line * (page_bytes // len(line)) + b"ET\n"
    return _pdf([ops] * pages)


def many_parts_docx(parts: int) -> bytes:
    """A zip of `parts` empty entries (10 MB hold ~110,000): zipfile makes an object of each."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(parts):
            archive.writestr(zipfile.ZipInfo(str(i)), b"")
    return out.getvalue()


def shared_stream_pdf(pages: int, operations: int) -> bytes:
    """A PDF whose `pages` pages all draw one FlateDecode content stream of `operations` text
    operators: a few KB on disk, seconds of pypdf's CPU per page that draws it."""
    ops = b"BT /F1 11 Tf 72 720 Td\n" + b"(Governed by the laws of New York.) Tj T*\n" * operations + b"ET\n"
    return _pdf([ops], pages)


def _pdf(streams: list[bytes], pages: int | None = None) -> bytes:
    """One page per stream, or `pages` pages all drawing the one stream."""
    count = pages if pages is not None else len(streams)
    first_page = 3 + len(streams)
    page_ids = [first_page + i for i in range(count)]
    font = first_page + count
    resources = f"/Resources << /Font << /F1 {font} 0 R >> >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {count} >>".encode(),
    ]
    for stream in streams:
        packed = zlib.compress(stream, 6)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream")
    for i in range(count):
        contents = 3 + (i if pages is None else 0)
        page = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] {resources} /Contents {contents} 0 R >>"
        objects.append(page.encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF 1.4 file of numbered objects (the first is the catalog), with its cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _post(url: str, pid: int, name: str, data: bytes) -> dict:
    before_peak, before_cpu = _status_kib(pid, "VmHWM"), _cpu_seconds(pid)
    started = time.perf_counter()
    answer = httpx.post(
        f"{url}/ui/documents",
        params={"name": name},
        content=data,
        headers={"Content-Type": "application/octet-stream", "X-API-Key": KEY},
        timeout=600,
    )
    return {
        "document": name,
        "upload_bytes": len(data),
        "status": answer.status_code,
        "answer": answer.json().get("error", "")[:200] if answer.headers["content-type"] == "application/json" else "",
        "seconds": round(time.perf_counter() - started, 2),
        "server_cpu_s": round(_cpu_seconds(pid) - before_cpu, 2),
        "server_peak_mb_before": round(before_peak / 1024, 1),
        "server_peak_mb_after": round(_status_kib(pid, "VmHWM") / 1024, 1),
        "server_peak_growth_mb": round(max(0, _status_kib(pid, "VmHWM") - before_peak) / 1024, 1),
        "server_rss_mb_after": round(_status_kib(pid, "VmRSS") / 1024, 1),
    }


@app.command()
def main(
    expand_mb: int = typer.Option(400, help="What the zip bomb's XML inflates to."),
    out: Path = typer.Option(REPO / "benchmarks/results/upload_memory.json"),
) -> None:
    documents = [
        (f"bomb-{expand_mb}mb.docx", docx_bomb(expand_mb * 2**20)),
        (f"bomb-{expand_mb}mb-declared-100kb.docx", docx_bomb(expand_mb * 2**20, declared_bytes=100_000)),
        ("60000-empty-parts.docx", many_parts_docx(60_000)),  # more would need ZIP64: refused as such
        ("shared-stream-40-pages.pdf", shared_stream_pdf(40, 95_000)),
        # At the default limits: 1,000 provisions (paragraphs of 110 words, ~14.6 MB of Word XML),
        # and 400 pages of dense kerned text just under the 8 MiB of contents (more text than 1,000
        # provisions hold: refused half-way, once the text is over).
        ("largest-accepted-1000-paragraphs.docx", ordinary_docx(1000, 110)),
        ("dense-400-pages-at-the-content-limit.pdf", dense_pdf(400, 20_000)),
    ]
    work = Path(tempfile.mkdtemp(prefix="lexflow-upload-memory-"))
    port = free_port()
    env = {
        **os.environ,
        "LEXFLOW_API_KEY": KEY,
        "LEXFLOW_MODEL_BASE_DIR": str(work / "models"),
        "LEXFLOW_DATABASE_URL": f"sqlite:///{work}/feedback.sqlite",
    }
    log = (work / "gateway.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "lexflow.cli", "serve", "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not start: {(work / 'gateway.log').read_text()[-2000:]}")
            time.sleep(0.2)
        load_before = os.getloadavg()
        rows = [_post(url, server.pid, name, data) for name, data in documents]
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    result = {
        "machine": f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} -> {load_after[0]:.2f}",
        "python": sys.version.split()[0],
        "uploads": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for row in rows:
        typer.echo(
            f"{row['document']:<42} {row['upload_bytes'] / 1024:>8.0f} KiB -> {row['status']} "
            f"in {row['seconds']:.2f} s, server CPU {row['server_cpu_s']:.2f} s, "
            f"peak memory +{row['server_peak_growth_mb']:.1f} MB: {row['answer'][:80]}"
        )
    typer.echo(f"{result['machine']}; wrote {out}")


if __name__ == "__main__":
    app()
