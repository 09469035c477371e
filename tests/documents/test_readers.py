"""read_document: the text of .txt/.docx/.pdf uploads, and a typed error for each kind of bad file."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from core.errors import UserError
from documents import (
    BinaryContent,
    CorruptDocument,
    DocumentError,
    DocumentTooLarge,
    EmptyDocument,
    NoTextLayer,
    UnsupportedFileType,
    read_document,
    supported_extensions,
)
from tests.documents.samples import CONTRACT, docx_bytes, pdf_bytes

CLAUSE = "The Receiving Party shall keep the Confidential Information of the Disclosing Party secret."


# --- .txt: the decoding policy -----------------------------------------------------------------------


def test_utf8_text_is_returned_unchanged():
    assert read_document("msa.txt", CONTRACT.encode("utf-8")) == CONTRACT


def test_utf8_bom_is_dropped():
    assert read_document("msa.txt", codecs.BOM_UTF8 + "§ 4 Assignment — café".encode()) == "§ 4 Assignment — café"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded(encoding):
    bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    assert read_document("notice.txt", bom + CLAUSE.encode(encoding)) == CLAUSE


def test_legacy_windows_text_falls_back_to_cp1252():
    # Word's "Plain text (Windows)" export: curly quotes and a section sign, not valid UTF-8.
    data = "\u201cAffiliate\u201d means \u00a7 2 \u2013 control".encode("cp1252")
    assert read_document("defs.TXT", data) == "\u201cAffiliate\u201d means \u00a7 2 \u2013 control"


def test_bytes_cp1252_leaves_undefined_decode_as_latin1():
    assert read_document("odd.txt", b"Fee: 10 \x81 units, caf\xe9") == "Fee: 10 \x81 units, caf\u00e9"


def test_line_ends_and_page_breaks_are_normalized():
    assert read_document("a.txt", b"1. Term.\r\n2. Fees.\rEnd\x0cNext page") == "1. Term.\n2. Fees.\nEnd\n\nNext page"


def test_nul_bytes_are_binary_content():
    with pytest.raises(BinaryContent, match=r"scan\.txt: binary content \(NUL bytes\)"):
        read_document("scan.txt", b"%PDF-1.4\x00\x00\x01binary")


def test_control_characters_without_nul_are_binary_content():
    data = bytes(range(1, 9)) * 50 + b"some text"
    with pytest.raises(BinaryContent, match="control characters"):
        read_document("image.txt", data)


def test_a_few_stray_control_characters_are_tolerated():
    text = CLAUSE * 5 + "\x07"
    assert read_document("a.txt", text.encode()) == text


def test_bad_utf16_after_its_bom_is_binary_content():
    with pytest.raises(BinaryContent, match="utf-16-le"):
        read_document("a.txt", codecs.BOM_UTF16_LE + b"a\x00b")  # odd number of bytes


# --- limits and types --------------------------------------------------------------------------------


def test_empty_file():
    with pytest.raises(EmptyDocument, match=r"msa\.txt: the file is empty"):
        read_document("msa.txt", b"")


def test_whitespace_only_file_has_no_text():
    with pytest.raises(EmptyDocument, match="contains no text"):
        read_document("msa.txt", b" \n\t\r\n ")


def test_oversized_file_names_size_and_limit():
    with pytest.raises(DocumentTooLarge, match=r"big\.txt: 101 bytes exceeds the limit of 100 bytes"):
        read_document("big.txt", b"x" * 101, max_bytes=100)
    assert read_document("ok.txt", b"x" * 100, max_bytes=100) == "x" * 100


@pytest.mark.parametrize("name", ["contract.rtf", "contract.doc", "contract", "archive.zip"])
def test_unsupported_extension_lists_the_supported_ones(name):
    with pytest.raises(UnsupportedFileType, match=r"use \.docx, \.pdf, \.txt"):
        read_document(name, b"text")


def test_unsupported_type_is_checked_before_the_size():
    with pytest.raises(UnsupportedFileType):
        read_document("movie.mp4", b"", max_bytes=0)


def test_errors_are_user_errors_with_a_reason_and_status():
    assert issubclass(DocumentError, UserError)
    with pytest.raises(DocumentError) as caught:
        read_document("big.pdf", b"x" * 11, max_bytes=10)
    assert (caught.value.reason, caught.value.status) == ("too_large", 413)


def test_supported_extensions():
    assert supported_extensions() == (".docx", ".pdf", ".txt")


# --- .docx -------------------------------------------------------------------------------------------


def test_docx_paragraphs_become_paragraphs_and_tables_rows():
    data = docx_bytes(
        ["ARTICLE I", "", "1.1 Term. This Agreement lasts two years.", "1.2 Fees. Fees are due monthly."],
        table=[["Party", "Signature"], ["Acme Corp.", "J. Smith"]],
    )
    assert read_document("msa.docx", data) == (
        "ARTICLE I\n\n1.1 Term. This Agreement lasts two years.\n\n1.2 Fees. Fees are due monthly."
        "\n\nParty\tSignature\n\nAcme Corp.\tJ. Smith"
    )


def test_docx_without_text_is_empty():
    with pytest.raises(EmptyDocument, match=r"blank\.docx: the document contains no text"):
        read_document("blank.docx", docx_bytes(["", "   "]))


def test_text_renamed_to_docx_is_corrupt():
    with pytest.raises(CorruptDocument, match=r"notes.docx: not a readable \.docx file"):
        read_document("notes.docx", CONTRACT.encode())


def test_zip_without_a_word_document_is_corrupt():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(CorruptDocument, match=r"not a readable \.docx"):
        read_document("fake.docx", out.getvalue())


def test_truncated_docx_is_corrupt():
    data = docx_bytes([CLAUSE])
    with pytest.raises(CorruptDocument):
        read_document("cut.docx", data[: len(data) // 2])


# --- .pdf --------------------------------------------------------------------------------------------


def test_pdf_text_of_every_page():
    data = pdf_bytes([["1. Term. This Agreement lasts two years."], ["2. Fees (in USD) are due monthly."]])
    assert read_document("msa.pdf", data) == (
        "1. Term. This Agreement lasts two years.\n\n2. Fees (in USD) are due monthly."
    )


def test_pdf_pages_without_text_are_skipped_when_others_have_text():
    assert read_document("msa.pdf", pdf_bytes([[], [CLAUSE]])) == CLAUSE


def test_pdf_without_a_text_layer():
    with pytest.raises(NoTextLayer, match=r"scan.pdf: the PDF's 2 page\(s\) have no text layer"):
        read_document("scan.pdf", pdf_bytes([[], []]))


def test_truncated_pdf_is_corrupt():
    with pytest.raises(CorruptDocument, match=r"cut.pdf: not a readable PDF"):
        read_document("cut.pdf", pdf_bytes([[CLAUSE]])[:60])


def test_text_renamed_to_pdf_is_corrupt():
    with pytest.raises(CorruptDocument, match="not a readable PDF"):
        read_document("notes.pdf", CONTRACT.encode())


def test_password_protected_pdf_is_refused():
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes([[CLAUSE]])))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(CorruptDocument, match=r"locked\.pdf: the PDF is encrypted with a password"):
        read_document("locked.pdf", out.getvalue())
