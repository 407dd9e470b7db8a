"""The station and the clinic's record system (EHR): medication lists in, Infobutton out.

- ``POST /fhir/list.json`` (the "Load a medication list" button of My medicines):
  a FHIR R4 list (:mod:`medpdf.ehr.fhir`) as the request's body; the answer is
  the list as the page keeps it (each medicine's slug, times, dose, meal, "when
  needed", note; the ones without a leaflet; what was left out), or, when a
  medicine's monograph is not sure, the candidates to choose from (the page
  posts again with ``pick=NAME=SLUG``). The patient is never read here: the
  browser's list keeps no name.
- ``POST /fhir/pack``: the same body, answered with the pack PDF, for a clinic's
  integration engine (a logged-in account with the print role, the station's
  own Origin, as every POST). ``with_patient=1`` prints the patient's name and
  birth date: that PDF is rendered privately and never kept; the record keeps
  the same pack without them.
- ``GET /infobutton``: HL7 Infobutton (:mod:`medpdf.ehr.infobutton`), answered
  as the drug's page (HTML: a redirect, or a page to choose from when several
  drugs match), or as a JSON or Atom feed that links the handout PDFs.

A body is refused (413) over :data:`medpdf.ehr.fhir.MAX_BYTES` from its
``Content-Length`` alone, and when it turns out longer than it said.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from medpdf import i18n
from medpdf.content.collection import Entry
from medpdf.ehr import fhir, infobutton, matching, packing
from medpdf.errors import UsageError
from medpdf.i18n import N_
from medpdf.products import pack as packs
from medpdf.products.pack import purposes
from medpdf.settings.options import CLINIC
from medpdf.station import language, printed
from medpdf.station.auth import same_origin, user_of
from medpdf.station.jobs import Busy, RenderFailed
from medpdf.station.language import Told
from medpdf.station.pack import kept_copy, pack_bytes, settled
from medpdf.station.routes import busy, print_allowed
from medpdf.station.state import Station

LOGGER = logging.getLogger(__name__)

#: Media types a medication list may be posted as.
FHIR_TYPES = frozenset(
    {
        "application/fhir+json",
        "application/json",
        "application/fhir+ndjson",
        "application/x-ndjson",
        "application/ndjson",
    }
)
#: Query fields ``pick=NAME=SLUG`` one request may carry.
MAX_PICKS = packs.MAX_MEDICINES


def _station(request: Request) -> Station:
    station: Station = request.app.state.station
    return station


_INDEX: list[tuple[object, matching.Index]] = []


def index_of(station: Station) -> tuple[matching.Index, tuple[Entry, ...]]:
    """The index of the station's drug list, made once per scan of the collection."""
    listing = station.listing
    if not _INDEX or _INDEX[0][0] is not listing:
        _INDEX[:] = [(listing, matching.Index.of(listing.entries))]
    return _INDEX[0][1], listing.entries


async def _body(request: Request) -> bytes:
    """The posted medication list, at most :data:`medpdf.ehr.fhir.MAX_BYTES` of it."""
    size = request.headers.get("content-length", "")
    most = fhir.MAX_BYTES // (1024 * 1024)
    if not size.isdigit() or int(size) > fhir.MAX_BYTES:
        raise Told(413, N_("The medication list is too large (at most %(most)s MB)."), most=most)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in FHIR_TYPES:
        raise Told(415, N_("Send the medication list as FHIR JSON (application/fhir+json)."))
    data = bytearray()
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > fhir.MAX_BYTES:
                raise Told(
                    413, N_("The medication list is too large (at most %(most)s MB)."), most=most
                )
    except ClientDisconnect:
        raise Told(400, N_("The medication list did not arrive whole.")) from None
    return bytes(data)


def _picks(request: Request) -> dict[str, str]:
    values = [str(v) for v in request.query_params.getlist("pick")][:MAX_PICKS]
    try:
        return matching.parse_picks(values)
    except UsageError as exc:
        raise _unreadable(exc) from None


def _unreadable(exc: UsageError) -> Told:
    """A list medpdf cannot use: translated, with the reader's one line (in English)."""
    status = 413 if isinstance(exc, fhir.TooLarge) else 400
    return Told(status, N_("The medication list could not be used: %(detail)s"), detail=exc.message)


def _taking_json(taking: packs.Taking) -> dict[str, Any]:
    return {
        "dose": taking.dose,
        "meal": taking.meal,
        "prn": taking.as_needed_for if taking.as_needed else None,
        "daily": taking.daily,
    }


def _list_json(made: packing.FromRecord, index: matching.Index) -> dict[str, Any]:
    request = made.request
    medicines_json = [
        {
            "slug": slug,
            "title": index.titles.get(index.drug_of.get(slug, slug), slug),
            "times": list(request.times.get(slug, ())),
            "note": request.notes.get(slug, ""),
            **_taking_json(request.taking.get(slug, packs.Taking())),
        }
        for slug in request.names
    ]
    unlisted = [
        {"title": w.name, "times": list(w.times), "note": w.note, **_taking_json(w.taking)}
        for w in request.unlisted
    ]
    return {
        "medicines": medicines_json,
        "unlisted": unlisted,
        "unsure": [],
        "left_out": list(made.listed.left_out),
        "notices": list(made.listed.notices),
    }


def _unsure_json(unsure: Sequence[tuple[fhir.Medication, matching.Unsure]]) -> dict[str, Any]:
    return {
        "medicines": [],
        "unlisted": [],
        "unsure": [
            {
                "name": medication.name,
                "label": medication.label,
                "source": medication.source,
                "ambiguous": outcome.ambiguous,
                "candidates": [{"slug": c.slug, "title": c.title} for c in outcome.candidates],
            }
            for medication, outcome in unsure
        ],
        "left_out": [],
        "notices": [],
    }


async def fhir_list(request: Request) -> Response:
    """A medication list as My medicines keeps it, or the medicines to choose a leaflet for."""
    station = _station(request)
    if not same_origin(request):
        raise Told(403, N_("Medication lists can only be loaded from the station's own pages."))
    data = await _body(request)
    picks = _picks(request)
    index, _ = index_of(station)
    try:
        listed = fhir.read_bytes(data, "medication list")
        each = matching.match_each(listed.medications, index, picks)
        unsure = [item for item in each if not isinstance(item, matching.Matched)]
        if unsure:
            return JSONResponse(_unsure_json(unsure))
        matched = [item for item in each if isinstance(item, matching.Matched)]
        made = packing.FromRecord(packing.pack_request(listed, matched), listed, tuple(matched))
    except UsageError as exc:
        raise _unreadable(exc) from None
    LOGGER.info(
        "medication list loaded: %d medicines, %d without a leaflet, %d left out",
        len(made.request.names),
        len(made.request.unlisted),
        len(listed.left_out),
    )
    return JSONResponse(_list_json(made, index), headers={"Cache-Control": "no-store"})


def _asked(station: Station, request: packs.PackRequest, query: Any) -> packs.Pack:
    """The pack of a record's list, its monographs read as every pack's are."""
    try:
        return settled(station, request, query)
    except UsageError as exc:
        raise _unreadable(exc) from None


def _with_patient(request: Request) -> bool:
    return str(request.query_params.get("with_patient", "")).lower() in ("1", "true", "yes", "on")


async def fhir_pack(request: Request) -> Response:
    """The pack PDF of a posted medication list (for a clinic's integration engine)."""
    station = _station(request)
    user = print_allowed(
        request, N_("Your account may look at and download packs, not make them from a list.")
    )
    data = await _body(request)
    picks = _picks(request)
    with_patient = _with_patient(request)
    index, _ = index_of(station)
    try:
        made = packing.from_bytes(data, "medication list", index, picks, with_patient)
    except UsageError as exc:
        raise _unreadable(exc) from None
    pack = _asked(station, made.request, request.query_params)
    # The record keeps the pack without the patient (and without notes): a patient's pack
    # is never kept.
    kept = await kept_copy(station, pack)
    await printed.keep_opened(
        station, kept, pack.monographs, pack.context, user.name if user else None
    )
    answer = kept
    patient = made.request.patient
    if patient is None and pack.has_notes:
        answer = await pack_bytes(station, pack)  # the caller's, with its notes (not kept)
    elif patient is not None:
        try:
            answer = await station.renderer.private(
                packs.pack_task, lambda target: pack.job(target, patient), pack.seconds
            )
        except Busy:
            raise busy() from None
        except RenderFailed as exc:
            raise Told(
                500, N_("The medication pack could not be made: %(reason)s"), reason=str(exc)
            ) from None
    response = printed.pdf_response(answer, "my-medicines.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


# -- Infobutton ------------------------------------------------------------------------


def _summary(station: Station, entry: Entry) -> str:
    """What the drug is for, in a few words; "" when its monograph cannot be read now."""
    try:
        return purposes.purpose(station.monograph(station.fresh_source(entry)))
    except Told:
        return ""


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def infobutton_answer(request: Request) -> Response:
    """An HL7 Infobutton request: the drug's page, a page to choose from, or a feed."""
    station = _station(request)
    try:
        asked = infobutton.parse(lambda name: request.query_params.get(name))
    except infobutton.BadRequest as exc:
        raise Told(
            400, N_("This Infobutton request cannot be answered: %(detail)s"), detail=str(exc)
        ) from None
    index, entries = index_of(station)
    found = infobutton.answer(asked, index, entries)
    by_slug = {entry.slug: entry for entry in entries}
    answers = tuple(
        dataclasses.replace(a, summary=_summary(station, by_slug[a.slug])) for a in found.answers
    )
    LOGGER.info(
        "infobutton %s for %s: %d answers",
        asked.response,
        asked.described or "(nothing)",
        len(answers),
    )
    if asked.response == "html":
        if len(answers) == 1:
            return RedirectResponse(f"/drug/{answers[0].slug}", status_code=303)
        return station.page(
            "infobutton",
            user=user_of(request),
            asked=asked.described,
            answers=answers,
            close=found.close,
        )
    clinic = station.config[CLINIC]
    words = i18n.translations(
        station.resources.locale, i18n.catalog_for(asked.lang or language.current().tag)
    )
    title = words.gettext(N_("Patient handouts"))
    if asked.described:
        title = words.gettext(N_("Patient handouts: %(drug)s")) % {"drug": asked.described}
    feed = infobutton.Feed(
        base=_base(request),
        author=clinic.name if clinic is not None and clinic.name else "medpdf",
        request=asked,
        updated=dt.datetime.now(dt.UTC),
        title=title,
        subtitle=words.gettext(N_("Patient information leaflets from the printing station")),
    )
    headers = {"Cache-Control": "no-store"}
    if asked.response == "json":
        return Response(
            infobutton.as_json(feed, answers),
            media_type=infobutton.MEDIA_TYPES["json"],
            headers=headers,
        )
    return Response(
        infobutton.as_atom(feed, answers),
        media_type=infobutton.MEDIA_TYPES["atom"],
        headers=headers,
    )


#: The record system's paths; ``app`` adds them to the station's routes.
ROUTES = [
    Route("/fhir/list.json", fhir_list, methods=["POST"]),
    Route("/fhir/pack", fhir_pack, methods=["POST"]),
    Route("/infobutton", infobutton_answer),
]
