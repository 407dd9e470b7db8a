"""One embedded font file per typeface in a merged booklet.

Each part of a booklet is laid out as its own document, so each embeds its own
subset of every typeface it uses: a volume of 300 monographs held 18 font files
for four faces of DejaVu Sans, the compact booklet 69. WeasyPrint subsets with
HarfBuzz keeping the glyph ids of the font (``RETAIN_GIDS``) and addresses
glyphs by those ids (``Identity-H``, ``CIDToGIDMap /Identity``), so the subsets
of one face differ only in which glyphs they carry. :func:`share_subsets`
builds, per face, one font holding every glyph any subset carries (the largest
subset, with the others' glyphs copied in), and points every part's font
descriptor at it: one embedded file per face, and the pages draw exactly the
same glyphs. Faces whose subsets do not agree glyph for glyph (not subsets of
one font file) are left as they are.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont

LOGGER = logging.getLogger(__name__)


def _face(descriptor: Any) -> str:
    """The typeface a subset belongs to: its font name without the subset tag."""
    return str(descriptor.FontName).lstrip("/").split("+", 1)[-1]


def _glyphs(font: TTFont) -> set[int]:
    """Ids of the glyphs the subset carries (an outline, or a composite of them)."""
    glyf = font["glyf"]
    order = font.getGlyphOrder()
    return {gid for gid, name in enumerate(order) if glyf[name].numberOfContours != 0}


def _identity(font: TTFont) -> tuple[object, ...]:
    """What subsets of one font file share: its head and its family's full name."""
    head = font["head"]
    return (head.unitsPerEm, head.created, head.fontRevision, font["name"].getDebugName(4))


def _merged(programs: list[bytes]) -> bytes | None:
    """One font carrying every glyph of ``programs``, or None if they are not one font's.

    Glyphs are matched by id (the subsets keep the font's ids); their names may
    differ between subsets ("quotedbl" in one, "glyph00005" in another), so a
    copied composite glyph's components are renamed to the base's names.
    """
    fonts = [TTFont(io.BytesIO(data), lazy=True) for data in programs]
    if not all("glyf" in font for font in fonts):
        return None  # CFF outlines (Noto CJK): left as they are
    if len({_identity(font) for font in fonts}) != 1:
        return None
    fonts.sort(key=lambda font: -len(font.getGlyphOrder()))
    base = fonts[0]
    order = base.getGlyphOrder()
    have = _glyphs(base)
    glyf, hmtx = base["glyf"], base["hmtx"]
    for other in fonts[1:]:
        other_order = other.getGlyphOrder()
        rename = {name: order[gid] for gid, name in enumerate(other_order)}
        for gid in sorted(_glyphs(other) - have):
            glyph = other["glyf"][other_order[gid]]
            if glyph.isComposite():
                for component in glyph.components:
                    component.glyphName = rename[component.glyphName]
            glyf[order[gid]] = glyph
            hmtx[order[gid]] = other["hmtx"][other_order[gid]]
            have.add(gid)
    buffer = io.BytesIO()
    base.save(buffer)
    return buffer.getvalue()


def share_subsets(pdf: pikepdf.Pdf) -> int:
    """Give every TrueType face of ``pdf`` one embedded font file; how many files went."""
    by_face: dict[str, list[Any]] = defaultdict(list)
    for obj in pdf.objects:
        if (
            isinstance(obj, pikepdf.Dictionary)
            and obj.get("/Type") == pikepdf.Name.FontDescriptor
            and "/FontFile2" in obj
        ):
            by_face[_face(obj)].append(obj)
    removed = 0
    for face, descriptors in by_face.items():
        streams = {d.FontFile2.objgen: d.FontFile2 for d in descriptors}
        if len(streams) < 2:
            continue
        data = _merged([stream.read_bytes() for stream in streams.values()])
        if data is None:
            LOGGER.info("fonts: the subsets of %s are not one font's; kept apart", face)
            continue
        shared = pdf.make_stream(data)
        for descriptor in descriptors:
            descriptor.FontFile2 = shared
        removed += len(streams) - 1
    return removed
