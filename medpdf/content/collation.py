"""Alphabetical order and letter groups by a language's own rules (ICU).

A reader looks a drug up where their language's dictionaries put it: in
Spanish "Ácido fólico" is under A and "Ñame" comes after every "N" word under
its own letter Ñ; in Chinese titles follow their pinyin (阿莫西林 under A,
布洛芬 under B); in English "Ébrovan" sits with the other E words. A code-point
sort or an accent-stripping A-Z rule gets each of these wrong, so order and
letters come from ICU: its collator (the Unicode Collation Algorithm with the
CLDR tailoring of the language) and its ``AlphabeticIndex`` (the letters a
language's index shows, consistent with that collator).

Titles that fall outside the language's letters (digits, symbols, another
script: "5-FU" or a Latin name in an Arabic booklet) group under
:data:`OTHER_LETTER`, placed after the letters as the booklet has always done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

import icu

#: The group of titles that begin with no letter of the language.
OTHER_LETTER = "#"

T = TypeVar("T")


@dataclass(frozen=True)
class Collation:
    """One language's order: a sort key and the index letter of any text."""

    lang: str
    _collator: icu.Collator
    _index: icu.ImmutableIndex

    def letter(self, text: str) -> str:
        """The index letter ``text`` is listed under, or :data:`OTHER_LETTER`."""
        label, kind = self._index.getBucket(self._index.getBucketIndex(_from_first(text)))
        return str(label) if kind == icu.UAlphabeticIndexLabelType.NORMAL else OTHER_LETTER

    def key(self, text: str) -> tuple[bool, bytes]:
        """Sort key: the language's letters first, then the ``#`` group; UCA order within."""
        start = _from_first(text)
        return (self.letter(start) == OTHER_LETTER, bytes(self._collator.getSortKey(start)))

    def sorted(
        self, items: Iterable[T], text: Callable[[T], str], tie: Callable[[T], str]
    ) -> list[T]:
        """``items`` in this language's order of ``text(item)``; ``tie`` breaks equal texts."""
        return sorted(items, key=lambda item: (*self.key(text(item)), tie(item)))


def _from_first(text: str) -> str:
    # Leading spaces and punctuation ("(R)-...", quotes) neither place nor group a title.
    for position, char in enumerate(text):
        if char.isalnum():
            return text[position:]
    return text


@lru_cache(maxsize=16)
def for_lang(lang: str) -> Collation:
    """The collation of a BCP 47 tag (``es``, ``zh-Hans``, ``pt-BR``), built once per tag."""
    locale = icu.Locale.forLanguageTag(lang)
    collator = icu.Collator.createInstance(locale)
    index = icu.AlphabeticIndex(locale).buildImmutableIndex()
    return Collation(lang, collator, index)
