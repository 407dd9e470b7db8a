"""Translations: how monographs of one drug in several languages are linked.

The scheme (docs/editing/translations.md): a translation is a monograph of its own,
anywhere in the content folder, whose front matter says ``lang:`` (its BCP 47
language) and ``translation_of:`` (the slug of the original). The original
needs nothing new; without ``lang:`` it is in the ``[output] content_lang``. Each
translation keeps its own file, slug, version hash and ``reviewed:`` date:
it is its own edition, reviewed on its own.

``check`` (through :func:`check_links`) reports a translation of a drug that
is not in the collection, a translation of a translation, and two monographs
of the same drug in the same language; each such file is left out of builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from medpdf.errors import Diagnostic, Level


class Linked(Protocol):
    """What linking translations needs of a monograph (a collection's ``Entry``)."""

    @property
    def slug(self) -> str:
        """Its file-name slug."""
        ...

    @property
    def lang(self) -> str:
        """The language it is written in."""
        ...

    @property
    def translation_of(self) -> str | None:
        """The slug of the original it translates; None for an original."""
        ...

    @property
    def drug(self) -> str:
        """The drug it is about: the original's slug."""
        ...

    @property
    def source_path(self) -> str:
        """Its path as shown to the user."""
        ...


#: A monograph of the collection (the scan's ``Entry``), whatever else it holds.
Entry = TypeVar("Entry", bound=Linked)


def primary(lang: str) -> str:
    """A tag in the one case used for comparing (``zh-Hans`` and ``zh-hans`` are one)."""
    return lang.lower()


def check_links(entries: Sequence[Entry]) -> tuple[list[Entry], list[Diagnostic]]:
    """Keep the entries whose translation link is sound; the rest are errors.

    Originals are placed first, so when an original and a translation claim the
    same drug and language, the translation is the one reported.
    """
    by_slug = {entry.slug: entry for entry in entries}
    problems: list[Diagnostic] = []
    kept: list[Entry] = []
    claimed: dict[tuple[str, str], Entry] = {}
    ordered = sorted(entries, key=lambda e: e.translation_of is not None)
    for entry in ordered:
        message = None
        original = by_slug.get(entry.translation_of) if entry.translation_of else None
        key = (entry.drug, primary(entry.lang))
        if entry.translation_of == entry.slug:
            message = f"'translation_of: {entry.slug}' names this monograph itself"
        elif entry.translation_of and original is None:
            message = (
                f"translation of '{entry.translation_of}', which is not in the collection "
                "(translation_of must be the slug of the original's file)"
            )
        elif original is not None and original.translation_of:
            message = (
                f"translation of '{original.slug}', which is itself a translation of "
                f"'{original.translation_of}'; name the original instead"
            )
        elif (first := claimed.get(key)) is not None:
            message = (
                f"second monograph of drug '{entry.drug}' in language '{entry.lang}' "
                f"(also {first.source_path})"
            )
        if message is not None:
            problems.append(Diagnostic(entry.source_path, None, Level.ERROR, message))
            continue
        claimed[key] = entry
        kept.append(entry)
    order = {id(entry): position for position, entry in enumerate(entries)}
    kept.sort(key=lambda e: order[id(e)])
    return kept, problems


def by_drug(entries: Iterable[Entry]) -> dict[str, dict[str, Entry]]:
    """Drug slug -> language (as written) -> the monograph in that language."""
    found: dict[str, dict[str, Entry]] = {}
    for entry in entries:
        found.setdefault(entry.drug, {})[entry.lang] = entry
    return found


def find(entries: Iterable[Entry], slug: str, lang: str) -> Entry | None:
    """The monograph of ``slug``'s drug in ``lang`` (exact tag, then same primary language)."""
    pool = list(entries)
    drug = next((e.drug for e in pool if e.slug == slug), slug)
    versions = by_drug(pool).get(drug, {})
    wanted = primary(lang)
    for tag, entry in versions.items():
        if primary(tag) == wanted:
            return entry
    base = wanted.split("-")[0]
    return next((e for tag, e in versions.items() if primary(tag).split("-")[0] == base), None)
