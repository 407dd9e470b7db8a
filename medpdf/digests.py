"""Digests that key cached work: of any parts, and of medpdf's own code and libraries.

The collection scan keys parse results by them and the run stage keys every
PDF by them, so they sit below both: they read nothing but medpdf's own files
and the versions of installed libraries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from medpdf import __version__

#: The medpdf package: its ``*.py`` files are part of every fingerprint.
_PACKAGE = Path(__file__).resolve().parent

# Libraries whose version can change what a page looks like or what a file parses to.
_LIBRARIES = (
    "weasyprint",
    "pydyf",
    "tinycss2",
    "tinyhtml5",
    "jinja2",
    "markdown-it-py",
    "python-frontmatter",
    "pyyaml",
    "nh3",
    "pikepdf",
    "reportlab",
    "segno",
    "babel",
)

#: Resource subfolders that never reach a PDF: the printing station's web pages.
_SCREEN_ONLY = "serve"


def digest_of(*parts: str | bytes) -> str:
    """SHA-256 over length-prefixed parts, so ("ab", "c") and ("a", "bc") differ."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def files_digest(folders: Iterable[Path], pattern: str = "*") -> str:
    """Every file's name and bytes under ``folders`` (the station's own web files left out)."""
    parts: list[str | bytes] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
            if "__pycache__" in path.parts or path.relative_to(folder).parts[0] == _SCREEN_ONLY:
                continue
            parts += [path.relative_to(folder).as_posix(), path.read_bytes()]
    return digest_of(*parts)


@cache
def software_fingerprint() -> str:
    """Fingerprint of medpdf's own code and data and of the libraries it renders with."""
    from importlib import metadata  # 6 ms to import; only a run that needs a fingerprint pays

    versions: list[str] = [__version__]
    for name in _LIBRARIES:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} absent")
    # medpdf/data holds rules the code applies (content rules): part of the code.
    code = files_digest([_PACKAGE], "*.py"), files_digest([_PACKAGE / "data"])
    return digest_of(*code, *versions)
