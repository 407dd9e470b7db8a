"""One part as written into the booklet: its pages, what they refer to, their stamps and tree.

A segment is a run of finished PDF objects, numbered in a range of its own
(from :attr:`Place.first_number`, as many as it used, rounded up), which
:meth:`medpdf.pdf.update.UpdateWriter.take` puts in the booklet's file as it
is. Its bytes depend only on the part and on what
its key holds (where it goes, the booklet's shared objects' numbers, the
stamp pages it draws, and for the contents and index where each monograph
starts), so a rebuild after one edit writes one new segment and copies the
others: the booklet's merge is then a copy, not 20,000 pages written again.

Each page is written with the two shared streams around its content and its
stamp as a form; a contents or index link becomes a destination in the
booklet (or in another volume's file); tagged pages and links get their
parent-tree keys; the part's tree follows its pages (:mod:`.tagmerge`).
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pikepdf

from medpdf.digests import digest_of
from medpdf.pdf import CROSS_DOCUMENT_SCHEME, structure
from medpdf.pdf.copier import Copier
from medpdf.pdf.survey import Survey
from medpdf.pdf.tagmerge import PartTree, write_part_tree
from medpdf.pdf.update import UpdateWriter

if TYPE_CHECKING:
    from medpdf.pdf.overlay import Stamps


@dataclass(frozen=True)
class Shared:
    """The booklet's own objects a segment refers to, by number."""

    page_tree: int
    document: int
    #: The object number of booklet page 0 (pages are numbered in a row).
    first_page: int
    total: int
    before: int
    after: int
    #: Each face's one font file (:mod:`.fontmerge`).
    fonts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Place:
    """Where a part goes in the booklet."""

    first_page: int
    #: Its first object number.
    first_number: int
    #: Its tagged links' parent-tree keys begin at the pages' count plus this.
    link_base: int
    #: A part of the body (a chunk of monographs), whose articles' fragments are joined;
    #: any other part (the front matter, the index) has its ``x-dest:`` links made real.
    body: bool


@dataclass(frozen=True)
class Segment:
    """A written segment: its bytes, every object's place in them, and its part's tree."""

    data: bytes
    entries: bytes
    tree: PartTree | None

    def pack(self) -> bytes:
        """The segment as kept."""
        tree = json.dumps(None if self.tree is None else self.tree.to_json()).encode()
        return struct.pack(">QQ", len(self.entries), len(tree)) + self.entries + tree + self.data

    @classmethod
    def unpack(cls, blob: bytes) -> Segment:
        """A segment kept by :meth:`pack`."""
        entries, tree = struct.unpack_from(">QQ", blob)
        at = 16 + entries + tree
        kept = json.loads(blob[16 + entries : at])
        return cls(blob[at:], blob[16 : 16 + entries], kept and PartTree.from_json(kept))


class Links:
    """The private ``x-dest:`` links of the contents and index, made real."""

    def __init__(
        self,
        page_link: str,
        titles: Mapping[str, str],
        start: Mapping[str, int],
        elsewhere: Mapping[str, tuple[str, int]],
    ) -> None:
        self._page_link = page_link
        self._titles = titles
        self._start = start
        self._elsewhere = elsewhere
        #: What the links of a contents or index segment depend on.
        self.key = digest_of(
            page_link,
            json.dumps([sorted(start.items()), sorted(titles.items()), sorted(elsewhere.items())]),
        )

    def resolve(self, annot: Any, copier: Copier, shared: Shared) -> None:
        """Point ``annot`` at its monograph's first page, here or in another file of the set."""
        action = annot.get("/A")
        uri = str(action.get("/URI", "")) if action is not None else ""
        if not uri.startswith(CROSS_DOCUMENT_SCHEME):
            return
        slug = uri.removeprefix(CROSS_DOCUMENT_SCHEME)
        if slug in self._start:
            page = self._start[slug]
            del annot["/A"]
            target = copier.proxy(shared.first_page + page)
            annot.Dest = pikepdf.Array([target, pikepdf.Name.Fit])
            # What a screen reader announces for the link (it held the private URI).
            said = self._page_link % {"title": self._titles[slug], "page": page + 1}
            annot.Contents = pikepdf.String(said)
        elif slug in self._elsewhere:
            name, number = self._elsewhere[slug]
            annot.A = pikepdf.Dictionary(
                S=pikepdf.Name.GoToR,
                F=pikepdf.String(name),
                D=pikepdf.Array([number, pikepdf.Name.Fit]),
            )
            annot.Contents = pikepdf.String(self._page_link % {"title": name, "page": number + 1})


def write_segment(
    path: Path, survey: Survey, place: Place, shared: Shared, stamps: Stamps, links: Links
) -> Segment:
    """Write the part at ``path`` as the segment at ``place`` (see the module)."""
    from medpdf.pdf.overlay import NAME

    handle = io.BytesIO()
    writer = UpdateWriter(handle, place.first_number)
    pages = range(shared.first_page, shared.first_page + shared.total)
    annots: dict[tuple[int, int], int] = {}  # each tagged link's number, by (page, index)
    with pikepdf.Pdf.open(path) as source:
        copier = Copier(source, writer)
        fonts = dict(shared.fonts)
        for number, generation, face, _ in survey.fonts:
            if face in fonts:
                copier.alias((number, generation), fonts[face])
        sheets = [page.obj for page in source.pages]
        for index, sheet in enumerate(sheets):
            copier.alias(sheet.objgen, pages[place.first_page + index])
        data = structure.sidecar(source)
        keys = {
            (page, number): shared.total + place.link_base + index
            for index, (page, number, _) in enumerate(data["links"] if data else ())
        }
        parent = copier.proxy(shared.page_tree)
        around = copier.proxy(shared.before), copier.proxy(shared.after)
        made_shared: set[tuple[int, int]] = set()
        for index, sheet in enumerate(sheets):
            at = place.first_page + index
            sheet.Parent = parent
            contents = sheet.Contents
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            sheet.Contents = pikepdf.Array([around[0], *streams, around[1]])
            stamp = copier.proxy(stamps.form(writer, at))
            sheet.Resources = _resources(source, sheet, made_shared, NAME, stamp)
            if data is not None:
                sheet.StructParents = at
            page_annots: Any = sheet.get("/Annots", pikepdf.Array())
            for number, annot in enumerate(page_annots):
                if not annot.is_indirect:  # a tagged link is an object of its own (OBJR)
                    annot = page_annots[number] = source.make_indirect(annot)
                if not place.body:
                    links.resolve(annot, copier, shared)
                key = keys.get((index, number))
                if key is not None:
                    annot.StructParent = key
                    annots[(at, number)] = copier.number(annot.objgen)
            writer.add(copier.text(sheet), pages[at])
        copier.drain()
    tree = None
    if data is not None:
        tree = write_part_tree(
            writer, data, place.first_page, len(sheets), shared.document, pages, annots, place.body
        )
    entries = writer.segment()
    return Segment(handle.getvalue(), entries, tree)


def _resources(
    source: pikepdf.Pdf, sheet: Any, made: set[tuple[int, int]], name: str, stamp: Any
) -> Any:
    """The page's own resources: the part's shared ones, and its stamp as ``name``.

    The entries of a part's shared resources (colour spaces, graphics states,
    fonts) are made objects of their own once, so that every page refers to
    them rather than repeating them.
    """
    given = sheet.get("/Resources", pikepdf.Dictionary())
    if given.is_indirect and given.objgen not in made:
        for key, value in list(given.items()):
            if isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
                given[key] = source.make_indirect(value)
        made.add(given.objgen)
    resources = pikepdf.Dictionary({k: v for k, v in given.items()})
    xobjects = pikepdf.Dictionary({k: v for k, v in given.get("/XObject", {}).items()})
    xobjects[name] = stamp
    resources.XObject = xobjects
    return resources
