"""What a medicine is for, in a few words a patient understands: the pack's "What it is for".

The first sentence of a monograph's Usage, from the word "Used …" on, shortened
to what fits a table cell.
"""

from __future__ import annotations

import re

from medpdf import markdown
from medpdf.model import Monograph, SectionKind

#: Longest purpose a schedule cell shows, in characters; about two lines of the cell.
PURPOSE_LIMIT = 90
#: Clause boundaries a long purpose is cut at, before falling back to a word boundary.
_CLAUSE_BREAKS = re.compile(
    r",\s|;\s|:\s|\s[-\u2013\u2014]\s|\s(?:such as|including|especially|particularly|"
    r"which|where|when|as well as|along with|and is|but)\s",
    re.IGNORECASE,
)
# A sentence ends at . ! ? followed by a space and a capital, digit or quote; "e.g. the"
# does not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
# "X is (primarily|commonly …) used to/for/in/as …": the purpose starts at "used".
_USED = re.compile(
    r"\b(?:used|prescribed|indicated|taken|given)\s+(?:\w+ly\s+)?(?:to|for|in|as)\b", re.I
)
# Blocks that label something else ("Generic Name: X" in an intro): not what it is for.
_OTHER_LABEL = re.compile(
    r"^(?:generic names?|brand names?|dosage|side effects?|precautions?|notes?)\s*:", re.I
)
#: A purpose shorter than this after cutting a clause is cut at a word instead.
_MIN_CLAUSE = 35


def _blocks(body: str) -> list[str]:
    """Paragraphs and list items of a section body, as plain text, headings left out."""
    found: list[str] = []
    for block in re.split(r"\n\s*\n", body):
        items = re.split(r"\n\s*(?=[*+\u2022-]\s|\d+[.)]\s)", block.strip())
        for item in items:
            lines = [line.strip() for line in item.splitlines() if not line.strip().startswith("#")]
            text = markdown.plain_text(re.sub(r"^(?:[*+\u2022-]|\d+[.)])\s+", "", " ".join(lines)))
            # "Usage:" written as a label at the start of the paragraph (combinations).
            text = re.sub(r"^(?:usage|uses?|indications?)\s*:\s*", "", text, flags=re.I)
            if text and not _OTHER_LABEL.match(text):
                found.append(text)
    return found


def first_paragraph(body: str) -> str:
    """The first paragraph; one that ends in a colon runs on into the list after it."""
    blocks = _blocks(body)
    if not blocks:
        return ""
    first = blocks[0]
    if first.endswith(":") and len(blocks) > 1:
        # "**Nerve pain:** It can …": the item's label is the condition.
        items = [first_sentence(b.split(":")[0] if ":" in b[:60] else b) for b in blocks[1:4]]
        first = first.rstrip(": ") + " " + ", ".join(items) + "."
    return first


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, without its closing full stop."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return sentence.rstrip(" .!?")


def shorten(text: str, limit: int = PURPOSE_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters at a clause boundary, else at a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cuts = [
        m.start() for m in _CLAUSE_BREAKS.finditer(text) if _MIN_CLAUSE <= m.start() <= limit - 1
    ]
    if cuts:
        return text[: cuts[-1]].rstrip(" ,;:") + "…"
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + "…"


def usage_body(monograph: Monograph) -> str:
    """The text of the first Usage section, or of a component's "Usage:" paragraph."""
    found = monograph.sections_of(SectionKind.USAGE)
    if found:
        return found[0].body
    for section in monograph.sections:
        match = re.search(r"^\**\s*(?:usage|uses?)\s*:?\s*\**\s*:?(.+)$", section.body, re.I | re.M)
        if match:
            rest = section.body[match.start(1) :]
            following = re.search(r"^\*\*[^*\n]{1,40}:?\*\*", rest, re.M)  # the next label
            return rest[: following.start()] if following else rest
    return monograph.intro


def purpose(monograph: Monograph, limit: int = PURPOSE_LIMIT) -> str:
    """What the medicine is for, in a few words, from the first sentence of its Usage.

    The subject ("Metformin is primarily") is dropped when the sentence says
    what it is used for; asides in parentheses go; a long rest is cut at a
    clause, then at a word, and marked with an ellipsis. Empty when the
    monograph says nothing usable.
    """
    sentence = usage_sentence(monograph)
    sentence = _PARENTHESES.sub("", sentence).strip()
    used = _USED.search(sentence)
    if used is not None and used.start() <= 80:
        sentence = sentence[used.start() :]
    if sentence:
        sentence = sentence[0].upper() + sentence[1:]
    return shorten(sentence, limit)


def usage_sentence(monograph: Monograph) -> str:
    """The first sentence of the Usage (or of a combination's first "Usage:" paragraph)."""
    return first_sentence(first_paragraph(usage_body(monograph)))


def how_it_works_sentence(monograph: Monograph) -> str:
    """The first sentence of the How it Works section; empty without one."""
    found = monograph.sections_of(SectionKind.HOW_IT_WORKS)
    return first_sentence(first_paragraph(found[0].body)) if found else ""
