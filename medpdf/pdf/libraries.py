"""Opening WeasyPrint's C libraries without a compiler run for every name tried.

WeasyPrint 70 opens GObject, Pango, HarfBuzz, fontconfig … by trying up to six
names per library, for every platform (``libgobject-2.0-0``, ``gobject-2.0-0``,
… ``libgobject-2.0.so.0``). For each name that does not open, cffi asks
``ctypes.util.find_library``, which on Linux starts ``ldconfig -p``, then
``gcc``, then ``ld`` as child processes: 22 lookups, 150 to 200 ms of a 0.8 s
one-shot handout on the 2-core machine (measured: the WeasyPrint import took
0.35 to 0.37 s with them and 0.19 to 0.21 s without). That is more than the whole
layout of a handout.

:func:`linker_cache_lookup` answers those lookups, while WeasyPrint is being
imported and only then, from one read of the dynamic linker's cache (about
1 ms): the same first step ``find_library`` takes, without the compiler and
linker runs after it. The libraries opened are the same ones: each of
WeasyPrint's lists ends with the library's soname, which ``dlopen`` resolves
itself (``LD_LIBRARY_PATH`` included). Elsewhere than Linux, or without
``ldconfig``, nothing is replaced.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator

#: Where glibc keeps ldconfig; ctypes looks there too.
_LDCONFIG = "/sbin/ldconfig"


def _linker_cache() -> bytes | None:
    """``ldconfig -p`` as ctypes runs it (C locale), or None when it cannot run."""
    program = _LDCONFIG if os.access(_LDCONFIG, os.X_OK) else shutil.which("ldconfig")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, "-p"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={"LC_ALL": "C", "LANG": "C"},
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def lookup_in(cache: bytes) -> Callable[[str], str | None]:
    """A ``find_library`` that answers from ``cache`` (``ldconfig -p`` output).

    It returns the soname, as ``find_library`` does, for the first entry
    named ``lib<name>.…``; a wrong-architecture entry fails to open and cffi
    goes on to the next name in WeasyPrint's list.
    """

    def find_library(name: str) -> str | None:
        pattern = rb"\s(lib" + re.escape(os.fsencode(name)) + rb"\.\S+)\s+\("
        found = re.search(pattern, cache)
        return os.fsdecode(found.group(1)) if found else None

    return find_library


@contextlib.contextmanager
def linker_cache_lookup() -> Iterator[None]:
    """Within the block, ``ctypes.util.find_library`` reads the linker cache once, runs nothing."""
    cache = _linker_cache() if sys.platform.startswith("linux") else None
    if cache is None:
        yield
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = lookup_in(cache)  # type: ignore[assignment]  # same signature
    try:
        yield
    finally:
        ctypes.util.find_library = original
