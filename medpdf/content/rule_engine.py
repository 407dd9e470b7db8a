"""The matching engine of the content rules: phrases with ``{drug}`` found in a text.

:mod:`medpdf.content.content_rules` reads the rules files and says what a hit
means for a monograph; this module holds what a rule is (:class:`Rule`,
:class:`RuleSet`, :class:`Hit`) and finds where rules match (:func:`find`):
each pattern compiled once, ``{drug}`` standing for the monograph's own names
(masked in the text, so offsets and lines stay those of the original), a
pattern skipped at once on a text without the words it needs.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medpdf.content.rule_patterns import lowered_pattern, required_words
from medpdf.errors import Level

#: Stands for the monograph's own medicine in a pattern.
DRUG = "{drug}"

#: Written over each of the monograph's own names before matching: the first character
#: of the name, then the rest, as many as the name is long, so that ``{drug}`` is one
#: short alternative and offsets stay those of the text (lines and excerpts come from the
#: original). Private-use characters: no monograph uses them, no pattern matches them by
#: accident. Only the first is where a match may start: one mark for a whole name let the
#: engine try a match at every character of a 100-character combination title.
_MASK = "\ue000"
_MASK_REST = "\ue001"

#: Characters of an excerpt quoted in a diagnostic.
EXCERPT = 70

#: A pattern is skipped at once on a text without one of its needed words only when it
#: needs one of this few (each is a search of the whole text).
MAX_NEEDED = 4


class Kind(enum.Enum):
    """What a hit means for the monograph."""

    NOT_A_LEAFLET = "not-a-leaflet"
    DISCONTINUED = "discontinued"

    @property
    def level(self) -> Level:
        """Not a leaflet is an error (left out of everything); discontinued a warning."""
        return Level.ERROR if self is Kind.NOT_A_LEAFLET else Level.WARNING

    @property
    def label(self) -> str:
        """How ``check`` names the kind: ``not a leaflet``, ``discontinued``."""
        return self.value.replace("-", " ")


@dataclass(frozen=True)
class Rule:
    """One named rule of a language's file: its kind, what it means, its phrases."""

    name: str
    kind: Kind
    message: str
    patterns: tuple[str, ...]
    #: A hit whose sentence matches one of these does not count.
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subject:
    """What ``{drug}`` stands for besides the monograph's own names."""

    #: Words for the medicine in a sentence about it: "it", "this medication".
    words: tuple[str, ...] = ()
    #: What may follow the name before the verb: "(Vioxx)", "tablets".
    after: str = ""

    def pattern(self) -> str:
        """``{drug}`` as a regular expression over lowered, masked text."""
        return f"(?:(?:{'|'.join(self.alternatives())}){self.after})"

    def alternatives(self) -> tuple[str, ...]:
        """Each thing ``{drug}`` may be on its own: the masked names, then each word."""
        return (f"{_MASK}{_MASK_REST}*", *(f"(?:{word})" for word in self.words))


@dataclass(frozen=True)
class RuleSet:
    """Every rule of one language, and the words that stand for the monograph's medicine."""

    lang: str
    path: Path
    rules: tuple[Rule, ...]
    subject: Subject


@dataclass(frozen=True)
class Hit:
    """One place where a rule matched: which rule, which line, the words that matched."""

    rule: Rule
    line: int
    excerpt: str

    @property
    def kind(self) -> Kind:
        """The rule's kind."""
        return self.rule.kind


# -- matching ---------------------------------------------------------------------------


def expand(pattern: str, subject: Subject) -> str:
    """``{drug}`` as the masked names or one of the subject words."""
    return pattern.replace(DRUG, subject.pattern()) if DRUG in pattern else pattern


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    pattern: re.Pattern[str]
    #: The pattern began with ``\\b``: checked by hand, so that the engine can search fast.
    boundary: bool
    #: A match contains one of these words (None: nothing known); the most telling of
    #: :func:`required_words`, so a text without them costs a few substring searches.
    needs: frozenset[str] | None
    unless: tuple[re.Pattern[str], ...]


def _compile(pattern: str, subject: Subject) -> re.Pattern[str]:
    """An ``unless`` pattern, lowered (it is only ever tried on the sentence of a hit)."""
    return re.compile(lowered_pattern(expand(pattern, subject)))


@functools.cache
def _compiled(rules: RuleSet) -> tuple[_Compiled, ...]:
    """Every pattern of every rule, compiled once, with the words it needs."""
    found = []
    for rule in rules.rules:
        unless = tuple(_compile(p, rules.subject) for p in rule.unless)
        for pattern in rule.patterns:
            needed = required_words(lowered_pattern(pattern).replace(DRUG, "(?:x)"))
            # Each word is a search of the whole text: a set of many words costs more than
            # the pattern's own search when that starts with a literal ("i cannot ...").
            # The fewest words, then the longest shortest word; none beyond a few.
            few = [ws for ws in needed if len(ws) <= MAX_NEEDED]
            best = min(few, key=lambda ws: (len(ws), -min(map(len, ws))), default=None)
            for variant in _variants(pattern, rules.subject):
                boundary = variant.startswith("\\b")
                compiled = re.compile(variant.removeprefix("\\b"))
                found.append(_Compiled(rule, compiled, boundary, best, unless))
    return tuple(found)


def _variants(pattern: str, subject: Subject) -> list[str]:
    """The pattern, lowered; one per subject alternative when it starts with ``{drug}``.

    A pattern that starts with a literal is searched for by the regex engine's fast
    literal scan; one that starts with ``{drug}`` (the mask, "it", "this ...") would be
    tried at every "i" and "t" of the text. Split, each variant starts with a literal:
    the four discontinued patterns that start so took 1.2 of the 1.6 ms the English
    rules took per monograph.
    """
    lowered = lowered_pattern(pattern)
    lead = "\\b" if lowered.startswith("\\b") else ""
    if not lowered.removeprefix(lead).startswith(DRUG):
        return [lowered_pattern(expand(pattern, subject))]
    rest = lowered.removeprefix(lead).removeprefix(DRUG)
    return [
        lead
        + lowered_pattern(f"(?:{alternative}{subject.after})")
        + lowered_pattern(expand(rest, subject))
        for alternative in subject.alternatives()
    ]


def _lowered(text: str) -> str:
    """``text`` in lower case and without emphasis stars, one character for one.

    Offsets stay those of ``text``; "is **no longer available**" reads as words.
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered.replace("*", " ")


def _masked(lowered: str, names: Iterable[str]) -> str:
    """``lowered`` with each of the monograph's names, as a whole word, written over by masks.

    Longest name first ("vitamin b12" before "vitamin b"); a plain search per name
    rather than a pattern of all of them, which would be compiled for every monograph
    (0.6 of the 1.4 ms the rules took per monograph).
    """
    usable = sorted({" ".join(n.lower().split()) for n in names}, key=len, reverse=True)
    text = lowered
    for name in usable:
        if len(name) < 3:
            continue
        start = text.find(name)
        while start >= 0:
            end = start + len(name)
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if not _is_word(before) and not _is_word(after):
                text = text[:start] + _MASK + _MASK_REST * (len(name) - 1) + text[end:]
            start = text.find(name, end)
    return text


#: Where a sentence ends: a full stop, question or exclamation mark before a space, or a
#: line break (a heading or list item ends with its line).
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence (or line) around ``text[start:end]``."""
    before = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    after = _SENTENCE_END.search(text, end)
    return text[before : after.start() if after else len(text)]


def _excerpt(text: str, start: int, end: int) -> str:
    words = " ".join(text[start:end].split())
    return words if len(words) <= EXCERPT else words[: EXCERPT - 1] + "…"


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _matches(compiled: _Compiled, text: str, present: dict[str, bool]) -> Iterator[tuple[int, int]]:
    """Spans where one compiled pattern matches ``text`` (lowered and masked).

    ``present`` remembers which needed words ``text`` holds, for the other patterns.
    """
    if compiled.needs is not None:
        for word in compiled.needs:
            if (found := present.get(word)) is None:
                found = present[word] = word in text
            if found:
                break
        else:
            return
    position = 0
    while (match := compiled.pattern.search(text, position)) is not None:
        start, end = match.span()
        if compiled.boundary and start > 0 and _is_word(text[start - 1]):
            position = start + 1  # not at a word's start: look again from the next character
            continue
        yield start, end
        position = max(end, start + 1)


def find(
    text: str, names: Iterable[str], rules: RuleSet | None, first_line: int = 1
) -> tuple[Hit, ...]:
    """Every hit of ``rules`` in ``text``, in order of rule, then position.

    ``names`` are the monograph's own names (what ``{drug}`` stands for);
    ``first_line`` is the line of the file where ``text`` starts.
    """
    if rules is None:
        return ()
    masked = _masked(_lowered(text), names)
    spans: list[tuple[int, int, int, Rule]] = []
    present: dict[str, bool] = {}
    for compiled in _compiled(rules):
        for start, end in _matches(compiled, masked, present):
            if compiled.unless:
                sentence = _sentence(masked, start, end)
                if any(p.search(sentence) for p in compiled.unless):
                    continue
            spans.append((rules.rules.index(compiled.rule), start, end, compiled.rule))
    spans.sort(key=lambda span: span[:2])
    hits: list[Hit] = []
    reached: dict[int, int] = {}  # rule -> end of its last hit: two patterns, one phrase
    for number, start, end, rule in spans:
        if start < reached.get(number, -1):
            continue
        reached[number] = end
        line = first_line + text.count("\n", 0, start)
        hits.append(Hit(rule, line, _excerpt(text, start, end)))
    return tuple(hits)
