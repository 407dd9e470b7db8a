"""Medication packs: "My medicines" and each medicine's handout, as one PDF.

The names are resolved like ``medpdf handout`` resolves one (slug or title; an
unknown one exits 2 with close suggestions), a name given twice counts once,
and 1 to 20 medicines make a pack. Every document of the pack goes through the
one render path: page 1 and the closing disclaimer from ``pack.html.j2``, each
medicine from :func:`medpdf.html.templating.monograph_html`. They are laid out as
separate documents (each keeps its own "page x of y") and written as one tagged
PDF (PDF/UA-1, the outline My medicines → each medicine); the pack-wide "Page
X of Y", in the pack's language, is laid out as one more document whose margin
boxes join the pages before they are written (``templates/pack-numbers.html.j2``).

A :class:`Pack` is a request settled against the monographs: what the
command line (:func:`make_pack`) and the station (in its worker pool) both
render, under a time limit of n + 1 times the per-handout one, and the one
page-1 view both show. A medicine that cannot be rendered is named in one line
and nothing is written: the PDF reaches its target atomically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from medpdf.content import collection, model, sources
from medpdf.content.sources import Source
from medpdf.digests import digest_of
from medpdf.errors import DiagnosedError, RenderError, UsageError
from medpdf.html import templating
from medpdf.products import language_choice
from medpdf.products.handouts import handout_key
from medpdf.products.pack import pages
from medpdf.products.pack.packlist import MAX_MEDICINES, PackRequest, Patient, Wanted, slug_of
from medpdf.run import Failure, Rendered, RunContext, run_here, sweep_stale_temps, write_atomic
from medpdf.settings.config import Config
from medpdf.settings.options import CONTENT_LANG, LANG, LARGE_PRINT

#: A purpose longer than this is shortened; large print has less room per line.
PURPOSE_LIMIT = {False: 90, True: 70}


def packs_dir(config: Config) -> Path:
    """Where packs are written unless ``-o`` says otherwise."""
    return config.output_dir / "packs"


def resolve(content_dir: Path, names: Sequence[str]) -> tuple[list[sources.Source], list[set[str]]]:
    """The sources the names stand for, in order, each once; and the names each answers to.

    Slugs are file names, so the common case reads only those files; titles
    need one scan of the collection, done at most once.
    """
    if not names:
        raise UsageError("a pack needs at least one medicine")
    sources.require_folder(content_dir)
    by_slug = {sources.slug_for(p): p for p in sources.discover(content_dir)}
    by_title: dict[str, sources.Source] | None = None
    found: list[sources.Source] = []
    answers: list[set[str]] = []
    for name in names:
        wanted = name.strip().casefold()
        if wanted in by_slug:
            source = sources.read(by_slug[wanted])
        else:
            if by_title is None:
                by_title = {
                    e.title.casefold(): e.source for e in collection.scan(content_dir).entries
                }
            if wanted not in by_title:
                collection.find_source(content_dir, name)  # raises the message `handout` gives
            source = by_title[wanted]
        slugs = [s.slug for s in found]
        if source.slug in slugs:
            answers[slugs.index(source.slug)].add(wanted)
            continue
        found.append(source)
        answers.append({wanted, source.slug})
        if len(found) > MAX_MEDICINES:
            raise UsageError(f"a pack holds at most {MAX_MEDICINES} medicines")
    return found, answers


@dataclass(frozen=True)
class PackJob:
    """One pack to render: everything it needs, picklable (the station may pool it)."""

    sources: tuple[sources.Source, ...]
    wanted: tuple[Wanted, ...]
    context: RunContext
    target: Path
    #: Medicines of a record's list without a leaflet: rows of page 1 only.
    unlisted: tuple[Wanted, ...] = ()
    #: The patient's name and birth date (``--with-patient``); never stored.
    patient: Patient | None = None
    #: ``--lang``: the language the pack speaks (else its first medicine's).
    lang: str | None = None
    #: Titles of the medicines printed in their original language for want of a translation.
    unavailable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pack:
    """A pack settled and ready to render: its medicines in order, what was asked, the run."""

    sources: tuple[Source, ...]
    monographs: tuple[model.Monograph, ...]
    wanted: tuple[Wanted, ...]
    context: RunContext
    #: Medicines of a record's list without a leaflet: rows of page 1 only.
    unlisted: tuple[Wanted, ...] = ()
    #: ``--lang``: the language the pack speaks (else its first medicine's).
    lang: str | None = None
    #: Titles of the medicines printed in their original language for want of a translation.
    unavailable: tuple[str, ...] = ()

    @classmethod
    def settle(
        cls,
        request: PackRequest,
        found: Sequence[Source],
        monographs: Sequence[model.Monograph],
        names: Sequence[set[str]],
        context: RunContext,
    ) -> Pack:
        """The pack ``request`` asks for; ``names`` are what each medicine answers to.

        Times and notes are matched to the medicines by those names and titles;
        one that matches none is a :class:`~medpdf.errors.UsageError`. The
        request's medicines without a leaflet come along as rows of page 1.
        """
        pairs = zip(monographs, names, strict=True)
        wanted = request.settle([(m.title, answers | {m.title}) for m, answers in pairs])
        return cls(tuple(found), tuple(monographs), wanted, context, request.unlisted)

    @property
    def key(self) -> str:
        """Every medicine's text and layout, the times and notes, the day: a kept PDF's key."""
        handouts = (handout_key(source, self.context) for source in self.sources)
        return digest_of(
            "pack",
            *handouts,
            repr(self.wanted),
            repr(self.unlisted),
            self.context.config.printed.isoformat(),
        )

    @property
    def seconds(self) -> float:
        """The time limit of its render: one handout's, n + 1 times over."""
        return self.context.limits.seconds * (len(self.sources) + 1)

    def job(self, target: Path, patient: Patient | None = None) -> PackJob:
        """The render of this pack, written at ``target`` (with the patient's name if given)."""
        return PackJob(
            self.sources,
            self.wanted,
            self.context,
            target,
            self.unlisted,
            patient,
            self.lang,
            self.unavailable,
        )

    @property
    def has_notes(self) -> bool:
        """True when a note was typed for a medicine: words about one patient."""
        return any(w.note for w in (*self.wanted, *self.unlisted))

    def without_notes(self) -> Pack:
        """The same pack with its notes left out (a line each to write by hand), to keep."""
        return replace(
            self,
            wanted=tuple(w.without_note() for w in self.wanted),
            unlisted=tuple(w.without_note() for w in self.unlisted),
        )

    def schedule_html(self, screen_base: str | None = None) -> str:
        """Page 1, "My medicines", as the PDF shows it (``screen_base``: for a browser)."""
        view = _view(self.monographs, self.wanted, self.context.config, self.unlisted)
        return pages.pack_html("schedule", view, self.context.config, screen_base)


def _view(
    monographs: tuple[model.Monograph, ...],
    wanted: tuple[Wanted, ...],
    config: Config,
    unlisted: tuple[Wanted, ...] = (),
    patient: Patient | None = None,
    page_lang: str | None = None,
    unavailable: tuple[str, ...] = (),
) -> pages.PackView:
    limit = PURPOSE_LIMIT[bool(config[LARGE_PRINT])]
    return pages.pack_view(
        monographs,
        wanted,
        config[CONTENT_LANG],
        limit,
        unlisted,
        patient,
        originals=language_choice.originals(monographs, config.content_dir),
        page_lang=page_lang,
        unavailable=unavailable,
    )


def _entry_html(
    source: sources.Source, monograph: model.Monograph, config: Config, own_disclaimer: bool
) -> str:
    try:
        return templating.monograph_html(
            monograph, config, in_pack=True, own_disclaimer=own_disclaimer
        )
    except DiagnosedError:
        raise
    except Exception as exc:
        raise RenderError(source.display_path, f"rendering failed: {exc!r}") from exc


def _blame(job: PackJob, htmls: Sequence[str], failure: Exception) -> RenderError:
    """Which medicine made the layout fail: each handout laid out alone (the failure path only)."""
    from medpdf.pdf import typeset

    for source, html in zip(job.sources, htmls[1:], strict=False):
        try:
            typeset.render(html, job.context.config.resources)
        except Exception as exc:
            return RenderError(source.display_path, f"rendering failed: {exc!r}")
    return RenderError("medication pack", f"rendering failed: {failure!r}")


def pack_task(job: PackJob) -> Rendered:
    """Lay out page 1, every handout and the shared disclaimer, numbered; write atomically."""
    from medpdf.pdf import typeset

    config = job.context.config
    monographs = tuple(model.build(source) for source in job.sources)
    view = _view(
        monographs,
        job.wanted,
        config,
        job.unlisted,
        job.patient,
        page_lang=job.lang,
        unavailable=job.unavailable,
    )
    own = view.shared_disclaimer is None
    htmls = [pages.pack_html("schedule", view, config)]
    htmls += [
        _entry_html(source, monograph, config, own)
        for source, monograph in zip(job.sources, monographs, strict=True)
    ]
    if not own:
        htmls.append(pages.pack_html("disclaimer", view, config))
    try:
        result = typeset.render_combined(
            htmls,
            config.resources,
            accessible=True,
            page_numbers=lambda total: pages.numbers_html(total, view, config),
        )
    except Exception as exc:
        raise _blame(job, htmls, exc) from exc
    write_atomic(job.target, result.data)
    return Rendered(result.page_counts, result.refused_urls)


@dataclass(frozen=True)
class PackMade:
    """What a pack holds and where it went."""

    target: Path
    titles: tuple[str, ...]
    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]
    #: The monographs printed, in order (translations where ``--lang`` chose them).
    monographs: tuple[model.Monograph, ...] = ()
    #: Titles printed in their own language for want of a translation into ``--lang``.
    unavailable: tuple[str, ...] = ()

    @property
    def pages(self) -> int:
        """Pages in all."""
        return sum(self.page_counts)


def default_name(request: PackRequest, slugs: Sequence[str]) -> str:
    """The request's own name, else the medicines' slugs (shortened with a hash when long)."""
    if request.title:
        return request.title
    joined = slug_of("-".join(slugs))
    if len(joined) <= 60:
        return joined
    digest = hashlib.sha256("\n".join(slugs).encode()).hexdigest()[:8]
    return f"{joined[:50].rstrip('-')}-{digest}"


def make_pack(request: PackRequest, context: RunContext, target: Path | None = None) -> PackMade:
    """Resolve, check and render one pack; ``target`` defaults to output/packs/<name>.pdf."""
    config = context.config
    found, answers = resolve(config.content_dir, request.names)
    lang = config[LANG] if config.is_given(LANG) else None
    unavailable: tuple[str, ...] = ()
    if lang is not None:  # each medicine's translation into --lang, where there is one
        chosen = language_choice.choose(found, lang, context)
        found, unavailable = list(chosen.sources), chosen.unavailable
    monographs = [model.build(source) for source in found]  # a broken file names itself here
    # A monograph and its own translation are one medicine: the first is kept, and
    # answers to the names of both.
    kept = language_choice.one_per_drug(monographs)
    drugs = [language_choice.drug_of(m) for m in monographs]
    answers = [
        set().union(*(answers[j] for j in range(len(found)) if drugs[j] == drugs[i])) for i in kept
    ]
    found, monographs = [found[i] for i in kept], [monographs[i] for i in kept]
    pack = replace(
        Pack.settle(request, found, monographs, answers, context),
        lang=lang,
        unavailable=unavailable,
    )
    name = default_name(request, [source.slug for source in found])
    destination = target or packs_dir(config) / f"{name}.pdf"
    limits = replace(context.limits, seconds=pack.seconds)
    sweep_stale_temps(destination.parent)  # what a killed earlier run left behind
    result = run_here(pack_task, pack.job(destination, request.patient), limits)
    if isinstance(result, Failure):
        if result.diagnostic is not None:
            raise DiagnosedError(result.diagnostic)
        raise RenderError("medication pack", result.message)
    return PackMade(
        destination,
        tuple(m.title for m in monographs),
        result.page_counts,
        result.refused_urls,
        tuple(monographs),
        unavailable,
    )
