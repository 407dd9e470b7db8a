"""The one way files reach ``output/``: atomically, recorded, one build at a time.

Every PDF is written atomically (:mod:`medpdf.atomic`: a temporary file named
after the writer's PID, synced and renamed), so a reader sees the old file or
the new one and never half of one; temporary files of writers that were
killed are swept by the next build. A build writes only through its
:class:`Store`, whose :meth:`~Store.keep` (a file of the output folder) and
:meth:`~Store.keep_part` (a part kept in the cache: a booklet chunk, stamp or
slice) write a file and then record it in the cache, so the cache never names
a file that is not in place. A lock per
output folder refuses a second build instead of letting two race on the same
files and cache.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from medpdf.atomic import sweep_stale_temps, write_atomic, write_atomic_with
from medpdf.errors import BusyError
from medpdf.run.cache import Cache

#: What a store writes: the bytes, or a function that streams them into an open file
#: (a 70 MB booklet is saved straight into its file, not held twice in memory).
Content = bytes | Callable[[BinaryIO], object]


def _write(target: Path, content: Content) -> None:
    if isinstance(content, bytes):
        write_atomic(target, content)
    else:
        write_atomic_with(target, content)


class Store:
    """An output folder's files and its cache: what a build has, and the one way it writes.

    Reads go to the cache (is this output current, is this part kept?); every
    write goes through :meth:`keep` or :meth:`keep_part`, which put the file in
    place atomically and only then record it.
    """

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    # -- files of the output folder ------------------------------------------------

    def current(self, target: Path, key: str) -> dict[str, Any] | None:
        """What was recorded with ``target`` if it was made from ``key`` and is untouched."""
        return self.cache.output_current(target, key)

    def keep(self, target: Path, key: str, content: Content, extra: Mapping[str, Any]) -> None:
        """Write ``target`` atomically, then record that it was made from ``key``."""
        _write(target, content)
        self.cache.record_outputs([(target, key, dict(extra))])

    def recorded(self, folder: Path) -> list[Path]:
        """The files this store wrote inside ``folder``."""
        return self.cache.recorded_outputs(folder)

    def remove(self, targets: Iterable[Path]) -> int:
        """Delete files this store wrote (their monographs are gone) and forget them."""
        gone = list(targets)
        for target in gone:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        self.cache.forget_outputs(gone)
        return len(gone)

    # -- parts kept in the cache -----------------------------------------------------

    def part(self, key: str) -> dict[str, Any] | None:
        """What was recorded with the part ``key``, if its file is present and intact."""
        return self.cache.blob(key)

    def part_data(self, key: str) -> bytes | None:
        """The part ``key``'s bytes, if its file is present and intact."""
        found = self.cache.blob_data(key)
        return None if found is None else found[0]

    def part_path(self, key: str) -> Path:
        """Where the part ``key`` is (or will be) kept."""
        return self.cache.blob_path(key)

    def keep_part(self, key: str, content: Content, extra: Mapping[str, Any]) -> Path:
        """Write the part ``key`` atomically, then record it with its SHA-256; its path."""
        path = self.part_path(key)
        _write(path, content)
        data = content if isinstance(content, bytes) else path.read_bytes()
        self.cache.record_blob(key, hashlib.sha256(data).hexdigest(), dict(extra))
        return path

    def prune_parts(self, keep: Iterable[str]) -> int:
        """Delete the parts not in ``keep``: the cache holds one booklet's worth, not history."""
        return self.cache.prune_blobs(keep)

    def sweep(self) -> int:
        """Delete the parts' temporary files left by writers that were killed."""
        return sweep_stale_temps(self.cache.blob_dir)

    # -- hints -------------------------------------------------------------------------

    def recall(self, name: str) -> str | None:
        """A value kept with :meth:`remember`; a hint, never trusted for output."""
        return self.cache.recall(name)

    def remember(self, name: str, value: str) -> None:
        """Keep a small value for the next build."""
        self.cache.remember(name, value)


@contextlib.contextmanager
def locked_output(output_dir: Path) -> Iterator[Store]:
    """Hold the output folder for this build and open its store.

    Two builds writing the same folder would race on the same files and the
    same cache, so the second one is refused with a clear message.
    """
    from filelock import FileLock, Timeout

    output_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(output_dir / ".medpdf.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BusyError(
            f"another medpdf build is writing to {output_dir}; try again when it has finished"
        ) from None
    try:
        with Cache(output_dir / ".cache") as cache:
            yield Store(cache)
    finally:
        lock.release()
