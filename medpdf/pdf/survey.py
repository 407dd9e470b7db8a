"""What the booklet's writer must know of a part before it writes any of it.

Every page's size (the stamp is drawn for them), every embedded TrueType
subset (one font file per face is built from them: :mod:`.fontmerge`), and
how many tagged links the part has (their parent-tree keys follow the
pages'). A survey is kept as JSON beside the part, so a rebuild
after one edit reads only the changed part.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from medpdf.pdf import structure
from medpdf.pdf.fontmerge import face_of


@dataclass(frozen=True)
class Survey:
    """A part, as the booklet's writer needs it known in advance (see the module)."""

    pages: int
    sizes: tuple[tuple[float, float], ...]
    #: Each font descriptor's embedded subset: object, generation, face, SHA-256.
    fonts: tuple[tuple[int, int, str, str], ...]
    #: The part's tagged links (None: an untagged part).
    links: int | None

    def to_json(self) -> bytes:
        """The survey as kept."""
        return json.dumps(
            [self.pages, self.sizes, self.fonts, self.links], separators=(",", ":")
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Survey:
        """A survey kept by :meth:`to_json`."""
        pages, sizes, fonts, links = json.loads(data)
        return cls(
            pages,
            tuple((float(w), float(h)) for w, h in sizes),
            tuple((int(o), int(g), str(f), str(d)) for o, g, f, d in fonts),
            links,
        )


def survey(path: Path) -> Survey:
    """Read what :class:`Survey` holds from the part at ``path``."""
    with pikepdf.Pdf.open(path) as part:
        sizes = []
        for page in part.pages:
            box = page.mediabox
            sizes.append((float(box[2]), float(box[3])))
        fonts = [
            (
                *obj.FontFile2.objgen,
                face_of(obj),
                hashlib.sha256(obj.FontFile2.read_bytes()).hexdigest(),
            )
            for obj in part.objects
            if isinstance(obj, pikepdf.Dictionary)
            and obj.get("/Type") == pikepdf.Name.FontDescriptor
            and "/FontFile2" in obj
        ]
        links = structure.link_data(part)
        return Survey(len(sizes), tuple(sizes), tuple(fonts), None if links is None else len(links))


def programs(path: Path, subsets: Sequence[tuple[int, int]]) -> list[bytes]:
    """The embedded font files ``subsets`` (object, generation) of the part at ``path``."""
    with pikepdf.Pdf.open(path) as part:
        return [part.get_object(objgen).read_bytes() for objgen in subsets]
