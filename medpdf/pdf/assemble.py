"""Assembling the booklet from separately laid-out PDFs: merge, tags, stamp, links, outline.

Inputs are finished PDFs (front parts and chunks, each with a private
``x-dest:`` link per contents line), the stamp PDF with one page per booklet
page, and where each monograph starts. The result is one PDF with the stamp
overlaid on every page (as a pagination artifact), the parts' structure
trees merged into one (:mod:`medpdf.pdf.tagmerge`), the contents links
turned into in-document destinations, an outline letter → drug, one font
file per typeface (:mod:`medpdf.pdf.fontmerge`), and the title, language and
PDF/UA identification that a merge would otherwise drop.

:func:`assemble` learns what the file needs to know before it is written:
each part's survey (:mod:`medpdf.pdf.survey`: page sizes, for the stamp;
font subsets; links) and the merged fonts. The caller then has the booklet
written into its file (:meth:`Assembled.save`), so this stage never decides
where or how a file is written. Saving writes the booklet's shared objects,
then each part as a segment (:mod:`medpdf.pdf.segment`), then the page tree,
the structure tree's root, the outline and the catalog; every object but a
stream goes into an object stream. As one pikepdf document, the merged
booklet of 21,000 pages took a gigabyte; written this way it is never in
memory. Surveys, merged fonts and segments are kept through a :class:`Memo`
(the build's store): a rebuild after one edit surveys and writes one part
again and copies the rest.
"""

from __future__ import annotations

import logging
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import pikepdf

from medpdf.digests import digest_of
from medpdf.pdf.archival import PDFUA_NAMESPACE
from medpdf.pdf.fontmerge import merged_face
from medpdf.pdf.outline import write_outline
from medpdf.pdf.segment import Links, Place, Segment, Shared, write_segment
from medpdf.pdf.survey import Survey, survey
from medpdf.pdf.survey import programs as survey_programs
from medpdf.pdf.tagmerge import PartTree, write_root
from medpdf.pdf.update import UpdateWriter

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placed:
    """A monograph's place in the booklet (pages counted from 0 within the body)."""

    slug: str
    title: str
    letter: str
    first_page: int
    pages: int


@dataclass(frozen=True)
class BookletMeta:
    """What the merged file says about itself, in the booklet's language."""

    title: str
    lang: str
    creator: str
    #: The outline's entries for the contents and the ingredient index.
    contents: str
    index: str
    #: What a screen reader says for a contents link: ``%(title)s`` and ``%(page)s``.
    page_link: str


class Memo(Protocol):
    """Where what a booklet's writing made is kept for the next build, by key.

    A key ends in the kind of what it names (``.json``, ``.ttf``, ``.segment``):
    none of them is a PDF of its own.
    """

    def recall(self, key: str) -> bytes | None:
        """What was kept as ``key``, if it still is."""

    def keep(self, key: str, data: bytes) -> None:
        """Keep ``data`` as ``key``."""


class _Forgetful:
    """A memo that keeps nothing (a one-off merge)."""

    def recall(self, key: str) -> bytes | None:
        return None

    def keep(self, key: str, data: bytes) -> None:
        pass


class Assembled:
    """A booklet ready to be written: its page count, and writing it into an open file."""

    def __init__(
        self,
        parts: list[tuple[Path, Survey]],
        stamps: Sequence[Path],
        fonts: dict[str, bytes],
        links: Links,
        layout: tuple[Sequence[Placed], int, int, int],
        meta: BookletMeta,
        memo: Memo,
    ) -> None:
        self._parts = parts
        self._stamps = stamps
        self._fonts = fonts
        self._links = links
        self._placed, self._front, self._back, self._contents = layout
        self._meta = meta
        self._memo = memo
        self.pages = sum(survey.pages for _, survey in parts)

    def save(self, handle: BinaryIO) -> None:
        """Write the booklet into ``handle``, segment by segment (see the module)."""
        from medpdf.pdf.overlay import Stamps

        handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        writer = UpdateWriter(handle, 1)
        catalog, root, page_tree, document, parent_tree = (writer.reserve() for _ in range(5))
        first_page = writer.reserve_many(self.pages).start
        fonts = tuple(
            (
                face,
                writer.stream(b"/Length1 %d /Filter /FlateDecode" % len(data), zlib.compress(data)),
            )
            for face, data in sorted(self._fonts.items())
        )
        sizes = [size for _, survey in self._parts for size in survey.sizes]
        stamps = Stamps(self._stamps, writer, sizes)
        shared = Shared(
            page_tree, document, first_page, self.pages, stamps.before, stamps.after, fonts
        )
        trees: list[PartTree] = []
        at = link_base = 0
        try:
            for path, survey in self._parts:
                body = self._front <= at < self.pages - self._back
                first_number = writer.begin_segment()
                place = Place(at, first_number, link_base, body)
                key = (
                    digest_of(
                        "segment",
                        path.name,
                        repr(place),
                        repr(shared),
                        stamps.key(at, survey.pages),
                        "" if body else self._links.key,
                    )
                    + ".segment"
                )
                kept = self._memo.recall(key)
                if kept is None:
                    segment = write_segment(path, survey, place, shared, stamps, self._links)
                    self._memo.keep(key, segment.pack())
                else:
                    segment = Segment.unpack(kept)
                writer.take(segment.data, segment.entries)
                if segment.tree is not None:
                    trees.append(segment.tree)
                at += survey.pages
                link_base += survey.links or 0
        finally:
            stamps.close()
        pages = range(first_page, first_page + self.pages)
        writer.add(
            b"<</Type /Pages /Count %d /Kids [%s]>>"
            % (self.pages, b" ".join(b"%d 0 R" % n for n in pages)),
            page_tree,
        )
        write_root(writer, root, document, parent_tree, trees, self.pages)
        meta = self._meta
        start = {item.slug: self._front + item.first_page for item in self._placed}
        outline = write_outline(
            writer,
            (meta.contents, pages[min(self._contents, self.pages - 1)]),
            [(item.letter, (item.title, pages[start[item.slug]])) for item in self._placed],
            (meta.index, pages[self.pages - self._back]) if self._back else None,
        )
        info = writer.add(
            b"<</Title %s /Creator %s>>"
            % (pikepdf.String(meta.title).unparse(), pikepdf.String(meta.creator).unparse())
        )
        xmp = _xmp(meta)
        metadata = writer.stream(b"/Type /Metadata /Subtype /XML", xmp)
        writer.add(
            b"<</Type /Catalog /Pages %d 0 R /StructTreeRoot %d 0 R /MarkInfo <</Marked true>>"
            b" /Lang %s /PageMode /UseOutlines /ViewerPreferences <</DisplayDocTitle true>>"
            b" /Outlines %d 0 R /Metadata %d 0 R>>"
            % (page_tree, root, pikepdf.String(meta.lang).unparse(), outline, metadata),
            catalog,
        )
        identity = digest_of(*(path.name for path, _ in self._parts), xmp)[:32].encode()
        writer.finish(
            b"/Root %d 0 R /Info %d 0 R /ID [<%s> <%s>]" % (catalog, info, identity, identity),
            None,
        )


def _xmp(meta: BookletMeta) -> bytes:
    """The XMP packet: title, language and the PDF/UA identification."""
    with pikepdf.new() as scratch:
        with scratch.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp.register_xml_namespace(PDFUA_NAMESPACE, "pdfuaid")
            xmp["dc:title"] = meta.title
            xmp["dc:language"] = [meta.lang]
            xmp["pdfuaid:part"] = "1"
        data: bytes = scratch.Root.Metadata.read_bytes()
    return data


def assemble(
    parts: Sequence[Path],
    stamp_for: Callable[[Sequence[tuple[float, float]]], Sequence[Path]],
    placed: Sequence[Placed],
    front_pages: int,
    meta: BookletMeta,
    back_pages: int = 0,
    elsewhere: Mapping[str, tuple[str, int]] | None = None,
    contents_page: int = 2,
    memo: Memo | None = None,
) -> Assembled:
    """Survey ``parts`` and draw the stamp for their pages; the booklet, ready to write.

    ``stamp_for`` gets the size of every page and returns PDFs with one
    stamp page for each, in order (the caller draws or reuses them). The last ``back_pages``
    (the ingredient index) are linked like the contents; a link to a monograph
    in another file of the set (``elsewhere``: slug → file name beside this one,
    0-based page) opens that file at that page. The outline's "Contents" opens
    ``contents_page`` (0-based). With a ``memo``, the parts must be named by
    their content (as the store's are): what is kept is found by their names.
    """
    memo = _Forgetful() if memo is None else memo
    surveyed: list[tuple[Path, Survey]] = []
    for path in parts:
        key = digest_of("survey", path.name) + ".json"
        kept = memo.recall(key)
        if kept is None:
            found = survey(path)
            memo.keep(key, found.to_json())
        else:
            found = Survey.from_json(kept)
        surveyed.append((path, found))
    sizes = [size for _, found in surveyed for size in found.sizes]
    start = {item.slug: front_pages + item.first_page for item in placed}
    links = Links(
        meta.page_link, {item.slug: item.title for item in placed}, start, elsewhere or {}
    )
    return Assembled(
        surveyed,
        stamp_for(sizes),
        _fonts(surveyed, memo),
        links,
        (placed, front_pages, back_pages, contents_page),
        meta,
        memo,
    )


def _fonts(surveyed: Sequence[tuple[Path, Survey]], memo: Memo) -> dict[str, bytes]:
    """One font file for each face that more than one descriptor embeds, where they agree."""
    by_face: dict[str, list[tuple[int, tuple[int, int], str]]] = defaultdict(list)
    for index, (_, found) in enumerate(surveyed):
        for number, generation, face, digest in found.fonts:
            by_face[face].append((index, (number, generation), digest))
    fonts: dict[str, bytes] = {}
    for face, subsets in sorted(by_face.items()):
        if len(subsets) < 2:
            continue
        distinct = {digest: (index, objgen) for index, objgen, digest in reversed(subsets)}
        order = sorted(distinct, key=lambda digest: distinct[digest][0])
        key = digest_of("font", face, *order) + ".ttf"
        data = memo.recall(key)
        if data is None:
            wanted: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for digest in order:
                index, objgen = distinct[digest]
                wanted[index].append(objgen)
            programs = [
                program
                for index in sorted(wanted)
                for program in survey_programs(surveyed[index][0], wanted[index])
            ]
            data = merged_face(programs) or b""
            memo.keep(key, data)
        if data:
            fonts[face] = data
        else:
            LOGGER.info("fonts: the subsets of %s are not one font's; kept apart", face)
    return fonts
