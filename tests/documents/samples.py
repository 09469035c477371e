"""Sample documents for the tests, built in memory: realistic contract text, a .docx and a .pdf of it."""

from __future__ import annotations

import io

from benchmarks.upload_memory import pdf_file

CONTRACT = """\
MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is entered into as of January 1, 2024 by and between \
Acme Corp., a Delaware corporation ("Acme"), and Beta LLC ("Provider").

WHEREAS, Acme wishes to obtain certain services from Provider; and

WHEREAS, Provider is willing to provide such services on the terms set out below.

ARTICLE I
DEFINITIONS

1.1 "Affiliate" means any entity that directly or indirectly controls, is controlled by, or is under \
common control with a party.
1.2 "Confidential Information" means all non-public information disclosed by one party to the other, \
whether oral or written.

ARTICLE II - TERM AND TERMINATION

2.1 Term. This Agreement commences on the Effective Date and continues for a period of
1.5 years unless terminated earlier under Section 2.2, and renews automatically for successive terms.
2.2 Termination for Convenience. Either party may terminate this Agreement upon thirty (30) days' prior \
written notice to the other party.
2.3(a) Upon termination, Provider shall return or destroy all Confidential Information of Acme.

Section 3. Governing Law. This Agreement shall be governed by the laws of the State of New York, without \
regard to its conflict of laws principles.

§ 4 Assignment. Neither party may assign this Agreement without the prior written consent of the other \
party, which shall not be unreasonably withheld.

Limitation of Liability
IN NO EVENT SHALL EITHER PARTY BE LIABLE FOR ANY INDIRECT, INCIDENTAL OR CONSEQUENTIAL DAMAGES ARISING \
OUT OF THIS AGREEMENT.

IN WITNESS WHEREOF, the parties have executed this Agreement as of the date first written above.
"""


def docx_bytes(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A minimal PDF 1.4 with one Helvetica text line per entry (an empty page list entry = a page without text)."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops += [f"({escaped}) Tj", "T*"]
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1") if lines else b""
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font_id} 0 R >> >> "
            f"/Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    return pdf_file(objects)
