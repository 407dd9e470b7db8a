"""The booklet's front and back matter: cover, contents and index, laid out in the workers.

The contents carry literal page numbers, so they are laid out until their own
length agrees with the numbers they print. A long contents or index is cut
into parts of at most :data:`.plan.PART_LINES` lines (:func:`.plan.runs`) that
run on from each other: in duplex a part after an odd one is laid out to begin
on a left-hand page, and only the front's last part is padded. Every part is
kept in the store by a key of what it shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from medpdf.digests import digest_of
from medpdf.errors import MedpdfError
from medpdf.html import booklet_pages
from medpdf.products.booklet import index as ingredient_index
from medpdf.products.booklet.estimate import front_estimate, master_estimate, parts_estimate
from medpdf.products.booklet.plan import Volume, mirrored, runs, toc
from medpdf.products.booklet.tasks import (
    FrontJob,
    IndexJob,
    front_task,
    index_task,
    matter_task,
)
from medpdf.run import Failure, Pdf, RunContext, Runner, Store


def keep_part(store: Store, key: str, made: Pdf) -> None:
    """Keep a part a worker made in the store, with its page counts.

    Chunks also bring their monographs' ingredients, for the index.
    """
    extra: dict[str, object] = {"pages": list(made.page_counts)}
    if made.ingredients:
        extra["ingredients"] = [list(names) for names in made.ingredients]
    store.keep_part(key, made.data, extra)


def _run_parts(
    jobs: Sequence[FrontJob | IndexJob],
    keys: Sequence[str],
    task: Callable[..., Pdf],
    store: Store,
    pool: Runner,
) -> dict[str, int]:
    """Lay out the parts not in the cache (in parallel); page count by key."""
    pages: dict[str, int] = {}
    todo: list[FrontJob | IndexJob] = []
    for key, job in zip(keys, jobs, strict=True):
        extra = store.part(key)
        if extra is not None:
            pages[key] = int(extra["pages"][0])
        else:
            todo.append(replace(job, key=key))
    # A letter's contents can run to dozens of pages: more time than one handout.
    seconds = pool.limits.seconds * 4
    for outcome in pool.run(task, todo, seconds=lambda _: seconds):
        if isinstance(outcome.result, Failure):
            raise MedpdfError(
                f"booklet: laying out a front or back part failed: {outcome.result.message}"
            )
        key = outcome.item.key
        keep_part(store, key, outcome.result)
        pages[key] = outcome.result.page_counts[0]
    return pages


@dataclass(frozen=True)
class Front:
    """A volume's front matter as laid out: its parts' keys, pages, and where the contents begin."""

    keys: tuple[str, ...]
    pages: int
    #: Pages before the contents (cover, master contents, disclaimer).
    cover_pages: int


def _run_in_turn(
    make: Callable[[int, bool], FrontJob | IndexJob],
    count: int,
    key_of: Callable[[FrontJob | IndexJob], str],
    task: Callable[..., Pdf],
    store: Store,
    pool: Runner,
    duplex: bool,
) -> list[tuple[str, int]]:
    """Lay out ``count`` parts that run on from each other; each part's key and pages.

    ``make(i, verso)`` is the i-th part's job. In duplex a part that follows an
    odd one begins on a left-hand page, which its layout must know: the parts
    are laid out one after another then; otherwise all together.
    """
    if not duplex:
        jobs = [make(i, False) for i in range(count)]
        keys = [key_of(job) for job in jobs]
        pages = _run_parts(jobs, keys, task, store, pool)
        return [(key, pages[key]) for key in keys]
    made: list[tuple[str, int]] = []
    for i in range(count):
        job = make(i, sum(n for _, n in made) % 2 == 1)
        key = key_of(job)
        made.append((key, _run_parts([job], [key], task, store, pool)[key]))
    return made


def _front_job(
    cover: FrontJob,
    contents: Sequence[tuple[booklet_pages.TocGroup, ...]],
    i: int,
    verso: bool,
) -> FrontJob:
    """The i-th front part: the cover, then the contents parts.

    The first contents part has the heading; the last ends the front (padded).
    """
    if i == 0:
        return cover
    last = i == len(contents)
    return FrontJob(
        "contents", contents[i - 1], i == 1, cover.info, cover.context, "", verso=verso, pad=last
    )


def _part_key(job: FrontJob | IndexJob) -> str:
    """The store's key of a front or index part: everything it shows."""
    if isinstance(job, FrontJob):
        return digest_of(
            "front",
            job.context.fingerprint,
            job.part,
            repr(job.toc),
            str(job.first),
            repr(job.info),
            repr(job.volumes),
            f"verso={job.verso} pad={job.pad}",
        )
    return digest_of(
        "index",
        job.context.fingerprint,
        repr(job.groups),
        str(job.first),
        repr(job.info),
        f"verso={job.verso}",
    )


@dataclass(frozen=True)
class FrontGuess:
    """The front length a volume's contents are first laid out for, and where it is kept."""

    name: str
    pages: int


def presumed_front(volume: Volume, cover: FrontJob, store: Store) -> FrontGuess:
    """The length to lay the front out for first, and the name the length found is kept by.

    What the last build with the same rough guess found: the same collection gets
    it right at once, and another collection (another guess) is not misled by it.
    Else the pages of the contents cut into parts as they will be laid out.
    """
    name = f"booklet-front-pages-{volume.number}-{front_estimate(volume.placed)}"
    hint = store.recall(name)
    if hint and hint.isdigit():
        return FrontGuess(name, int(hint))
    contents = parts_estimate(_contents(volume, 0))
    return FrontGuess(name, 2 + master_estimate(len(cover.volumes)) + contents)


def front_cover(
    info: booklet_pages.BookletInfo,
    context: RunContext,
    lines: tuple[booklet_pages.VolumeLine, ...],
) -> FrontJob:
    """The job of a volume's cover part (with the master contents ``lines`` in volume 1)."""
    return FrontJob("cover", (), False, info, context, "", lines)


def _contents(volume: Volume, front_pages: int) -> list[tuple[booklet_pages.TocGroup, ...]]:
    return runs(toc(volume.placed, front_pages), lambda _: 1) if volume.placed else []


def lay_out_front(
    volume: Volume,
    cover: FrontJob,
    guess: FrontGuess,
    context: RunContext,
    store: Store,
    pool: Runner,
) -> Front:
    """Lay out cover and contents until the contents' length agrees with the numbers it prints.

    The first round presumes ``guess``, as the index's prefetched numbers do.
    The contents' letters run on (a letter does not start a page, nor, in
    duplex, a blank one); a long contents is laid out in parts of at most
    :data:`.plan.PART_LINES` lines, which run on from each other too. None
    carries the date (it is stamped), so another day finds them all cached.
    """
    front_pages = guess.pages
    duplex = mirrored(context.config)
    for _ in range(4):
        contents = _contents(volume, front_pages)
        # The cover is padded in duplex: the contents begin on a right-hand page.
        made = _run_in_turn(
            functools.partial(_front_job, cover, contents),
            1 + len(contents),
            _part_key,
            front_task,
            store,
            pool,
            duplex,
        )
        actual = sum(pages for _, pages in made)
        if actual == front_pages:
            store.remember(guess.name, str(actual))
            return Front(tuple(key for key, _ in made), actual, made[0][1])
        front_pages = actual
    raise MedpdfError("booklet: the contents' page count does not settle")


def _index_job(
    cut: Sequence[tuple[booklet_pages.IndexGroup, ...]],
    info: booklet_pages.BookletInfo,
    context: RunContext,
    i: int,
    verso: bool,
) -> IndexJob:
    return IndexJob(cut[i], i == 0, info, context, "", verso=verso)


def lay_out_index(
    groups: Sequence[booklet_pages.IndexGroup],
    info: booklet_pages.BookletInfo,
    context: RunContext,
    store: Store,
    pool: Runner,
) -> tuple[list[str], int]:
    """Lay out the ingredient index, its letters running on; keys and page count.

    In parts of at most :data:`.plan.PART_LINES` lines, which run on from each
    other (the index is not padded: nothing follows it).
    """
    cut = runs(groups, ingredient_index.entry_lines)
    made = _run_in_turn(
        functools.partial(_index_job, cut, info, context),
        len(cut),
        _part_key,
        index_task,
        store,
        pool,
        mirrored(context.config),
    )
    return [key for key, _ in made], sum(pages for _, pages in made)


def prefetch(
    fronts: Sequence[tuple[Volume, FrontJob, int]],
    index: tuple[Sequence[booklet_pages.IndexGroup], booklet_pages.BookletInfo] | None,
    context: RunContext,
    store: Store,
    pool: Runner,
) -> None:
    """Lay out the fronts' first round and the index in one batch, into the store.

    ``fronts`` gives each volume with its cover's job and the front length
    presumed (:func:`presumed_front`), which the index's page numbers presume too.
    Laid out one after the other, the front and the index were the serial tail
    of a cold build, each too short to keep both workers busy. When a front
    comes out otherwise, :func:`lay_out_index` finds no part under its new keys
    and lays them out again, as it would have anyway. Not for duplex, whose
    parts are laid out in turn (each must know the page it begins on).
    """
    jobs: list[FrontJob | IndexJob] = []
    for volume, cover, front_pages in fronts:
        contents = _contents(volume, front_pages)
        jobs += [_front_job(cover, contents, i, False) for i in range(1 + len(contents))]
    if index is not None:
        groups, info = index
        cut = runs(groups, ingredient_index.entry_lines)
        jobs += [_index_job(cut, info, context, i, False) for i in range(len(cut))]
    _run_parts(jobs, [_part_key(job) for job in jobs], matter_task, store, pool)
