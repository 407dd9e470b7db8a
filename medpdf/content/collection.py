"""Gather and validate: every monograph of a collection, or why it is left out.

Like MkDocs, a run reads and checks the whole collection before any PDF is
made. ``check``, the builds and the station all go through :func:`scan`, so
they report exactly the same problems; given somewhere to keep parse results
(:class:`Summaries`: the build cache), an unchanged file is not parsed again
(its title and problems are remembered by a key of its text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from medpdf.content import (
    content_rules,
    front_matter,
    glyphs,
    ingredients,
    model,
    sources,
    translations,
)
from medpdf.content.glyphs import GlyphCheck
from medpdf.content.model import Monograph
from medpdf.digests import digest_of, software_fingerprint
from medpdf.errors import DiagnosedError, Diagnostic, Level, SourceError, UsageError, sort_key
from medpdf.settings.options import CONTENT_LANG

if TYPE_CHECKING:
    from medpdf.content.approvals import Review
    from medpdf.settings.config import Config


@dataclass(frozen=True)
class Summary:
    """What parsing one source found, without the monograph itself."""

    title: str | None  # None when the file is an error
    problems: tuple[tuple[int | None, str, str], ...]  # line, level, message
    #: Front matter ``lang:`` and ``translation_of:``, for linking translations.
    lang: str | None = None
    translation_of: str | None = None
    #: Front matter ``codes:`` as ``system|code`` text, for finding a drug by code.
    codes: tuple[str, ...] = ()

    def diagnostics(self, path: str) -> list[Diagnostic]:
        """The stored problems, attached to ``path``."""
        return [Diagnostic(path, line, Level(level), msg) for line, level, msg in self.problems]

    @classmethod
    def of(
        cls,
        title: str | None,
        diagnostics: Iterable[Diagnostic],
        lang: str | None = None,
        translation_of: str | None = None,
        codes: Iterable[object] = (),
    ) -> Summary:
        """Drop the path (it is not part of the key) and keep the rest."""
        problems = tuple((d.line, d.level.value, d.message) for d in diagnostics)
        return cls(title, problems, lang, translation_of, tuple(str(c) for c in codes))


class Summaries(Protocol):
    """Where parse results are kept between runs, by a key of the text (the build cache)."""

    def summaries(self, keys: Iterable[str]) -> dict[str, Summary]:
        """The stored summaries among ``keys``."""
        ...

    def put_summaries(self, items: Iterable[tuple[str, Summary]]) -> None:
        """Store parse results."""
        ...


@dataclass(frozen=True)
class Rules:
    """What a scan checks beyond the file itself: the default language and its fonts."""

    #: ``[output] content_lang``: the language of monographs without ``lang:``.
    default_lang: str = "en"
    #: Glyph coverage of the font stacks; None skips it (slug and title lookups).
    glyphs: GlyphCheck | None = None

    @property
    def fingerprint(self) -> str:
        """What cached parse results depend on besides the text and the code."""
        return digest_of(self.default_lang, self.glyphs.fingerprint if self.glyphs else "")

    @classmethod
    def of(cls, config: Config) -> Rules:
        """The rules of a run: its ``[output] content_lang`` and the fonts of its styles."""
        return cls(config[CONTENT_LANG], glyphs.for_styles(config.resources.styles))


@dataclass(frozen=True)
class Entry:
    """A valid monograph: its source, its title, and its model when the scan kept it."""

    source: sources.Source
    title: str
    #: Kept when the file was parsed in this scan (always without a cache, as for ``check``).
    monograph: Monograph | None = None
    #: Language of the text: front matter ``lang:``, else the ``[output] content_lang``.
    lang: str = "en"
    #: Slug of the drug this monograph translates; None for an original.
    translation_of: str | None = None
    #: Its front matter ``codes:`` (``system|code``), for EHR lists and Infobutton.
    codes: tuple[str, ...] = ()
    #: Who approved this edition and when (:mod:`medpdf.content.approvals`), for the footer.
    review: Review | None = None

    @property
    def drug(self) -> str:
        """The drug this monograph is about: the original's slug, shared by its translations."""
        return self.translation_of or self.source.slug

    @property
    def slug(self) -> str:
        """File-name slug."""
        return self.source.slug

    @property
    def source_path(self) -> str:
        """Path as shown to the user."""
        return self.source.display_path


@dataclass(frozen=True)
class Collection:
    """Every valid monograph of a collection and every problem found on the way."""

    entries: tuple[Entry, ...]
    diagnostics: tuple[Diagnostic, ...]
    files_seen: int

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Problems that keep a file out of the build."""
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def monographs(self) -> tuple[Monograph, ...]:
        """The models parsed in this scan."""
        return tuple(e.monograph for e in self.entries if e.monograph is not None)


def examine(source: sources.Source, rules: Rules) -> tuple[Summary, Monograph | None]:
    """Parse one source for its title and problems, never raising.

    A character no font can draw is an error: the file is left out (title
    None) rather than printed with empty boxes. So is text that is not a
    leaflet (:mod:`medpdf.content.content_rules`).
    """
    try:
        mono = model.build(source)
    except SourceError as exc:
        return Summary.of(None, [exc.diagnostic]), None
    except Exception as exc:  # a parser bug must not stop the other files
        return Summary(None, ((None, Level.ERROR.value, f"cannot parse: {exc!r}"),)), None
    lang = mono.lang or rules.default_lang
    if rules.glyphs is not None and (
        missing := rules.glyphs.diagnostics(source.display_path, source.text, lang)
    ):
        return Summary.of(None, [*missing, *mono.warnings]), None
    said = content_rules.check(source, mono, lang)
    if any(d.is_error for d in said):  # not a leaflet: left out, like a file that fails
        return Summary.of(None, [*said, *mono.warnings]), None
    warnings = [*mono.warnings, *said, *_index_warnings(source, mono)]
    return Summary.of(mono.title, warnings, mono.lang, mono.translation_of, mono.codes), mono


def _index_warnings(source: sources.Source, mono: Monograph) -> list[Diagnostic]:
    """Title or generic name components that would be junk entries of the booklet's index."""
    found = []
    for field, text, line in (
        ("title", mono.title, front_matter.line_of(source.text, "title")),
        (
            "generic name",
            "" if mono.generic_name in (None, mono.title) else mono.generic_name,
            None,
        ),
    ):
        for written, why in ingredients.junk_names(text):
            message = f"{field} component {written!r} {why}"
            found.append(Diagnostic(source.display_path, line, Level.WARNING, message))
    return found


def _summary_key(source: sources.Source, rules: Rules) -> str:
    return digest_of("summary", software_fingerprint(), rules.fingerprint, source.slug, source.text)


def _duplicates(entries: Iterable[Entry]) -> tuple[list[Entry], list[Diagnostic]]:
    """Keep the first of each slug and title (in path order); the rest are errors.

    Titles need only be unique within a language: "Aspirin" may be English and German.
    """
    kept: list[Entry] = []
    problems: list[Diagnostic] = []
    by_slug: dict[str, Entry] = {}
    by_title: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        title_key = (translations.primary(entry.lang), entry.title.casefold())
        if (first := by_slug.get(entry.slug)) is not None:
            message = f"duplicate slug '{entry.slug}' (also {first.source_path})"
        elif (first := by_title.get(title_key)) is not None:
            message = f"duplicate title '{entry.title}' (also {first.source_path})"
        else:
            by_slug[entry.slug] = entry
            by_title[title_key] = entry
            kept.append(entry)
            continue
        problems.append(Diagnostic(entry.source_path, None, Level.ERROR, message))
    return kept, problems


def scan(
    content_dir: Path, store: Summaries | None = None, rules: Rules | None = None
) -> Collection:
    """Read every source and validate it, reusing earlier parses of unchanged text."""
    rules = rules or Rules()
    items = list(sources.read_all(content_dir))
    readable = [item for item in items if isinstance(item, sources.Source)]
    keys = {item.path: _summary_key(item, rules) for item in readable} if store is not None else {}
    known = store.summaries(keys.values()) if store is not None else {}
    fresh: list[tuple[str, Summary]] = []
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    for item in items:
        if isinstance(item, SourceError):
            diagnostics.append(item.diagnostic)
            continue
        key = keys.get(item.path)
        summary = known.get(key) if key is not None else None
        monograph = None
        if summary is None:
            summary, monograph = examine(item, rules)
            if key is not None:
                fresh.append((key, summary))
        diagnostics.extend(summary.diagnostics(item.display_path))
        if summary.title is not None:
            lang = summary.lang or rules.default_lang
            entries.append(
                Entry(item, summary.title, monograph, lang, summary.translation_of, summary.codes)
            )
    if store is not None and fresh:
        store.put_summaries(fresh)
    kept, duplicates = _duplicates(entries)
    kept, unlinked = translations.check_links(kept)
    diagnostics.extend([*duplicates, *unlinked])
    diagnostics.sort(key=sort_key)
    return Collection(tuple(kept), tuple(diagnostics), len(items))


def suggestions(name: str, candidates: Iterable[Entry], limit: int = 3) -> list[str]:
    """Up to ``limit`` slugs that look like ``name``.

    Slug and title are scored apart, each entry by its better one: scored as
    one string "slug title", "metformn" found every "metformin + …"
    combination as close as Metformin itself and left Metformin out.
    """
    from rapidfuzz import fuzz, process  # only needed when a name is not found

    entries = list(candidates)
    wanted = name.casefold()
    best: dict[str, float] = {}
    for choices in (
        {e.slug: e.slug.casefold() for e in entries},
        {e.slug: e.title.casefold() for e in entries},
    ):
        for _, score, slug in process.extract(
            wanted, choices, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60
        ):
            best[slug] = max(score, best.get(slug, 0.0))
    ranked = sorted(best, key=lambda slug: -best[slug])
    return ranked[:limit]


def find_source(content_dir: Path, name: str) -> sources.Source:
    """Resolve a slug or title (case-insensitive) to the source of one monograph.

    A slug is the file name, so the common case reads one file; a title needs
    the whole collection.
    """
    wanted = name.strip().casefold()
    for path in sources.discover(content_dir):
        if sources.slug_for(path) == wanted:
            return sources.read(path)
    found = scan(content_dir)
    for entry in found.entries:
        if entry.title.casefold() == wanted:
            return entry.source
    hint = suggestions(name, found.entries)
    message = f"no monograph named '{name}' in {content_dir}"
    if hint:
        message += "; did you mean: " + ", ".join(hint) + "?"
    raise UsageError(message)


def require_printable(source: sources.Source, rules: Rules) -> None:
    """Raise the first error :func:`scan` would report for this one file (one-shot handouts)."""
    summary, _ = examine(source, rules)
    for problem in summary.diagnostics(source.display_path):
        if problem.is_error:
            raise DiagnosedError(problem)


def find_monograph(content_dir: Path, name: str) -> Monograph:
    """The parsed monograph named ``name`` (slug or title)."""
    return model.build(find_source(content_dir, name))
