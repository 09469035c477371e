"""Split a legal document's text into provisions, the units a reviewer classifies: rules, no model.

1. A provision starts at a numbered line ("1.", "1.1", "2.3(a)", "Section 4.", "ARTICLE IV", "§ 5",
   "IV.", "A.") or at a heading line (ALL CAPS, or Title Case without a final comma/semicolon) that has
   body text after it. Either counts only where a new block can begin: at the top, after a blank line,
   after a line ending a sentence (". ; : ! ?"), or after another heading, so a wrapped line starting
   with "1.5 million" or "Section 4 of ..." stays inside its sentence.
2. A heading with no body of its own ("ARTICLE IV" above "4.1 ...") joins the provision after it, whose
   heading it becomes unless that provision names its own ("1.1 Definitions. ...").
3. Blank lines separate paragraphs, each a provision (the fallback for unnumbered text); a paragraph
   after the first of a numbered or headed block has no number or heading of its own.
4. A provision shorter than `min_chars` joins its neighbour (the previous one, else the next);
   one longer than `max_chars` splits at blank lines, then line breaks, then sentence ends, then spaces.

Every `Provision.text` is `text[start:end]` of the input, trimmed of surrounding whitespace.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Optional

from documents.errors import NoProvisions

DEFAULT_MAX_CHARS = 2000  # ~the 400 tokens the model reads (trainer/params.py TransformParams.max_tokens)
DEFAULT_MIN_CHARS = 40
DEFAULT_MIN_DOCUMENT_CHARS = 20  # letters and digits in the whole document

_KEYWORD = r"(?:article|section|sec\.|clause|schedule|exhibit|annex|appendix|part)"
_SUB = r"(?:\([a-z0-9]{1,5}\))*"
_MARKER = re.compile(
    "|".join(
        [
            # Keyword markers must look like headings, not references: "Section 4 shall survive" is a sentence.
            (
                rf"(?P<kw>(?i:{_KEYWORD})\s+(?:\d{{1,3}}(?:\.\d{{1,3}})*[a-z]?|[IVXLCDM]{{1,7}}|[A-Z]){_SUB})\.?"
                r"(?=\s*$|\s*[.:\-\u2013\u2014]|\s+[A-Z\"\u201c(])"
            ),
            rf"(?P<sect>\u00a7{{1,2}}\s*\d{{1,3}}(?:\.\d{{1,3}})*[a-z]?{_SUB})\.?(?=\s|$)",
            # "1.1", "2.3(a)", "2(b)", "1." or "1)"; a bare "30" starts no provision ("30 days").
            (
                rf"(?P<num>\d{{1,3}}(?:\.\d{{1,3}})+{_SUB}|\d{{1,3}}(?:\([a-z0-9]{{1,5}}\))+|\d{{1,3}}(?=[.)]))"
                r"[.)]?(?=\s|$)"
            ),
            r"(?P<alpha>[IVX]{1,6}|[A-Z])\.(?=\s)",
        ]
    )
)
_INLINE_HEADING = re.compile(r"([^.]{2,60})\.\s+\S")
_SMALL_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "under", "upon"}
    | {"with", "without"}
)
_SENTENCE_END = re.compile(r"[.;:!?][\"\u201d')\]]*$")
# A sentence ends at . ! ? (or ;) before a space and a capital, quote or "(", not after a common abbreviation.
_SENTENCE_BREAK = re.compile(
    r"(?<!\b[A-Z])(?<!\bNo)(?<!\bInc)(?<!\bLtd)(?<!\bCo)(?<!\bSec)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)"
    r"[.!?;][\"\u201d')\]]*\s+(?=[A-Z\"\u201c(])"
)


@dataclass(frozen=True)
class Provision:
    """One unit to classify: `text == document[start:end]`; `number` and `heading` as written, if any."""

    index: int
    text: str
    start: int
    end: int
    number: Optional[str] = None
    heading: Optional[str] = None

    @property
    def flat_text(self) -> str:
        """The text on one line (PDF and hard-wrapped lines joined), as the model was trained on."""
        text = self.text
        if "\n" not in text and "  " not in text and "\t" not in text and "\r" not in text:
            return text  # already one line (most provisions): skip the split and join
        return " ".join(text.split())


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    kind: str  # "numbered" | "headed" | "plain"
    number: Optional[str] = None
    heading: Optional[str] = None
    heading_only: bool = False

    def but(self, **changes: Any) -> _Block:
        """A copy with `changes` (dataclasses.replace costs several times more, per block)."""
        copy = _Block(self.start, self.end, self.kind, self.number, self.heading, self.heading_only)
        for name, value in changes.items():
            setattr(copy, name, value)
        return copy


def split_provisions(
    text: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    min_chars: int = DEFAULT_MIN_CHARS,
    min_document_chars: int = DEFAULT_MIN_DOCUMENT_CHARS,
) -> list[Provision]:
    """The provisions of `text` in order; `NoProvisions` when it has nothing to classify."""
    if max_chars < 2 * min_chars:
        raise ValueError(f"max_chars ({max_chars}) must be at least twice min_chars ({min_chars})")
    letters = _count_alnum(text, stop_at=min_document_chars)
    if letters < min_document_chars:
        raise NoProvisions(
            f"no provisions to classify: the text has {letters} letters or digits, fewer than {min_document_chars}"
        )
    blocks = _merge_headings(_split_paragraphs(text, _blocks(text)))
    blocks = _merge_small(text, blocks, min_chars)
    pieces = [piece for block in blocks for piece in _split_long(text, block, max_chars)]
    provisions = [
        Provision(i, text[b.start : b.end], b.start, b.end, b.number, b.heading) for i, b in enumerate(pieces)
    ]
    if not provisions:
        raise NoProvisions("no provisions to classify")
    return provisions


def _count_alnum(text: str, stop_at: int) -> int:
    count = 0
    for _ in re.finditer(r"[^\W_]", text):
        count += 1
        if count >= stop_at:
            break
    return count


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's content, trimmed; a blank line has start == end."""
    spans = []
    offset = 0
    for raw in text.split("\n"):
        lead = len(raw) - len(raw.lstrip())
        spans.append((offset + lead, offset + max(lead, len(raw.rstrip()))))
        offset += len(raw) + 1
    return spans


def _is_heading(line: str) -> bool:
    """ALL CAPS or Title Case, short, not ending like a clause of a sentence."""
    line = line.strip()
    if line.endswith((",", ";")) or not 2 <= len(line) <= 80:
        return False
    words = line.rstrip(".:").split()
    if not 1 <= len(words) <= 8 or sum(ch.isalpha() for ch in line) < 2:
        return False
    cased = [ch for ch in line if ch.isalpha()]
    if all(ch.isupper() for ch in cased):
        return not line.endswith(".") or len(words) <= 6
    alpha_words = [w.strip("()\"'\u201c\u201d") for w in words if any(ch.isalpha() for ch in w)]
    return (
        bool(alpha_words)
        and alpha_words[0][:1].isupper()
        and all(w[:1].isupper() or w.lower() in _SMALL_WORDS for w in alpha_words)
        and not line.endswith(".")
    )


def _marker(line: str) -> Optional[re.Match[str]]:
    return _MARKER.match(line)


def _inline_heading(rest: str) -> tuple[Optional[str], bool]:
    """(heading, heading_only) from what follows a number on its line."""
    rest = rest.strip().lstrip(".:-\u2013\u2014 ").strip()
    if not rest:
        return None, True
    if _is_heading(rest):
        return rest.rstrip(".:"), True
    match = _INLINE_HEADING.match(rest)  # "Definitions. In this Agreement ..."
    if match and len(match.group(1).split()) <= 6 and _is_heading(match.group(1)):
        return match.group(1).strip(), False
    return None, False


def _can_start(text: str, spans: list[tuple[int, int]], i: int, heading_line: dict[int, bool]) -> bool:
    """Whether line i may begin a block: first line, after a blank, a sentence end or a heading line."""
    if i == 0:
        return True
    prev_start, prev_end = spans[i - 1]
    if prev_start == prev_end:
        return True
    if heading_line.get(i - 1, False):
        return True
    # Only the line's end matters (a regex search would try every position of a long line).
    return bool(_SENTENCE_END.search(text[max(prev_start, prev_end - 8) : prev_end]))


def _blocks(text: str) -> list[_Block]:
    """Blocks starting at numbered or heading lines, and the plain text before the first of them."""
    spans = _lines(text)
    blocks: list[_Block] = []
    heading_line: dict[int, bool] = {}
    last_end = 0  # end of the last non-blank line: where the current block ends
    for i, (start, end) in enumerate(spans):
        if start == end:
            continue
        block = _start_block(text, spans, i, heading_line)
        if block is not None:
            if blocks:
                blocks[-1].end = last_end
            blocks.append(block)
            heading_line[i] = block.heading_only
        elif not blocks:
            blocks.append(_Block(start, end, "plain"))
        last_end = end
    if blocks:
        blocks[-1].end = last_end
    return blocks


def _start_block(text: str, spans: list[tuple[int, int]], i: int, heading_line: dict[int, bool]) -> Optional[_Block]:
    start, end = spans[i]
    line = text[start:end]
    match = _marker(line)
    # Most lines are body text: the cheap tests (a regex at the line start, the length) go first.
    if match is None and not (_is_heading(line) and _has_body_after(spans, i)):
        return None
    if not _can_start(text, spans, i, heading_line):
        return None
    if match is None:
        return _Block(start, end, "headed", None, line.rstrip(".:"), True)
    number = " ".join(next(group for group in match.groups() if group).split())
    heading, heading_only = _inline_heading(line[match.end() :])
    if match.group("kw") and heading_only and not heading:
        heading = number  # "ARTICLE IV" alone is a heading too
    return _Block(start, end, "numbered", number, heading, heading_only)


def _has_body_after(spans: list[tuple[int, int]], i: int) -> bool:
    return any(spans[j][0] != spans[j][1] for j in range(i + 1, len(spans)))


def _split_paragraphs(text: str, blocks: list[_Block]) -> list[_Block]:
    """Each block split at blank lines; later paragraphs are provisions of their own, without the number.

    A first paragraph that is only the number/heading line ("1. DEFINITIONS", blank, body) stays
    heading-only and so joins the paragraph after it.
    """
    out: list[_Block] = []
    for block in blocks:
        if "\n" not in text[block.start : block.end]:  # one line: one paragraph
            out.append(block)
            continue
        offset = block.start
        first = True
        for part in re.split(r"(\n[ \t]*\n\s*)", text[block.start : block.end]):
            if part.strip():
                lead = len(part) - len(part.lstrip())
                start, end = offset + lead, offset + len(part.rstrip())
                if first:
                    heading_only = block.heading_only and "\n" not in text[start:end]
                    out.append(block.but(start=start, end=end, heading_only=heading_only))
                else:
                    out.append(_Block(start, end, "plain"))
                first = False
            offset += len(part)
    return out


def _merge_headings(blocks: list[_Block]) -> list[_Block]:
    """Heading-only blocks join the block after them (the last one joins the block before it)."""
    out: list[_Block] = []
    carried: Optional[_Block] = None
    for block in blocks:
        if block.heading_only:
            if carried is None:
                carried = block.but()
            else:
                heading = " ".join(h for h in (carried.heading, block.heading) if h) or None
                carried = carried.but(end=block.end, heading=heading, number=carried.number or block.number)
            continue
        if carried is not None:
            out.append(
                block.but(
                    start=carried.start,
                    number=block.number or carried.number,
                    heading=block.heading or carried.heading,
                )
            )
            carried = None
        else:
            out.append(block)
    if carried is not None:
        if out:
            out[-1] = out[-1].but(end=carried.end)
        else:
            out.append(carried.but(heading_only=False))
    return out


def _merge_small(text: str, blocks: list[_Block], min_chars: int) -> list[_Block]:
    """Fragments shorter than min_chars join the previous block (the first one joins the next)."""
    out: list[_Block] = []
    pending_start: Optional[int] = None
    for original in blocks:
        block = original if pending_start is None else original.but(start=pending_start)
        pending_start = None
        if block.end - block.start >= min_chars:  # blocks are trimmed: this is their length
            out.append(block)
        elif out:
            out[-1] = out[-1].but(end=block.end)
        else:
            pending_start = block.start
    if pending_start is not None:  # the whole document is one short fragment
        out.append(_Block(pending_start, blocks[-1].end, "plain"))
    return out


def _split_long(text: str, block: _Block, max_chars: int) -> list[_Block]:
    """A block over max_chars as consecutive pieces of at most max_chars, cut at the gentlest boundary."""
    if block.end - block.start <= max_chars:
        return [block]
    spans = _pack(text, [(block.start, block.end)], max_chars, 0)
    return [block.but(start=start, end=end) for start, end in spans]


_BOUNDARIES = [re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"), _SENTENCE_BREAK, re.compile(r"\s+")]


def _pack(text: str, spans: list[tuple[int, int]], max_chars: int, level: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if end - start <= max_chars:
            out.append((start, end))
            continue
        if level == len(_BOUNDARIES):  # one unbroken run of characters
            out.extend((s, min(s + max_chars, end)) for s in range(start, end, max_chars))
            continue
        cuts = [start]
        cuts += [m.end() for m in _BOUNDARIES[level].finditer(text, start, end) if start < m.end() < end]
        parts = _greedy(text, cuts, end, max_chars)
        out.extend(_pack(text, parts, max_chars, level + 1))
    return out


def _greedy(text: str, cuts: list[int], end: int, max_chars: int) -> list[tuple[int, int]]:
    """Consecutive runs between cut points, each as long as fits in max_chars, trimmed."""
    cuts = [*sorted(set(cuts)), end]
    parts: list[tuple[int, int]] = []
    run_start = cuts[0]
    for prev, cut in itertools.pairwise(cuts):
        if cut - run_start > max_chars and prev > run_start:
            parts.append(_trim(text, run_start, prev))
            run_start = prev
    parts.append(_trim(text, run_start, end))
    return [p for p in parts if p[1] > p[0]]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
