"""Assembling the booklet from separately laid-out PDFs: merge, tags, stamp, links, outline.

Inputs are finished PDFs (front parts and chunks, each with a private
``x-dest:`` link per contents line), the stamp PDF with one page per booklet
page, and where each monograph starts. The result is one PDF with the stamp
overlaid on every page (as a pagination artifact), the parts' structure
trees merged into one (:mod:`medpdf.pdf.tagmerge`), the contents links
turned into in-document destinations, an outline letter → drug, and the
title, language and PDF/UA identification that a merge would otherwise
drop. :func:`assemble` does it in steps, one function each (merge, stamp,
links, outline, metadata, one font file per typeface), and returns the booklet
in memory; the caller
saves it into its file (:meth:`Assembled.save`: streams copied as they are),
so this stage never decides where or how a file is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from medpdf.pdf import CROSS_DOCUMENT_SCHEME
from medpdf.pdf.archival import PDFUA_NAMESPACE

if TYPE_CHECKING:  # pikepdf (16 ms) is imported when a booklet is assembled
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


class _Overlay:
    """Draws a form on top of a page, as a pagination artifact, outside the page's own state.

    pikepdf's ``add_overlay`` would do the drawing, but it splices into the
    page's content stream, where the artifact cannot be told apart, and it
    adds a resource name per page to the resources a chunk's pages share.
    Here the page's stream is kept, and two small streams shared by every
    page go around it; each page gets its own resources naming its stamp.
    """

    NAME = "/MedpdfStamp"

    def __init__(self, booklet: Any) -> None:
        from medpdf.pdf import structure

        self._before = booklet.make_stream(b"q\n")
        self._after = booklet.make_stream(
            b"Q\n" + structure.PAGINATION_ARTIFACT + b"\nq " + self.NAME.encode() + b" Do Q\nEMC\n"
        )

    def add(self, page: Any, form: Any) -> None:
        """Overlay ``form`` (drawn for this page's size) on ``page``."""
        import pikepdf

        contents = page.Contents
        streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
        page.Contents = pikepdf.Array([self._before, *streams, self._after])
        shared = page.get("/Resources", pikepdf.Dictionary())
        resources = pikepdf.Dictionary({k: v for k, v in shared.items()})
        xobjects = pikepdf.Dictionary({k: v for k, v in shared.get("/XObject", {}).items()})
        xobjects[self.NAME] = form
        resources.XObject = xobjects
        page.Resources = resources


class Assembled:
    """A merged booklet in memory: its page count, and saving it into an open file."""

    def __init__(self, booklet: Any, parts: list[Any], tags: TagWriter, units: list[int]) -> None:
        self._booklet = booklet
        self._parts = parts  # the merged pages' streams are read from these when saving
        self._tags = tags
        self._units = units
        self.pages = len(units)

    def save(self, handle: BinaryIO) -> None:
        """Write the booklet into ``handle``, then its merged structure tree after it."""
        import pikepdf

        # Streams are copied as they are: re-compressing 70 MB of content streams doubled
        # the time.
        self._booklet.save(
            handle,
            min_version="1.7",
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            # A classic cross-reference table, which the tree's update extends.
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
        self._tags.append(handle, self._units)


def assemble(
    parts: Sequence[Path],
    stamp_for: Callable[[Sequence[tuple[float, float]]], Path],
    placed: Sequence[Placed],
    front_pages: int,
    meta: BookletMeta,
    back_pages: int = 0,
    elsewhere: Mapping[str, tuple[str, int]] | None = None,
    contents_page: int = 2,
) -> Assembled:
    """Merge ``parts``, overlay the stamp, link and outline; the booklet, ready to save.

    ``stamp_for`` gets the size of every merged page and returns a PDF with one
    stamp page for each (the caller draws or reuses it). The last ``back_pages``
    (the ingredient index) are linked like the contents; a link to a monograph
    in another file of the set (``elsewhere``: slug → file name beside this one,
    0-based page) opens that file at that page. The outline's "Contents" opens
    ``contents_page`` (0-based).
    """
    import pikepdf

    from medpdf.pdf import fontmerge

    booklet = pikepdf.Pdf.new()
    opened, pages, tags, owners = _merge(booklet, parts)
    fontmerge.share_subsets(booklet)  # one embedded file per typeface, not one per part
    total = len(pages)
    # A chunk's pages are one unit of the tree (its articles' fragments are joined
    # there); front and back pages are none.
    units = [
        owner if front_pages <= index < total - back_pages else -1
        for index, owner in enumerate(owners)
    ]
    booklet.Root.StructTreeRoot = tags.prepare(booklet, total)
    booklet.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
    _stamp(booklet, pages, stamp_for)
    start = {item.slug: front_pages + item.first_page for item in placed}
    _link(
        pages,
        placed,
        start,
        [*range(front_pages), *range(total - back_pages, total)],
        meta,
        elsewhere,
    )
    _outline(booklet, pages, placed, start, back_pages, meta, contents_page)
    _describe(booklet, meta)
    return Assembled(booklet, opened, tags, units)


def _merge(
    booklet: Any, parts: Sequence[Path]
) -> tuple[list[Any], list[Any], TagWriter, list[int]]:
    """Graft every part's pages into ``booklet``.

    Returns the opened parts, the pages, their tags, and for each page the index
    of the part it came from.
    """
    import pikepdf

    from medpdf.pdf import tagmerge

    opened = []
    # Pages are grafted into the page tree directly and kept in a Python list:
    # pikepdf's PageList re-reads the whole page list on every append or index,
    # which made 18,000 pages take minutes (and outline items by page index, seconds).
    tree = booklet.Root.Pages
    page_objs: list[Any] = []
    tags = tagmerge.TagWriter()
    owners: list[int] = []
    for number, path in enumerate(parts):
        part = pikepdf.Pdf.open(path)
        opened.append(part)
        copies = [booklet.copy_foreign(page.obj) for page in part.pages]
        tags.add(part, copies, len(page_objs))
        for copied in copies:
            copied.Parent = tree
        page_objs.extend(copies)
        owners += [number] * len(copies)
    tree.Kids = pikepdf.Array(page_objs)
    tree.Count = len(page_objs)
    return opened, page_objs, tags, owners


def _stamp(
    booklet: Any, pages: list[Any], stamp_for: Callable[[Sequence[tuple[float, float]]], Path]
) -> None:
    """Overlay each page with its page of the stamp drawn for these page sizes."""
    import pikepdf

    sizes = [(float(p.MediaBox[2]), float(p.MediaBox[3])) for p in pages]
    stamped = pikepdf.Pdf.open(stamp_for(sizes))
    overlay = _Overlay(booklet)
    for obj, stamp in zip(pages, stamped.pages, strict=True):
        overlay.add(obj, booklet.copy_foreign(stamp.as_form_xobject()))


def _destination(page: Any) -> Any:
    import pikepdf

    return pikepdf.Array([page, pikepdf.Name.Fit])


def _link(
    pages: list[Any],
    placed: Sequence[Placed],
    start: Mapping[str, int],
    linking: Sequence[int],
    meta: BookletMeta,
    elsewhere: Mapping[str, tuple[str, int]] | None,
) -> None:
    """Turn the private links on the ``linking`` pages into destinations, here or elsewhere."""
    import pikepdf

    titles = {item.slug: item.title for item in placed}
    for index in linking:
        for annot in pages[index].get("/Annots", []):
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            slug = uri.removeprefix(CROSS_DOCUMENT_SCHEME)
            if uri.startswith(CROSS_DOCUMENT_SCHEME) and slug in start:
                del annot["/A"]
                annot.Dest = _destination(pages[start[slug]])
                # What a screen reader announces for the link (it held the private URI).
                said = meta.page_link % {"title": titles[slug], "page": start[slug] + 1}
                annot.Contents = pikepdf.String(said)
            elif uri.startswith(CROSS_DOCUMENT_SCHEME) and elsewhere and slug in elsewhere:
                name, number = elsewhere[slug]
                annot.A = pikepdf.Dictionary(
                    S=pikepdf.Name.GoToR,
                    F=pikepdf.String(name),
                    D=pikepdf.Array([number, pikepdf.Name.Fit]),
                )
                annot.Contents = pikepdf.String(
                    meta.page_link % {"title": name, "page": number + 1}
                )


def _outline(
    booklet: Any,
    pages: list[Any],
    placed: Sequence[Placed],
    start: Mapping[str, int],
    back_pages: int,
    meta: BookletMeta,
    contents_page: int,
) -> None:
    """The outline: contents, each letter with its drugs, and the index."""
    import pikepdf

    total = len(pages)
    with booklet.open_outline() as outline:
        outline.root.append(
            pikepdf.OutlineItem(meta.contents, _destination(pages[min(contents_page, total - 1)]))
        )
        letter_item: Any = None
        for item in placed:
            first = pages[start[item.slug]]
            if letter_item is None or str(letter_item.title) != item.letter:
                letter_item = pikepdf.OutlineItem(item.letter, _destination(first))
                outline.root.append(letter_item)
            letter_item.children.append(pikepdf.OutlineItem(item.title, _destination(first)))
        if back_pages:
            outline.root.append(
                pikepdf.OutlineItem(meta.index, _destination(pages[total - back_pages]))
            )


def _describe(booklet: Any, meta: BookletMeta) -> None:
    """Title, language and PDF/UA identification, which merging does not carry over."""
    import pikepdf

    booklet.Root.Lang = pikepdf.String(meta.lang)
    booklet.Root.PageMode = pikepdf.Name.UseOutlines
    booklet.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    booklet.docinfo[pikepdf.Name.Title] = meta.title
    booklet.docinfo[pikepdf.Name.Creator] = meta.creator
    with booklet.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp.register_xml_namespace(PDFUA_NAMESPACE, "pdfuaid")
        xmp["dc:title"] = meta.title
        xmp["dc:language"] = [meta.lang]
        xmp["pdfuaid:part"] = "1"
