"""Approvals at the station: editions awaiting review, the reviewer's pages, the Approve button.

With ``[station] approved_only = true`` a handout is printed or opened only
when its monograph file is the edition a pharmacist approved; otherwise staff
read "Awaiting review — ask the pharmacist" and why (never approved, or changed
since the approval). The approvals file is re-read when it changes on disk, so
``medpdf approve`` takes effect at the next request, and an edited monograph
is refused again at once (every drug request re-reads its file).

An account with the ``review`` role sees the editions awaiting review
(``/review``), each one's word-level diff against the approved edition and its
preview (``/review/<slug>``), and approves it with a button that posts under
the same rules as printing: the station's own Origin, a session, a small
urlencoded form, a per-account rate. The form carries the edition the
reviewer saw; if the file changed since, nothing is approved. Every approval
goes into the approvals file and the record.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from medpdf.content import approvals, sources
from medpdf.content.approvals import Approvals, Review, Standing, Status
from medpdf.errors import Diagnostic, MedpdfError, RecordError
from medpdf.i18n import N_
from medpdf.settings.options import APPROVED_ONLY, PRINTS_PER_MINUTE
from medpdf.station.auth import same_origin, user_of
from medpdf.station.forms import print_form
from medpdf.station.language import Told
from medpdf.station.sessions import User
from medpdf.station.throttle import RateLimit

if TYPE_CHECKING:
    from medpdf.content.model import Monograph
    from medpdf.settings.config import Config
    from medpdf.station.state import Station

LOGGER = logging.getLogger(__name__)

#: Monographs one review page lists; a collection where thousands await review says so.
PAGE_SIZE = 200


class AwaitingReview(Told):
    """An edition that ``approved_only`` keeps from being printed (409), and why."""

    def __init__(self, standing: Standing, source: sources.Source) -> None:
        version = source.digest[: approvals.SHOWN]
        approval = standing.approval
        if approval is None:
            super().__init__(
                409,
                N_(
                    "Awaiting review — ask the pharmacist. This edition (version %(version)s) "
                    "has not been approved yet."
                ),
                version=version,
            )
        else:
            super().__init__(
                409,
                N_(
                    "Awaiting review — ask the pharmacist. This edition (version %(version)s) "
                    "changed after %(name)s approved version %(approved)s on %(date)s."
                ),
                version=version,
                name=approval.by,
                approved=approval.version,
                date=approval.review.on.isoformat(),
            )


class ApprovalsFile:
    """The content folder's approvals as the running station sees them: re-read on change."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stamp: tuple[int, int] | None = None
        self._current = Approvals(folder, {})
        self.current()  # read now: a damaged file stops the station at start

    def current(self) -> Approvals:
        """The approvals as the file says now (the last good reading if it is damaged)."""
        try:
            info = (self.folder / approvals.FILE_NAME).stat()
            stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            try:
                self._current = approvals.load(self.folder)
            except approvals.ApprovalsError as exc:
                if self._stamp is None and not self._current.by_slug:
                    raise
                LOGGER.error("%s; keeping the approvals read before", exc.message)
            self._stamp = stamp
        return self._current


@dataclass
class ReviewDesk:
    """A station's approvals: the file, whether only approved editions go out, the rate."""

    file: ApprovalsFile
    approved_only: bool
    rate: RateLimit

    @classmethod
    def of(cls, content_dir: Path, approved_only: bool, per_minute: int) -> ReviewDesk:
        """The desk of a station serving ``content_dir``."""
        return cls(ApprovalsFile(content_dir), approved_only, RateLimit(per_minute))

    def standing(self, source: sources.Source) -> Standing:
        """Whether ``source`` (read just now) is the approved edition."""
        return self.file.current().standing(source)

    def footer(self, source: sources.Source) -> Review | None:
        """The "Reviewed by" of a handout, or a 409 when only approved editions may go out."""
        standing = self.standing(source)
        if standing.approved and standing.approval is not None:
            return standing.approval.review
        if self.approved_only:
            raise AwaitingReview(standing, source)
        return None

    def refused(self, source: sources.Source) -> AwaitingReview | None:
        """Why this edition may not be handed out now (None: it may)."""
        standing = self.standing(source)
        if self.approved_only and not standing.approved:
            return AwaitingReview(standing, source)
        return None


def desk_of(config: Config) -> ReviewDesk:
    """The review desk of a station's config (``approved_only``, the print rate)."""
    return ReviewDesk.of(
        config.content_dir, bool(config[APPROVED_ONLY]), int(config[PRINTS_PER_MINUTE])
    )


def may_review(user: User | None) -> bool:
    """The reviewer's pages are for the review role (everyone, on a station without accounts)."""
    return user is None or user.may_review


def _reviewer(request: Request) -> User | None:
    user = user_of(request)
    if not may_review(user):
        raise Told(403, N_("Only an account with the review role may review editions."))
    return user


@dataclass(frozen=True)
class Waiting:
    """One monograph awaiting review, for the list."""

    slug: str
    title: str
    path: str
    status: Status
    version: str
    #: The approved edition it changed from, and who approved that, when (changed ones).
    approved: str = ""
    by: str = ""
    on: str = ""


async def review_list(request: Request) -> Response:
    """Editions awaiting review: new, or changed since their approval; and the refused."""
    station: Station = request.app.state.station
    user = _reviewer(request)
    current = station.review.file.current()
    waiting: list[Waiting] = []
    for entry in sorted(station.listing.entries, key=lambda e: e.source_path):
        standing = current.standing(entry.source)
        if standing.approved:
            continue
        approval = standing.approval
        waiting.append(
            Waiting(
                entry.slug,
                entry.title,
                entry.source_path,
                standing.status,
                entry.source.digest[: approvals.SHOWN],
                approval.version if approval else "",
                approval.by if approval else "",
                approval.review.on.isoformat() if approval else "",
            )
        )
    refused = [
        problem
        for slug, problem in sorted(station.listing.broken.items())
        if ": error: not a leaflet [" in problem
    ]
    return station.page(
        "review",
        user=user,
        waiting=waiting[:PAGE_SIZE],
        more=len(waiting) > PAGE_SIZE,
        total=len(waiting),
        page_size=PAGE_SIZE,
        refused=refused,
        approved_only=station.review.approved_only,
    )


async def review_drug(request: Request) -> Response:
    """One edition: what changed since the approved one, word by word, and the Approve button."""
    station: Station = request.app.state.station
    user = _reviewer(request)
    entry = station.entry(request.path_params["slug"])
    source = station.fresh_source(entry)
    mono = station.monograph(source)
    standing = station.review.standing(source)
    hunks: tuple[approvals.Hunk, ...] = ()
    archived = True
    if standing.status is Status.CHANGED and standing.approval is not None:
        before = await asyncio.to_thread(
            approvals.edition_text, station.config.content_dir, standing.approval.edition
        )
        archived = before is not None
        if before is not None:
            hunks = approvals.word_diff(before, source.text)
    return station.page(
        "review-drug",
        user=user,
        drug=mono,
        standing=standing,
        shown=source.digest[: approvals.SHOWN],
        edition=source.digest,
        hunks=hunks,
        archived=archived,
        may_approve=user is not None,
    )


#: The Approve form: the edition the reviewer saw, and nothing else.
MAX_FORM_BYTES = 512


async def approve(request: Request) -> Response:
    """Approve the edition the reviewer saw; refused if the file changed since."""
    station: Station = request.app.state.station
    if not same_origin(request):
        raise Told(403, N_("Approving can only be started from the station's own pages."))
    user = user_of(request)
    if user is None:
        raise Told(
            403,
            N_(
                "Approving at the station needs an account with the review role; "
                "or use “medpdf approve” on this computer."
            ),
        )
    if not user.may_review:
        raise Told(403, N_("Only an account with the review role may review editions."))
    entry = station.entry(request.path_params["slug"])
    form = await print_form(request, max_fields=2, max_bytes=MAX_FORM_BYTES)
    if form is None:  # the browser went away mid-form: nothing approved
        return Response(status_code=400)
    wait = station.review.rate.take(user.name)
    if wait:
        raise Told(
            429,
            N_("At most %(most)s approvals a minute per account. Try again in %(wait)s seconds."),
            headers={"Retry-After": str(max(1, round(wait)))},
            most=station.review.rate.per_minute,
            wait=f"{wait:.0f}",
        )
    source = station.fresh_source(entry)
    if str(form.get("edition", "")) != source.digest:
        raise Told(
            409,
            N_(
                "The monograph changed since you opened it, so nothing was approved. "
                "Look at it again."
            ),
        )
    summary, mono = await asyncio.to_thread(_examined, station, source)
    if mono is None:
        problem = next((d for d in summary if d.is_error), None)
        raise Told(
            422,
            N_("This monograph cannot be approved: %(reason)s"),
            reason=problem.message if problem else "",
        )
    try:
        made = await asyncio.to_thread(
            approvals.approve, station.config.content_dir, [(source, mono.title)], user.name
        )
        approval, new = made[0]
        if new:
            await asyncio.to_thread(_record, station, approval, user.name)
    except RecordError as exc:
        raise Told(
            500, N_("The approval was not recorded: %(reason)s"), reason=exc.message
        ) from None
    except MedpdfError as exc:
        raise Told(500, N_("Nothing was approved: %(reason)s"), reason=exc.message) from None
    LOGGER.info("approved %s version %s by %s", entry.slug, approval.version, user.name)
    return RedirectResponse(f"/review/{entry.slug}", status_code=303)


def _examined(
    station: Station, source: sources.Source
) -> tuple[list[Diagnostic], Monograph | None]:
    """``check``'s verdict on the file as it is now (it may have become not a leaflet)."""
    from medpdf.content import collection as catalog

    summary, mono = catalog.examine(source, station.rules)
    return list(summary.diagnostics(source.display_path)), mono


def _record(station: Station, approval: approvals.Approval, user: str) -> None:
    """Every approval made at the station goes into the record, with the account."""
    from medpdf.record import approvals as recorded

    recorded.note(station.record, [approval], via="station", user=user)
