"""Reading a content rule's regular expression: its letters lowered, the words it needs.

Text is lowered once and patterns are lowered to match it
(:func:`lowered_pattern`); :func:`required_words` says which words any match
of a pattern must contain, so that :mod:`medpdf.content.rule_engine` can skip
a pattern at once on a text without them.
"""

from __future__ import annotations

import re


def lowered_pattern(pattern: str) -> str:
    """The pattern with its letters in lower case, escapes (``\\S``, ``\\b``) left alone.

    Text is lowered once and matched without ``re.IGNORECASE``: a case-blind pattern
    cannot use the regex engine's literal-prefix search and took 4x as long (5.9 ms
    against 1.4 ms for the 31 patterns of en.toml on a 4 kB monograph).
    """
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern[index] == "\\":
            out.append(pattern[index : index + 2])
            index += 2
        else:
            out.append(pattern[index].lower())
            index += 1
    return "".join(out)


_QUANTIFIERS = frozenset("?*+{")
_LETTERS = re.compile(r"[a-z]+")


def _leading_word(branch: str) -> str:
    """The letters a branch must start with ("" if it starts with anything else)."""
    match = _LETTERS.match(branch)
    if match is None:
        return ""
    word = match.group(0)
    follows = branch[match.end() : match.end() + 1]
    return word[:-1] if follows in _QUANTIFIERS else word


def _split_top(group: str) -> list[str] | None:
    """The alternatives of a group's body, or None when it holds a nested group or class."""
    if any(c in group for c in "()[]"):
        return None
    branches, current, index = [], "", 0
    while index < len(group):
        char = group[index]
        if char == "\\":
            current += group[index : index + 2]
            index += 2
            continue
        if char == "|":
            branches.append(current)
            current = ""
        else:
            current += char
        index += 1
    return [*branches, current]


def required_words(pattern: str) -> tuple[frozenset[str], ...]:
    """Sets of words a match must contain one of (each set is needed); () when unknown.

    A conservative reading of the pattern's top level only: a run of letters not
    made optional, or a group ``(?:a|b|c)`` not made optional whose every
    alternative starts with letters. A pattern with a top-level ``|`` gives ().
    Used to skip a pattern at once on a text without those words, which keeps
    patterns that start with ``{drug}`` (a set of common letters) cheap.
    """
    needed: list[frozenset[str]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
        elif char == "[":
            index = _class_end(pattern, index) + 1
        elif char == "|":
            return ()
        elif char == "(":
            end = _group_end(pattern, index)
            if end is None:
                return ()
            body = pattern[index + 1 : end]
            if pattern[end + 1 : end + 2] not in _QUANTIFIERS and body.startswith("?:"):
                branches = _split_top(body[2:])
                words = [_leading_word(b) for b in branches] if branches else []
                if words and all(len(w) >= 3 for w in words):
                    needed.append(frozenset(words))
            index = end + 1
        elif (match := _LETTERS.match(pattern, index)) is not None:
            word = _leading_word(pattern[index:])
            if len(word) >= 4:
                needed.append(frozenset([word]))
            index = match.end()
        else:
            index += 1
    return tuple(needed)


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` that closes the character class opened at ``start``."""
    index = start + 1
    if pattern[index : index + 1] == "^":
        index += 1
    if pattern[index : index + 1] == "]":  # a first "]" is a character of the class
        index += 1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index
        index += 1
    return len(pattern)


def _group_end(pattern: str, start: int) -> int | None:
    """Index of the parenthesis that closes the group opened at ``start``."""
    depth = 0
    index = start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(pattern, index) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None
