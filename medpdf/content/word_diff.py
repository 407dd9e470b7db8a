"""What changed between two editions of a monograph, word by word.

``medpdf review`` and the station's review page show a reviewer what changed
since the approved edition (:mod:`medpdf.content.approvals`) as git's
``--word-diff`` does: reflowed lines are not changes, a few unchanged words
stand around each change.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Segment:
    """Words of a hunk: ``same`` (context), ``removed`` (approved text) or ``added`` (now)."""

    kind: str
    text: str


@dataclass(frozen=True)
class Hunk:
    """One place that changed, with a few unchanged words around it."""

    #: Line of the file (as it is now) where the hunk starts.
    line: int
    segments: tuple[Segment, ...]

    def plain(self) -> str:
        """``line 11: … adults [-who were-]{+who are+} candidates …`` (git's --word-diff)."""
        marks = {"same": "{}", "removed": "[-{}-]", "added": "{{+{}+}}"}
        words = " ".join(marks[s.kind].format(s.text) for s in self.segments)
        return f"line {self.line}: {words}"


def word_diff(old: str, new: str, context: int = 6) -> tuple[Hunk, ...]:
    """What changed between two texts, word by word (reflowed lines are not changes)."""
    old_words = [(m.group(0), m.start()) for m in _WORD.finditer(old)]
    new_words = [(m.group(0), m.start()) for m in _WORD.finditer(new)]
    matcher = difflib.SequenceMatcher(
        None, [w for w, _ in old_words], [w for w, _ in new_words], autojunk=False
    )
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        segments: list[Segment] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                segments.append(Segment("same", _joined(new_words[j1:j2])))
                continue
            if i2 > i1:
                segments.append(Segment("removed", _joined(old_words[i1:i2])))
            if j2 > j1:
                segments.append(Segment("added", _joined(new_words[j1:j2])))
        first = group[0][3]
        offset = new_words[min(first, len(new_words) - 1)][1] if new_words else 0
        hunks.append(Hunk(new.count("\n", 0, offset) + 1, tuple(segments)))
    return tuple(hunks)


def _joined(words: list[tuple[str, int]]) -> str:
    return " ".join(word for word, _ in words)
