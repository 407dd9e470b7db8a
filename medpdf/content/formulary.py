"""The clinic's own booklet: pick the monographs its formulary names.

A formulary (``--only FILE`` or ``[formulary] names``) names monographs by slug
or title, as ``medpdf handout`` does. Every name must resolve: a booklet that
silently lacks a stocked medicine is worse than no booklet, so unknown names
stop the build before anything is laid out, each with its own line and up to
three close suggestions. A monograph named twice (by slug and by title, say)
is in the booklet once.
"""

from __future__ import annotations

from collections.abc import Sequence

from medpdf.content.collection import Entry, suggestions
from medpdf.errors import Diagnostic, Level, ListedUsageError
from medpdf.settings.table_kinds import FormularyList


def select(entries: Sequence[Entry], formulary: FormularyList | None) -> list[Entry]:
    """The entries the formulary names (all of them without one), in collection order.

    Raises :class:`ListedUsageError` naming every unknown name.
    """
    if formulary is None:
        return list(entries)
    # A drug's slug also names its translation: "ibuprofen" is ibuprofen.es in Spanish.
    by_slug = {**{e.drug: e for e in entries}, **{e.slug: e for e in entries}}
    by_title = {e.title.casefold(): e for e in entries}
    chosen: set[str] = set()
    unknown: list[Diagnostic] = []
    for line, name in formulary.names:
        wanted = name.casefold()
        entry = by_slug.get(wanted) or by_title.get(wanted)
        if entry is not None:
            chosen.add(entry.slug)
            continue
        hint = suggestions(name, entries)
        message = f"no monograph named '{name}' in the collection"
        if hint:
            message += "; did you mean: " + ", ".join(hint) + "?"
        unknown.append(Diagnostic(formulary.origin, line, Level.ERROR, message))
    if unknown:
        raise ListedUsageError(unknown)
    return [e for e in entries if e.slug in chosen]
