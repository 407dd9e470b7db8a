"""The atomic write: a reader sees the old file or the new one, never half of one.

Data is written to a temporary file beside the target, named after the
writer's PID, synced and renamed over the target. A writer that is killed
leaves only its temporary file, which the next writer of the folder sweeps
(:func:`sweep_stale_temps`: only files whose PID is gone, so a live writer's
are kept). Builds write through :class:`medpdf.run.store.Store`, which records
what it writes; the record's archive and the approvals file use this directly.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

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
