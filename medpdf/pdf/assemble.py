"""Assembling the booklet from separately laid-out PDFs: merge, tags, stamp, links, outline.

Inputs are finished PDFs (front parts and chunks, each with a private
``x-dest:`` link per contents line), the stamp PDF with one page per booklet
page, and where each monograph starts. The result is one PDF with the stamp
overlaid on every page (as a pagination artifact), the parts' structure
trees merged into one (:mod:`medpdf.pdf.tagmerge`), the contents links
turned into in-document destinations, an outline letter → drug, one font
file per typeface (:mod:`medpdf.pdf.fontmerge`), and the title, language and
PDF/UA identification that a merge would otherwise drop.

:func:`assemble` reads what the file needs to know before it is written: the
parts' page sizes (the stamp is drawn for them) and their font subsets. The
caller then has the booklet written into its file (:meth:`Assembled.save`),
so this stage never decides where or how a file is written. Saving writes
the file part by part (:mod:`medpdf.pdf.copier`): each part is opened, its
pages are written with their stamp, links and tag keys, and it is closed
before the next; the outline, the page tree and the structure tree come
last. Every object but a stream goes into an object stream. Memory is what
limited the whole collection (21,000 pages): as one pikepdf document, the
merged booklet took a gigabyte; written this way, the booklet never is in
memory, and a rebuild after one edit writes it again in seconds.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pikepdf

from medpdf.pdf import CROSS_DOCUMENT_SCHEME
from medpdf.pdf.archival import PDFUA_NAMESPACE
from medpdf.pdf.copier import Copier
from medpdf.pdf.outline import write_outline
from medpdf.pdf.update import UpdateWriter

if TYPE_CHECKING:
    from medpdf.pdf.overlay import Stamps
    from medpdf.pdf.tagmerge import TagWriter


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


@dataclass(frozen=True)
class _Survey:
    """What is known of a part before the booklet is written."""

    path: Path
    pages: int
    #: The part's font descriptors' embedded subsets: (object, generation) and face.
    fonts: tuple[tuple[tuple[int, int], str], ...]


class Assembled:
    """A booklet ready to be written: its page count, and writing it into an open file."""

    def __init__(
        self,
        parts: list[_Survey],
        stamps: Sequence[Path],
        fonts: dict[str, bytes],
        placed: Sequence[Placed],
        layout: tuple[int, int, int],
        meta: BookletMeta,
        elsewhere: Mapping[str, tuple[str, int]] | None,
    ) -> None:
        self._parts = parts
        self._stamps = stamps
        self._fonts = fonts
        self._placed = placed
        self._front, self._back, self._contents = layout
        self._meta = meta
        self._elsewhere = elsewhere or {}
        self.pages = sum(part.pages for part in parts)

    def save(self, handle: BinaryIO) -> None:
        """Write the booklet into ``handle``, part by part (see the module)."""
        from medpdf.pdf.overlay import Stamps
        from medpdf.pdf.tagmerge import TagWriter

        handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        writer = UpdateWriter(handle, 1)
        catalog, tree, page_tree = writer.reserve(), writer.reserve(), writer.reserve()
        numbers = writer.reserve_many(self.pages)
        fonts = {
            face: writer.stream(
                b"/Length1 %d /Filter /FlateDecode" % len(data), zlib.compress(data)
            )
            for face, data in self._fonts.items()
        }
        start = {item.slug: self._front + item.first_page for item in self._placed}
        pages = _Pages(
            writer, numbers, page_tree, Stamps(self._stamps, writer), TagWriter(self.pages)
        )
        links = _Links(
            self._meta, {item.slug: item.title for item in self._placed}, start, self._elsewhere
        )
        units: list[int] = []
        for index, part in enumerate(self._parts):
            body = self._front <= len(units) < self.pages - self._back
            with pikepdf.Pdf.open(part.path) as source:
                copier = Copier(source, writer)
                for objgen, face in part.fonts:
                    if face in fonts:
                        copier.alias(objgen, fonts[face])
                pages.add(source, copier, len(units), links, self._front, self._back)
                copier.drain()
            units += [index if body else -1] * part.pages
        pages.stamps.finish()
        writer.add(
            b"<</Type /Pages /Count %d /Kids [%s]>>"
            % (self.pages, b" ".join(b"%d 0 R" % n for n in numbers)),
            page_tree,
        )
        pages.tags.write(writer, tree, numbers, pages.annots, units)
        outline = write_outline(
            writer, self._placed, start, numbers, self._back, self._meta, self._contents
        )
        meta = self._meta
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
            % (page_tree, tree, pikepdf.String(meta.lang).unparse(), outline, metadata),
            catalog,
        )
        identity = (
            hashlib.md5(b"\n".join(str(part.path).encode() for part in self._parts) + xmp)
            .hexdigest()
            .encode()
        )
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


class _Links:
    """The private ``x-dest:`` links of the contents and index, made real."""

    def __init__(
        self,
        meta: BookletMeta,
        titles: Mapping[str, str],
        start: Mapping[str, int],
        elsewhere: Mapping[str, tuple[str, int]],
    ) -> None:
        self._meta = meta
        self._titles = titles
        self._start = start
        self._elsewhere = elsewhere

    def resolve(self, annot: Any, copier: Copier, numbers: Sequence[int]) -> None:
        """Point ``annot`` at its monograph's first page, here or in another file of the set."""
        action = annot.get("/A")
        uri = str(action.get("/URI", "")) if action is not None else ""
        if not uri.startswith(CROSS_DOCUMENT_SCHEME):
            return
        slug = uri.removeprefix(CROSS_DOCUMENT_SCHEME)
        if slug in self._start:
            page = self._start[slug]
            del annot["/A"]
            annot.Dest = pikepdf.Array([copier.proxy(numbers[page]), pikepdf.Name.Fit])
            # What a screen reader announces for the link (it held the private URI).
            said = self._meta.page_link % {"title": self._titles[slug], "page": page + 1}
            annot.Contents = pikepdf.String(said)
        elif slug in self._elsewhere:
            name, number = self._elsewhere[slug]
            annot.A = pikepdf.Dictionary(
                S=pikepdf.Name.GoToR,
                F=pikepdf.String(name),
                D=pikepdf.Array([number, pikepdf.Name.Fit]),
            )
            annot.Contents = pikepdf.String(
                self._meta.page_link % {"title": name, "page": number + 1}
            )


class _Pages:
    """Writes the booklet's pages, part by part, with their stamp, links and tag keys."""

    def __init__(
        self,
        writer: UpdateWriter,
        numbers: Sequence[int],
        tree: int,
        stamps: Stamps,
        tags: TagWriter,
    ) -> None:
        self._writer = writer
        self._numbers = numbers
        self._tree = tree
        self.stamps = stamps
        self.tags = tags
        #: Each tagged link's object number, by (booklet page, index in its /Annots).
        self.annots: dict[tuple[int, int], int] = {}

    def add(
        self,
        source: pikepdf.Pdf,
        copier: Copier,
        first: int,
        links: _Links,
        front: int,
        back: int,
    ) -> None:
        """Write ``source``'s pages as booklet pages ``first`` on."""
        sheets = [page.obj for page in source.pages]
        for index, sheet in enumerate(sheets):
            copier.alias(sheet.objgen, self._numbers[first + index])
        keys = self.tags.add(source, first)
        parent = copier.proxy(self._tree)
        around = copier.proxy(self.stamps.before), copier.proxy(self.stamps.after)
        shared: dict[tuple[int, int], Any] = {}
        total = len(self._numbers)
        for index, sheet in enumerate(sheets):
            at = first + index
            sheet.Parent = parent
            contents = sheet.Contents
            streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            sheet.Contents = pikepdf.Array([around[0], *streams, around[1]])
            sheet.Resources = _resources(source, sheet, shared, copier.proxy(self.stamps.form()))
            if keys is not None:
                sheet.StructParents = at
            annots: Any = sheet.get("/Annots", pikepdf.Array())
            for number, annot in enumerate(annots):
                if not annot.is_indirect:  # a tagged link is an object of its own (OBJR)
                    annot = annots[number] = source.make_indirect(annot)
                if at < front or at >= total - back:
                    links.resolve(annot, copier, self._numbers)
                key = keys.get((index, number)) if keys is not None else None
                if key is not None:
                    annot.StructParent = key
                    self.annots[(at, number)] = copier.number(annot.objgen)
            self._writer.add(copier.text(sheet), self._numbers[at])


def _resources(
    source: pikepdf.Pdf, sheet: Any, shared: dict[tuple[int, int], Any], form: Any
) -> Any:
    """The page's own resources: the part's shared ones, and its stamp as ``NAME``.

    The entries of a part's shared resources (colour spaces, graphics states,
    fonts) are made objects of their own once, so that every page refers to
    them rather than repeating them.
    """
    from medpdf.pdf.overlay import NAME

    given = sheet.get("/Resources", pikepdf.Dictionary())
    if given.is_indirect and given.objgen not in shared:
        for key, value in list(given.items()):
            if isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
                given[key] = source.make_indirect(value)
        shared[given.objgen] = given
    resources = pikepdf.Dictionary({k: v for k, v in given.items()})
    xobjects = pikepdf.Dictionary({k: v for k, v in given.get("/XObject", {}).items()})
    xobjects[NAME] = form
    resources.XObject = xobjects
    return resources


def assemble(
    parts: Sequence[Path],
    stamp_for: Callable[[Sequence[tuple[float, float]]], Sequence[Path]],
    placed: Sequence[Placed],
    front_pages: int,
    meta: BookletMeta,
    back_pages: int = 0,
    elsewhere: Mapping[str, tuple[str, int]] | None = None,
    contents_page: int = 2,
) -> Assembled:
    """Read ``parts`` and draw the stamp for their pages; the booklet, ready to write.

    ``stamp_for`` gets the size of every page and returns PDFs with one
    stamp page for each, in order (the caller draws or reuses them). The last ``back_pages``
    (the ingredient index) are linked like the contents; a link to a monograph
    in another file of the set (``elsewhere``: slug → file name beside this one,
    0-based page) opens that file at that page. The outline's "Contents" opens
    ``contents_page`` (0-based).
    """
    from medpdf.pdf.fontmerge import Faces

    faces = Faces()
    surveys: list[_Survey] = []
    sizes: list[tuple[float, float]] = []
    for path in parts:
        with pikepdf.Pdf.open(path) as part:
            for page in part.pages:
                box = page.mediabox
                sizes.append((float(box[2]), float(box[3])))
            fonts = [
                (obj.FontFile2.objgen, faces.add(obj))
                for obj in part.objects
                if isinstance(obj, pikepdf.Dictionary)
                and obj.get("/Type") == pikepdf.Name.FontDescriptor
                and "/FontFile2" in obj
            ]
            surveys.append(_Survey(path, len(part.pages), tuple(fonts)))
    return Assembled(
        surveys,
        stamp_for(sizes),
        faces.shared(),
        placed,
        (front_pages, back_pages, contents_page),
        meta,
        elsewhere,
    )
