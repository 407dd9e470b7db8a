"""The one way files reach ``output/``: atomically, one build at a time.

Every PDF is written to a temporary file named after the writer's PID, synced
and renamed, so a reader sees the old file or the new one and never half of
one; temporary files of writers that were killed are swept by the next build.
A lock per output folder refuses a second build instead of letting two race
on the same files and cache.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from medpdf.errors import BusyError
from medpdf.run.cache import Cache

_TMP_SUFFIX = ".medpdf-tmp"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temps(folder: Path) -> int:
    """Delete temporary files left by writers that were killed (their PID is gone).

    Temp names carry the writer's PID, so a concurrent live build's files are kept.
    """
    removed = 0
    if not folder.is_dir():
        return removed
    for tmp in folder.glob(f".*{_TMP_SUFFIX}"):
        parts = tmp.name.split(".")  # "", pid, random part, "medpdf-tmp"
        pid = parts[1] if len(parts) == 4 else ""
        if pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed += 1
    return removed


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that readers see the old file or the new, never half."""
    write_atomic_with(target, lambda handle: handle.write(data))


def write_atomic_with(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Like :func:`write_atomic`, for a streaming writer: a 70 MB booklet, not twice in memory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        # Not named after the target: a 250-character slug plus a suffix would
        # pass the file system's 255-byte name limit.
        dir=target.parent,
        prefix=f".{os.getpid()}.",
        suffix=_TMP_SUFFIX,
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def locked_output(output_dir: Path) -> Iterator[Cache]:
    """Hold the output folder for this build and open its cache.

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
        with Cache(output_dir / ".cache") as store:
            yield store
    finally:
        lock.release()
