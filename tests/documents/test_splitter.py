"""split_provisions: numbered sections, headings and paragraphs of realistic contract text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents import NoProvisions, Provision, split_provisions
from tests.documents.samples import CONTRACT


def _labels(text: str, **kwargs) -> list[tuple[str | None, str | None]]:
    return [(p.number, p.heading) for p in split_provisions(text, **kwargs)]


def _starts(text: str, **kwargs) -> list[str]:
    return [p.text.split("\n")[0][:30] for p in split_provisions(text, **kwargs)]


def _check_invariants(text: str, provisions: list[Provision], max_chars: int) -> None:
    """In order, no overlap, exact offsets, trimmed, within max_chars, and no text lost."""
    assert [p.index for p in provisions] == list(range(len(provisions)))
    previous_end = 0
    for p in provisions:
        assert p.text == text[p.start : p.end] and p.text == p.text.strip() and p.text
        assert p.start >= previous_end and len(p.text) <= max_chars
        previous_end = p.end
    covered = "".join(p.text for p in provisions)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)


def test_contract_provisions_numbers_and_headings():
    provisions = split_provisions(CONTRACT)
    assert [(p.number, p.heading) for p in provisions] == [
        (None, "MASTER SERVICES AGREEMENT"),  # the title joins the preamble paragraph below it
        (None, None),  # WHEREAS, ...
        (None, None),  # WHEREAS, ...
        ("1.1", "ARTICLE I DEFINITIONS"),  # two heading-only lines join 1.1
        ("1.2", None),
        ("2.1", "Term"),  # its own inline heading wins over the article's
        ("2.2", "Termination for Convenience"),
        ("2.3(a)", None),
        ("Section 3", "Governing Law"),
        ("§ 4", "Assignment"),
        (None, "Limitation of Liability"),
        (None, None),  # IN WITNESS WHEREOF, ...
    ]
    assert provisions[0].text.startswith("MASTER SERVICES AGREEMENT\n\nThis Master Services Agreement")
    assert provisions[3].text.startswith('ARTICLE I\nDEFINITIONS\n\n1.1 "Affiliate" means')
    assert provisions[10].text.endswith("ARISING OUT OF THIS AGREEMENT.")
    assert provisions[11].text.startswith("IN WITNESS WHEREOF")
    _check_invariants(CONTRACT, provisions, 2000)


def test_a_wrapped_line_starting_with_a_number_stays_in_its_sentence():
    provision = split_provisions(CONTRACT)[5]
    assert "continues for a period of\n1.5 years unless" in provision.text


@pytest.mark.parametrize(
    "line",
    [
        "30 days after the invoice date, the fees become payable in full.",
        "Section 4 shall survive any termination or expiry of this Agreement.",
        "1.5 million units shall be delivered to the Customer each year.",
    ],
)
def test_references_and_amounts_at_a_line_start_begin_no_provision_mid_sentence(line):
    text = (
        f"7. Payment. The Customer shall pay the fees within\n{line}\n"
        "8. Audit. The Provider may audit the books once a year."
    )
    assert _labels(text) == [("7", "Payment"), ("8", "Audit")]


def test_a_reference_after_a_sentence_end_is_still_not_a_keyword_marker():
    text = (
        "12. Survival. The obligations of confidentiality survive termination of this Agreement.\n"
        "Section 4 shall also survive any termination or expiry of this Agreement."
    )
    assert _labels(text) == [("12", "Survival")]


@pytest.mark.parametrize(
    ("marker", "number"),
    [
        ("1.", "1"),
        ("1)", "1"),
        ("1.1", "1.1"),
        ("1.1.", "1.1"),
        ("10.2.3", "10.2.3"),
        ("2.3(a)", "2.3(a)"),
        ("2.3(a)(ii)", "2.3(a)(ii)"),
        ("4(b)", "4(b)"),
        ("Section 4.", "Section 4"),
        ("SECTION 4.2", "SECTION 4.2"),
        ("Sec. 9", "Sec. 9"),
        ("Clause 7", "Clause 7"),
        ("Article 5", "Article 5"),
        ("§ 5", "§ 5"),
        ("§5.", "§5"),
        ("IV.", "IV"),
        ("B.", "B"),
    ],
)
def test_numbering_styles(marker, number):
    text = (
        "In consideration of the mutual promises below, the parties agree as follows.\n"
        f"{marker} The Licensee shall not sublicense the Software without the Licensor's prior written consent.\n"
        "Z. The Licensor warrants that the Software will perform materially as described in the Documentation."
    )
    provisions = split_provisions(text)
    assert [p.number for p in provisions] == [None, number, "Z"]
    assert provisions[1].text.startswith(marker)


def test_keyword_heading_lines_join_the_section_below():
    text = (
        "ARTICLE IV\n"
        "CONFIDENTIALITY\n"
        "4.1 The Receiving Party shall hold the Confidential Information in strict confidence.\n"
        "4.2 The Receiving Party may disclose Confidential Information where required by law."
    )
    provisions = split_provisions(text)
    assert [(p.number, p.heading) for p in provisions] == [("4.1", "ARTICLE IV CONFIDENTIALITY"), ("4.2", None)]
    assert provisions[0].start == 0


def test_a_numbered_heading_line_with_its_body_after_a_blank_line():
    text = (
        "1. DEFINITIONS\n\n"
        "In this Agreement capitalised terms have the meanings given to them in this clause.\n\n"
        "2. PAYMENT\n\n"
        "The Customer shall pay each invoice within thirty days of its date."
    )
    provisions = split_provisions(text)
    assert [(p.number, p.heading) for p in provisions] == [("1", "DEFINITIONS"), ("2", "PAYMENT")]
    assert provisions[1].text == "2. PAYMENT\n\nThe Customer shall pay each invoice within thirty days of its date."


def test_title_case_headings_start_provisions():
    text = (
        "Governing Law\n"
        "This Agreement is governed by the laws of England and Wales.\n"
        "Entire Agreement\n"
        "This Agreement constitutes the entire agreement between the parties."
    )
    assert _labels(text) == [(None, "Governing Law"), (None, "Entire Agreement")]


def test_a_sentence_fragment_in_title_case_is_no_heading():
    text = (
        "The Supplier shall deliver the Goods to the Premises of the\n"
        "Customer At The Agreed Time\n"
        "and shall bear the risk of loss until delivery is complete."
    )
    assert len(split_provisions(text)) == 1


def test_unstructured_text_splits_at_blank_lines():
    paragraphs = [
        "Dear Ms. Jones, we refer to the supply agreement between our companies dated 3 March 2021.",
        "We hereby give notice that we terminate the agreement with effect from 30 June 2024.",
        "Please return all confidential materials in your possession by that date.",
    ]
    text = "\n\n\n".join(paragraphs)
    assert [p.text for p in split_provisions(text)] == paragraphs


def test_later_paragraphs_of_a_numbered_section_are_provisions_without_its_number():
    text = (
        "5. Termination. Either party may terminate this Agreement for material breach.\n\n"
        "Termination does not affect any rights that accrued before the date of termination."
    )
    assert _labels(text) == [("5", "Termination"), (None, None)]


def test_tiny_fragments_join_the_previous_provision():
    text = (
        "9. Notices. All notices under this Agreement shall be in writing and delivered by hand.\n\n"
        "By: ______\n\n"
        "Name: J. Smith"
    )
    provisions = split_provisions(text)
    assert len(provisions) == 1
    assert provisions[0].text.endswith("Name: J. Smith")


def test_a_tiny_first_fragment_joins_the_next_provision():
    text = "Draft v2\n\nThe Distributor shall purchase the Products exclusively from the Manufacturer."
    provisions = split_provisions(text)
    assert len(provisions) == 1 and provisions[0].start == 0


def test_a_trailing_heading_without_body_joins_the_provision_before():
    text = "3. Fees. The Customer shall pay the fees set out in the Schedule.\n\nSCHEDULE 1"
    provisions = split_provisions(text)
    assert len(provisions) == 1 and provisions[0].text.endswith("SCHEDULE 1")


def test_a_long_paragraph_splits_at_sentence_ends_within_max_chars():
    sentence = "The Licensee shall pay royalties of five per cent of Net Sales to Acme Inc. each quarter. "
    text = "6. Royalties. " + sentence * 30
    provisions = split_provisions(text, max_chars=500)
    assert len(provisions) > 1
    assert all(p.number == "6" and p.heading == "Royalties" for p in provisions)
    assert all(p.text.endswith("each quarter.") for p in provisions)  # never after "Inc."
    _check_invariants(text, provisions, 500)


def test_long_sections_split_at_line_breaks_before_sentences():
    items = [
        f"({chr(97 + i)}) the Supplier shall maintain insurance cover number {i} with a reputable insurer;"
        for i in range(12)
    ]
    text = "8. Insurance.\n" + "\n".join(items)
    provisions = split_provisions(text, max_chars=300)
    assert all(p.text.split("\n")[-1].endswith(";") for p in provisions)
    _check_invariants(text, provisions, 300)


def test_an_unbroken_run_is_cut_at_max_chars():
    text = "x" * 450
    provisions = split_provisions(text, max_chars=200, min_chars=10)
    assert [len(p.text) for p in provisions] == [200, 200, 50]


@pytest.mark.parametrize("text", ["", "   \n\n\t  ", "... --- ***\n\n;;; !!!", "1.\n2.\n3.", "Term: 2 yrs"])
def test_nothing_to_classify(text):
    with pytest.raises(NoProvisions, match="no provisions to classify"):
        split_provisions(text)


def test_min_document_chars_is_a_parameter():
    assert len(split_provisions("Term: 2 yrs", min_document_chars=5)) == 1


def test_max_chars_must_leave_room_for_min_chars():
    with pytest.raises(ValueError, match="max_chars"):
        split_provisions(CONTRACT, max_chars=50, min_chars=40)


def test_flat_text_joins_wrapped_lines():
    provision = split_provisions("1. Term. This Agreement lasts\n   two years   from signature.")[0]
    assert provision.flat_text == "1. Term. This Agreement lasts two years from signature."


_LINES = st.sampled_from(
    [
        "",
        "ARTICLE IX",
        "CONFIDENTIALITY",
        "Governing Law",
        "1. Term.",
        "2.3(a) The Supplier shall indemnify the Customer against all losses.",
        "Section 4. Assignment. Neither party may assign this Agreement.",
        "§ 7 Notices must be in writing.",
        "the fees within",
        "30 days of the invoice date.",
        "By: ____",
        "IN WITNESS WHEREOF, the parties have signed this Agreement.",
        "This Agreement is made between Acme Inc. and Beta Ltd. on the date below; it binds both.",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, min_size=1, max_size=40), st.integers(min_value=80, max_value=600))
def test_any_mix_of_lines_keeps_every_character_in_order(lines, max_chars):
    text = "\n".join(lines)
    try:
        provisions = split_provisions(text, max_chars=max_chars)
    except NoProvisions:
        assert sum(ch.isalnum() for ch in text) < 20
        return
    _check_invariants(text, provisions, max_chars)
