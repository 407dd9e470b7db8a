"""The booklet's stamp: "Page X of Y" and the printed date, drawn on top of laid-out pages.

Chunks of the booklet are laid out once and cached, so nothing that changes
with the whole (the page count) or with the day (the printed date) can be in
them; it is drawn here, one small page per booklet page, and overlaid after
the merge. WeasyPrint would take ~9 ms a page for this; reportlab takes well
under 1 ms. Where and how it is drawn lives with the other presentation
files, in ``styles/booklet-stamp.toml``.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from medpdf.errors import MedpdfError


@dataclass(frozen=True)
class StampStyle:
    """Where and how the booklet-wide page number and the date are drawn."""

    font: str
    size_pt: float
    color: str
    right_mm: float
    baseline_mm: float
    text: str
    date_size_pt: float
    date_baseline_mm: float
    date_text: str
    #: Duplex: the right margin of left-hand (even) pages, which is the inner one.
    left_page_right_mm: float | None = None


def load_style(styles_dir: Path, large_print: bool = False, duplex: bool = False) -> StampStyle:
    """Read the stamp's geometry; it lives with the other presentation files."""
    with (styles_dir / "booklet-stamp.toml").open("rb") as handle:
        raw = tomllib.load(handle)
    overrides = raw.pop("large_print", {})
    mirrored = raw.pop("duplex", {})
    if large_print:
        raw.update(overrides)
    if duplex:
        raw.update(mirrored)
    return StampStyle(
        font=str(raw["font"]),
        size_pt=float(raw["size_pt"]),
        color=str(raw["color"]),
        right_mm=float(raw["right_mm"]),
        baseline_mm=float(raw["baseline_mm"]),
        text=str(raw["text"]),
        date_size_pt=float(raw["date_size_pt"]),
        date_baseline_mm=float(raw["date_baseline_mm"]),
        date_text=str(raw["date_text"]),
        left_page_right_mm=(
            float(raw["left_page_right_mm"]) if "left_page_right_mm" in raw else None
        ),
    )


@cache
def _font_file(family: str) -> str:
    """The font file fontconfig picks for ``family``, the same one WeasyPrint uses."""
    found = subprocess.run(
        ["fc-match", "--format=%{file}", family], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not found:
        raise MedpdfError(f"no font file for '{family}' (is fontconfig set up?)")
    return found


def stamp_pdf(sizes: Sequence[tuple[float, float]], style: StampStyle, printed: dt.date) -> bytes:
    """One page per booklet page holding only its "Page X of Y" and the printed date."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font_name = "MedpdfStamp"
    if font_name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font_name, _font_file(style.font)))
    buffer = io.BytesIO()
    sheet = canvas.Canvas(
        buffer,
        pageCompression=1,
        invariant=1,
        initialFontName=font_name,  # otherwise every page also names Helvetica
        initialFontSize=style.size_pt,
    )
    total = len(sizes)
    date_line = style.date_text.format(date=printed.isoformat())
    for number, (width, height) in enumerate(sizes, start=1):
        sheet.setPageSize((width, height))
        sheet.setFillColor(HexColor(style.color))
        sheet.setFont(font_name, style.size_pt)
        text = style.text.format(page=f"{number:,}", pages=f"{total:,}")
        right_mm = style.right_mm
        if style.left_page_right_mm is not None and number % 2 == 0:
            right_mm = style.left_page_right_mm
        right = width - right_mm * mm
        sheet.drawRightString(right, style.baseline_mm * mm, text)
        sheet.setFont(font_name, style.date_size_pt)
        sheet.drawRightString(right, style.date_baseline_mm * mm, date_line)
        sheet.showPage()
    sheet.save()
    return buffer.getvalue()
