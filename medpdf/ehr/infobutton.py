"""HL7 Infobutton: the "i" next to a medicine in the EHR opens that medicine's handout.

The EHR calls a configured URL with the parameters of the HL7 URL-based
Infobutton implementation guide (the ones MedlinePlus Connect answers);
medpdf reads these (every other parameter, such as ``taskContext.c.c``,
``performer`` or ``age.v.v``, is accepted and not used):

=========================================  ===============================================
``mainSearchCriteria.v.c``                 the drug's code (RxNorm, SNOMED CT, ATC, …)
``mainSearchCriteria.v.cs``                its code system, an OID (``2.16.840.1.113883.6.88``)
                                           or a name or URI :mod:`medpdf.content.codes` knows
``mainSearchCriteria.v.dn``                the drug's display name ("Metformin 500 mg tablet")
``mainSearchCriteria.v.ot``                the original text, used like the display name
``informationRecipient``                   ``PAT`` (patient, the default) or ``PROV``
``informationRecipient.languageCode.c``    the language wanted (``es``, ``pt-BR``)
``knowledgeResponseType``                  ``text/html`` (default), ``application/json``,
                                           ``text/xml`` or ``application/atom+xml``
=========================================  ===============================================

The drug is found as a medicine of a FHIR list is (:mod:`medpdf.ehr.matching`):
its code where a monograph declares it, else its name. Only sure matches are
answered in a feed; an unknown code answers an empty feed (never an error).
Each answer links the handout PDF (and its page), in the wanted language when
a translation exists, else in the original's language, which the entry names.

The feed follows the Infobutton SOA guide's use of Atom; its JSON form is the
one MedlinePlus Connect serves (``feed.entry[].title._value``,
``feed.entry[].link[].href``), so an EHR that reads one reads the other.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from xml.etree import ElementTree

from medpdf.content import translations
from medpdf.content.codes import Code, check, label_of
from medpdf.content.collection import Entry
from medpdf.ehr.matching import Candidate, Found, Index, Query, Unsure

#: knowledgeResponseType → how the answer is written.
RESPONSE_TYPES = {
    "text/html": "html",
    "application/json": "json",
    "text/xml": "atom",
    "application/xml": "atom",
    "application/atom+xml": "atom",
}
#: The answer's media type for each way of writing it.
MEDIA_TYPES = {
    "json": "application/json",
    "atom": "application/atom+xml; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
RECIPIENTS = ("PAT", "PROV")
#: Longest parameter value read; codes and names are short, anything longer is cut.
MAX_VALUE = 200
ATOM = "http://www.w3.org/2005/Atom"
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


class BadRequest(ValueError):
    """A request medpdf cannot answer as asked (an unknown response type): one line."""


@dataclass(frozen=True)
class Request:
    """What an Infobutton request asks for."""

    code: Code | None
    #: The display name or original text ("" when only a code is given).
    name: str
    #: ``PAT`` or ``PROV``.
    recipient: str
    #: The language wanted (a BCP 47 tag), None when not asked.
    lang: str | None
    #: "html", "json" or "atom".
    response: str
    #: The code system as the request wrote it (an OID), echoed in the feed.
    system: str = ""

    @property
    def query(self) -> Query:
        """The drug the request names, as the matching reads it."""
        codes = (self.code,) if self.code is not None else ()
        return Query(self.name, codes)

    @property
    def described(self) -> str:
        """The request in words for a page or a feed title: "Metformin (RxNorm 6809)"."""
        code = f"{label_of(self.code.system)} {self.code.code}" if self.code else ""
        if self.name and code:
            return f"{self.name} ({code})"
        return self.name or code


def _value(get: Callable[[str], str | None], name: str) -> str:
    return " ".join((get(name) or "").split())[:MAX_VALUE]


def parse(get: Callable[[str], str | None]) -> Request:
    """The request of a query string (``get`` returns a parameter's value or None).

    Raises :class:`BadRequest` only for a response type medpdf cannot write;
    a code, system or language it does not understand is left out instead.
    """
    kind = _value(get, "knowledgeResponseType").lower() or "text/html"
    response = RESPONSE_TYPES.get(kind.split(";")[0].strip())
    if response is None:
        known = ", ".join(RESPONSE_TYPES)
        raise BadRequest(f"knowledgeResponseType '{kind}' is not one of {known}")
    code_text = _value(get, "mainSearchCriteria.v.c")
    system = _value(get, "mainSearchCriteria.v.cs")
    code = None
    if code_text and system and check(system, code_text) is None:
        code = Code.of(system, code_text)
    name = _value(get, "mainSearchCriteria.v.dn") or _value(get, "mainSearchCriteria.v.ot")
    recipient = _value(get, "informationRecipient").upper() or "PAT"
    lang = _value(get, "informationRecipient.languageCode.c") or None
    if lang is not None and not _LANG.match(lang):
        lang = None
    return Request(
        code,
        name,
        recipient if recipient in RECIPIENTS else "PAT",
        lang.replace("_", "-") if lang else None,
        response,
        system if code is not None else "",
    )


@dataclass(frozen=True)
class Answer:
    """One handout that answers a request: which monograph, in which language, where."""

    slug: str
    title: str
    lang: str
    #: What it is for, in a few words ("" when the monograph does not say).
    summary: str = ""


@dataclass(frozen=True)
class Answers:
    """The handouts for a request (one drug; several when a code names several)."""

    answers: tuple[Answer, ...]
    #: Close names when nothing matched for sure, for the HTML page only.
    close: tuple[Candidate, ...] = ()


def answer(request: Request, index: Index, entries: Sequence[Entry]) -> Answers:
    """The monographs that answer ``request``, each in the wanted language if translated."""
    outcome = index.match(request.query) if request.code or request.name else None
    if isinstance(outcome, Found):
        drugs: Iterable[str] = (outcome.slug,)
    elif isinstance(outcome, Unsure) and outcome.ambiguous:
        drugs = tuple(c.slug for c in outcome.candidates)
    else:
        close = outcome.candidates if isinstance(outcome, Unsure) else ()
        return Answers((), close)
    by_slug = {e.slug: e for e in entries}
    found: list[Answer] = []
    for drug in drugs:
        entry = by_slug.get(drug)
        if entry is None:
            continue
        if request.lang:
            entry = translations.find(entries, drug, request.lang) or entry
        found.append(Answer(entry.slug, entry.title, entry.lang))
    return Answers(tuple(found))


# -- the feeds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """What both feeds say besides the answers: who answers, for what, where links start."""

    base: str
    author: str
    request: Request
    updated: dt.datetime
    #: The feed's title and subtitle, in the words of whoever serves it (translated).
    title: str = "Patient handouts"
    subtitle: str = ""

    def pdf(self, answer: Answer) -> str:
        """The handout PDF's absolute URL."""
        return f"{self.base}/drug/{answer.slug}.pdf"

    def page(self, answer: Answer) -> str:
        """The drug page's absolute URL (options, preview, printing)."""
        return f"{self.base}/drug/{answer.slug}"

    @property
    def categories(self) -> list[tuple[str, str]]:
        """The request echoed as Atom categories (scheme, term), as the SOA guide does."""
        found: list[tuple[str, str]] = []
        if self.request.code is not None:
            found.append(("mainSearchCriteria.v.c", self.request.code.code))
            system = self.request.system or self.request.code.system
            found.append(("mainSearchCriteria.v.cs", system))
        if self.request.name:
            found.append(("mainSearchCriteria.v.dn", self.request.name))
        found.append(("informationRecipient", self.request.recipient))
        if self.request.lang:
            found.append(("informationRecipient.languageCode.c", self.request.lang))
        return found


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_json(feed: Feed, answers: Sequence[Answer]) -> str:
    """The answers as the JSON form of an Atom feed (text in ``_value``, attributes as keys)."""
    entries = [
        {
            "lang": a.lang,
            "title": {"_value": a.title, "type": "text"},
            "link": [
                {
                    "href": feed.pdf(a),
                    "rel": "alternate",
                    "type": "application/pdf",
                    "hreflang": a.lang,
                },
                {"href": feed.page(a), "rel": "related", "type": "text/html", "hreflang": a.lang},
            ],
            "id": {"_value": f"urn:medpdf:drug:{a.slug}"},
            "updated": {"_value": _stamp(feed.updated)},
            "summary": {"_value": a.summary or a.title, "type": "text"},
        }
        for a in answers
    ]
    document = {
        "feed": {
            "lang": feed.request.lang or "en",
            "base": f"{feed.base}/",
            "title": {"_value": feed.title, "type": "text"},
            "subtitle": {"_value": feed.subtitle, "type": "text"},
            "author": {"name": {"_value": feed.author}},
            "updated": {"_value": _stamp(feed.updated)},
            "id": {"_value": "urn:medpdf:infobutton"},
            "category": [{"scheme": s, "term": t} for s, t in feed.categories],
            "entry": entries,
        }
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def as_atom(feed: Feed, answers: Sequence[Answer]) -> bytes:
    """The answers as an Atom feed (XML, UTF-8)."""
    ElementTree.register_namespace("", ATOM)
    lang_attribute = "{http://www.w3.org/XML/1998/namespace}lang"

    def sub(
        parent: ElementTree.Element, name: str, text: str | None = None, **attributes: str
    ) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
        if text is not None:
            element.text = text
        return element

    root = ElementTree.Element(f"{{{ATOM}}}feed", {lang_attribute: feed.request.lang or "en"})
    sub(root, "title", feed.title, type="text")
    sub(root, "subtitle", feed.subtitle, type="text")
    author = sub(root, "author")
    sub(author, "name", feed.author)
    sub(root, "updated", _stamp(feed.updated))
    sub(root, "id", "urn:medpdf:infobutton")
    for scheme, term in feed.categories:
        sub(root, "category", scheme=scheme, term=term)
    for a in answers:
        entry = sub(root, "entry", **{lang_attribute: a.lang})
        sub(entry, "title", a.title, type="text")
        sub(
            entry,
            "link",
            href=feed.pdf(a),
            rel="alternate",
            type="application/pdf",
            hreflang=a.lang,
        )
        sub(entry, "link", href=feed.page(a), rel="related", type="text/html", hreflang=a.lang)
        sub(entry, "id", f"urn:medpdf:drug:{a.slug}")
        sub(entry, "updated", _stamp(feed.updated))
        sub(entry, "summary", a.summary or a.title, type="text")
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
