"""Drawing a stamp onto a finished, tagged PDF without breaking its tags.

The booklet overlays its stamp while merging, and a merge drops the structure
tree anyway. A medication pack is one tagged PDF (PDF/UA-1) straight from
WeasyPrint, and every mark on a tagged page must be either in the structure
tree or an artifact; so the stamp is drawn as a pagination artifact, and the
page's own content is left exactly as it was, wrapped in ``q``/``Q`` so that
no state it leaves behind moves the stamp.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence


def stamp_artifacts(
    data: bytes, stamp_for: Callable[[Sequence[tuple[float, float]]], bytes]
) -> bytes:
    """``data`` with a stamp drawn over each page, marked as a pagination artifact.

    ``stamp_for`` gets every page's size and returns a PDF of one stamp page each.
    """
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(data)) as pdf:
        sizes = [(float(p.mediabox[2]), float(p.mediabox[3])) for p in pdf.pages]
        marks = pikepdf.Pdf.open(io.BytesIO(stamp_for(sizes)))
        if len(pdf.pages) != len(marks.pages):
            raise ValueError(f"{len(marks.pages)} stamp pages for {len(pdf.pages)} pages")
        for page, mark in zip(pdf.pages, marks.pages, strict=True):
            form = pdf.copy_foreign(mark.as_form_xobject())
            name = page.add_resource(form, pikepdf.Name.XObject, prefix="Stamp")
            page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
            drawn = (
                b"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC\nq "
                + bytes(str(name), "ascii")
                + b" Do Q\nEMC\n"
            )
            page.contents_add(pikepdf.Stream(pdf, drawn), prepend=False)
        out = io.BytesIO()
        pdf.save(out)
        marks.close()
    return out.getvalue()
