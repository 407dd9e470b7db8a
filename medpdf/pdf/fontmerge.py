"""One embedded font file per typeface in a merged booklet.

Each part of a booklet is laid out as its own document, so each embeds its own
subset of every typeface it uses: a volume of 300 monographs held 18 font files
for four faces of DejaVu Sans, the compact booklet 69, the whole collection
over a thousand. WeasyPrint subsets with HarfBuzz keeping the glyph ids of the
font (``RETAIN_GIDS``) and addresses glyphs by those ids (``Identity-H``,
``CIDToGIDMap /Identity``), so the subsets of one face differ only in which
glyphs they carry. :func:`share_subsets` builds, per face, one font holding
every glyph any subset carries (the largest subset, with the others' glyphs
copied in), and points every part's font descriptor at it: one embedded file
per face, and the pages draw exactly the same glyphs. Faces whose subsets do
not agree (not subsets of one font file) are left as they are.

The other subsets are read as raw tables (``loca``, ``glyf``, ``hmtx``), not
decoded glyph by glyph: a glyph's bytes are the same in every subset (a
composite names its parts by glyph id), and decoding every subset's whole
glyph table took 14 s at whole-collection scale.
"""

from __future__ import annotations

import hashlib
import io
import logging
import struct
import sys
from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._g_l_y_f import Glyph

LOGGER = logging.getLogger(__name__)


def _face(descriptor: Any) -> str:
    """The typeface a subset belongs to: its font name without the subset tag."""
    return str(descriptor.FontName).lstrip("/").split("+", 1)[-1]


@dataclass(frozen=True)
class _Subset:
    """One embedded subset, read as raw tables."""

    font: TTFont
    #: Where each glyph's bytes start in ``glyf`` (one more entry than glyphs).
    offsets: array[int]
    glyf: bytes
    hmtx: bytes
    long_metrics: int

    @classmethod
    def read(cls, data: bytes) -> _Subset | None:
        """The subset's raw tables; None for a font without TrueType outlines (CFF)."""
        font = TTFont(io.BytesIO(data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
        if "glyf" not in font or "loca" not in font:
            return None
        head = font.reader["head"]
        (long_format,) = struct.unpack(">h", head[50:52])
        offsets = array("I" if long_format else "H", font.reader["loca"])
        if sys.byteorder == "little":
            offsets.byteswap()
        if not long_format:
            offsets = array("I", (2 * offset for offset in offsets))
        (long_metrics,) = struct.unpack(">H", font.reader["hhea"][34:36])
        return cls(font, offsets, font.reader["glyf"], font.reader["hmtx"], long_metrics)

    def identity(self) -> tuple[object, ...]:
        """What subsets of one font file share: head's units, dates, revision; the full name."""
        head = self.font.reader["head"]
        return (head[4:8], head[18:36], self.font["name"].getDebugName(4))

    def glyphs(self) -> set[int]:
        """Ids of the glyphs the subset carries (those with an outline)."""
        offsets = self.offsets
        return {gid for gid in range(len(offsets) - 1) if offsets[gid + 1] > offsets[gid]}

    def glyph(self, gid: int) -> bytes:
        """The glyph's bytes, as the glyph table holds them."""
        return self.glyf[self.offsets[gid] : self.offsets[gid + 1]]

    def metrics(self, gid: int) -> tuple[int, int]:
        """Advance width and left side bearing of glyph ``gid``."""
        if gid < self.long_metrics:
            advance, lsb = struct.unpack_from(">Hh", self.hmtx, 4 * gid)
            return advance, lsb
        (advance,) = struct.unpack_from(">H", self.hmtx, 4 * (self.long_metrics - 1))
        at = 4 * self.long_metrics + 2 * (gid - self.long_metrics)
        (lsb,) = struct.unpack_from(">h", self.hmtx, at)
        return advance, lsb


#: ``maxp`` fields that bound a glyph's outline: the merged font's are the largest of its subsets'.
_MAXP_LIMITS = (
    "maxPoints",
    "maxContours",
    "maxCompositePoints",
    "maxCompositeContours",
    "maxComponentElements",
    "maxComponentDepth",
)


def _bounds(base: TTFont, subsets: list[_Subset]) -> None:
    """The merged font's head bounding box and maxp limits, from its subsets'.

    Taken from the subsets rather than recomputed, which would decode every glyph.
    """
    heads = [subset.font["head"] for subset in subsets]
    head = base["head"]
    head.xMin, head.yMin = min(h.xMin for h in heads), min(h.yMin for h in heads)
    head.xMax, head.yMax = max(h.xMax for h in heads), max(h.yMax for h in heads)
    maxp = base["maxp"]
    for name in _MAXP_LIMITS:
        values = [getattr(subset.font["maxp"], name, 0) for subset in subsets]
        if hasattr(maxp, name):
            setattr(maxp, name, max(values))


def _merged(programs: list[bytes]) -> bytes | None:
    """One font carrying every glyph of ``programs``, or None if they are not one font's."""
    subsets = [_Subset.read(data) for data in programs]
    if any(subset is None for subset in subsets):
        return None  # CFF outlines (Noto CJK): left as they are
    read = [subset for subset in subsets if subset is not None]
    if len({subset.identity() for subset in read}) != 1:
        return None
    # The largest subset has the highest glyph id kept, so every other id fits in it.
    read.sort(key=lambda subset: -len(subset.offsets))
    base = read[0]
    order = base.font.getGlyphOrder()
    have = base.glyphs()
    glyf, hmtx = base.font["glyf"], base.font["hmtx"]
    for other in read[1:]:
        for gid in sorted(other.glyphs() - have):
            glyf.glyphs[order[gid]] = Glyph(other.glyph(gid))
            hmtx[order[gid]] = other.metrics(gid)
            have.add(gid)
    _bounds(base.font, read)
    buffer = io.BytesIO()
    base.font.save(buffer)
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
        # Two parts often carry the very same subset (a face used for a few words).
        programs = {}
        for stream in streams.values():
            data = stream.read_bytes()
            programs[hashlib.sha256(data).digest()] = data
        data = _merged(list(programs.values()))
        if data is None:
            LOGGER.info("fonts: the subsets of %s are not one font's; kept apart", face)
            continue
        shared = pdf.make_stream(data, Length1=len(data))  # required of a TrueType file
        for descriptor in descriptors:
            descriptor.FontFile2 = shared
        removed += len(streams) - 1
    return removed
