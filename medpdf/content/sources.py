"""Reading monograph files from disk: the only stage that touches the content folder.

Everything after this works on :class:`Source` values, so parsing and
validation can be tested without files and a bad file is reported, not raised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from medpdf.errors import SourceError, UsageError

#: Monographs larger than this are refused before parsing; the largest real one is ~10 kB.
MAX_SOURCE_BYTES = 2 * 1024 * 1024

_IGNORED_NAMES = frozenset({"readme.md", "license.md", "changelog.md"})


@dataclass(frozen=True)
class Source:
    """The raw text of one monograph file and where it came from."""

    path: Path
    display_path: str
    slug: str
    text: str
    digest: str


def slug_for(path: Path) -> str:
    """The slug is the file name without ``.md``, lower-cased, as in the corpus layout."""
    return path.stem.lower()


def require_folder(content_dir: Path) -> None:
    """Fail early, before a build creates anything, when the content folder is missing."""
    if not content_dir.is_dir():
        raise UsageError(f"content folder '{content_dir}' does not exist")


def discover(content_dir: Path) -> list[Path]:
    """Every monograph below ``content_dir`` in a stable order.

    Hidden and underscore-prefixed paths and README-style files are skipped so a
    collection can carry its own notes without them becoming monographs.
    """
    require_folder(content_dir)
    found: list[Path] = []
    for path in content_dir.rglob("*.md"):
        relative = path.relative_to(content_dir)
        if any(part.startswith((".", "_")) for part in relative.parts):
            continue
        if path.name.lower() in _IGNORED_NAMES or not path.is_file():
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(content_dir).as_posix())


def display_path(path: Path) -> str:
    """Path as the user should see it: relative to the working folder when possible."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read(path: Path) -> Source:
    """Read one file as UTF-8, raising :class:`SourceError` with a one-line reason."""
    shown = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise SourceError(
                shown, None, f"file is {size} bytes; the limit is {MAX_SOURCE_BYTES} bytes"
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(shown, None, f"cannot read file: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise SourceError(shown, None, "binary file (contains NUL bytes), not a monograph")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceError(shown, line, f"not valid UTF-8 (byte {exc.start})") from None
    return Source(
        path=path,
        display_path=shown,
        slug=slug_for(path),
        text=text,
        digest=hashlib.sha256(raw).hexdigest(),
    )


def read_all(content_dir: Path) -> Iterator[Source | SourceError]:
    """Read every monograph, yielding the error in place of a file that cannot be read."""
    for path in discover(content_dir):
        try:
            yield read(path)
        except SourceError as exc:
            yield exc
