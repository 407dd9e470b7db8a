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
saves it into its file (:meth:`Assembled.save`: streams copied as they are,
the other objects in object streams), so this stage never decides where or
how a file is written.

Memory is what limits the whole collection (21,000 pages): each part is
closed as soon as its pages are copied (qpdf copies their streams' data), and
the stamp is overlaid file by file (:mod:`medpdf.pdf.overlay`), so neither
the parts nor the stamp stay open while the booklet is in memory.
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


class Assembled:
    """A merged booklet in memory: its page count, and saving it into an open file."""

    def __init__(self, booklet: Any, tags: TagWriter, units: list[int]) -> None:
        self._booklet: Any = booklet
        self._tags = tags
        self._units = units
        self.pages = len(units)

    def save(self, handle: BinaryIO) -> None:
        """Write the booklet into ``handle``, then its merged structure tree after it.

        The booklet in memory is let go once saved (it can be saved once): the
        tree is written while the booklet no longer takes room.
        """
        import pikepdf

        booklet, self._booklet = self._booklet, None
        if booklet is None:
            raise RuntimeError("the booklet was saved already")
        # Streams are copied as they are: re-compressing 70 MB of content streams doubled
        # the time. Every other object goes into object streams (a third of the file).
        booklet.save(
            handle,
            min_version="1.7",
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
        booklet.close()
        del booklet
        self._tags.append(handle, self._units)


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
    """Merge ``parts``, overlay the stamp, link and outline; the booklet, ready to save.

    ``stamp_for`` gets the size of every merged page and returns PDFs with one
    stamp page for each, in order (the caller draws or reuses them). The last ``back_pages``
    (the ingredient index) are linked like the contents; a link to a monograph
    in another file of the set (``elsewhere``: slug → file name beside this one,
    0-based page) opens that file at that page. The outline's "Contents" opens
    ``contents_page`` (0-based).
    """
    import pikepdf

    from medpdf.pdf import fontmerge, overlay

    booklet = pikepdf.Pdf.new()
    pages, tags, owners = _merge(booklet, parts)
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
    overlay.stamp(
        booklet, pages, stamp_for([(float(p.MediaBox[2]), float(p.MediaBox[3])) for p in pages])
    )
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
    return Assembled(booklet, tags, units)


def _merge(booklet: Any, parts: Sequence[Path]) -> tuple[list[Any], TagWriter, list[int]]:
    """Graft every part's pages into ``booklet``, closing each part after.

    Returns the pages, their tags, and for each page the index of the part it
    came from.
    """
    import pikepdf

    from medpdf.pdf import tagmerge

    # Pages are grafted into the page tree directly and kept in a Python list:
    # pikepdf's PageList re-reads the whole page list on every append or index,
    # which made 18,000 pages take minutes (and outline items by page index, seconds).
    tree = booklet.Root.Pages
    page_objs: list[Any] = []
    tags = tagmerge.TagWriter()
    owners: list[int] = []
    for number, path in enumerate(parts):
        with pikepdf.Pdf.open(path) as part:
            copies = [booklet.copy_foreign(page.obj) for page in part.pages]
            tags.add(part, copies, len(page_objs))
        for copied in copies:
            copied.Parent = tree
        page_objs.extend(copies)
        owners += [number] * len(copies)
    tree.Kids = pikepdf.Array(page_objs)
    tree.Count = len(page_objs)
    return page_objs, tags, owners


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
