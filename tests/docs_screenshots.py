"""Pictures of the station for the nurse's guide, taken by the browser tests themselves.

With ``MEDPDF_DOCS_SCREENSHOTS=DIR`` set (``make docs-screenshots`` sets it to
``docs/images/station``), :func:`screenshot` saves what a test's page shows at that
moment as ``DIR/NAME.png``; without it, it does nothing. The browser tests open their
pages at :data:`SCREEN`, a common laptop screen, so a picture shows the station as the
test saw it; the PNG is scaled to :data:`WIDTH` pixels and reduced to 256 colours, so
the committed files stay small.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from PIL import Image

#: The screen of the clinic's shared computers, the browser window of every browser test
#: (Playwright's own default is 1280 x 720).
SCREEN = {"width": 1366, "height": 768}
#: Width of the saved picture, in pixels (3/4 of the screen).
WIDTH = 1024
VARIABLE = "MEDPDF_DOCS_SCREENSHOTS"


def folder() -> Path | None:
    """Where pictures go, or None when nobody asked for them."""
    where = os.environ.get(VARIABLE)
    return Path(where) if where else None


def screenshot(page: Any, name: str) -> Path | None:
    """Save ``page`` (a Playwright page) as ``NAME.png`` in :func:`folder`, when set."""
    target = folder()
    if target is None:
        return None
    target.mkdir(parents=True, exist_ok=True)
    # From the top of the page, as staff first see it (typing scrolls the field into view).
    page.evaluate("window.scrollTo(0, 0)")
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    height = round(image.height * WIDTH / image.width)
    image = image.resize((WIDTH, height), Image.Resampling.LANCZOS)
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = target / f"{name}.png"
    image.save(path, optimize=True)
    return path
