"""Pieces shared by the benchmarks (``handouts.py``, ``booklet.py``, ``serve.py``).

* :class:`TreeSampler` polls ``/proc`` every 0.2 s and records the largest sum of
  RSS over a process and all of its descendants (worker processes included).
  RSS counts pages shared between processes (e.g. copy-on-write after ``fork``)
  once per process, so the sum is an upper estimate of what the tree really
  uses; a short-lived peak between two polls can be missed.
* :func:`run_measured` runs one command to completion under a sampler and times
  it with ``time.perf_counter`` in this process (process start-up included).
* Corpus discovery and deterministic, evenly spaced samples, copied (never
  symlinked) into a scratch content folder.
* The environment header, summary-line parsing and small formatting helpers.

Not a script: import it from a benchmark run as ``python benchmarks/NAME.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import importlib.metadata
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
POLL_SECONDS = 0.2
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
#: The same files medpdf's discovery skips (see ``medpdf.content.sources``).
IGNORED_NAMES = frozenset({"readme.md", "license.md", "changelog.md"})


class BenchmarkError(Exception):
    """A failure that ends the benchmark with a one-line message and exit status 1."""


# --- process-tree memory -------------------------------------------------------------------


def _parent_map() -> dict[int, list[int]]:
    """``{ppid: [pid, ...]}`` for every process visible in /proc right now."""
    children: dict[int, list[int]] = {}
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", encoding="utf-8") as handle:  # noqa: PTH123
                    stat = handle.read()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:  # noqa: PTH123
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def tree_pids(root: int) -> list[int]:
    """``root`` and every process descended from it that is visible in /proc right now."""
    children = _parent_map()
    found = []
    pending = [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def tree_rss(root: int) -> tuple[int, int]:
    """Summed RSS in bytes of ``root`` and all its descendants, and how many processes."""
    pids = tree_pids(root)
    return sum(_rss_bytes(pid) for pid in pids), len(pids)


class TreeSampler:
    """A background thread recording the peak summed RSS of a process tree."""

    def __init__(self, root: int, interval: float = POLL_SECONDS) -> None:
        self.root = root
        self.interval = interval
        self.peak_bytes = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)

    def _loop(self) -> None:
        while True:
            total, count = tree_rss(self.root)
            self.samples += 1
            self.peak_bytes = max(self.peak_bytes, total)
            self.peak_processes = max(self.peak_processes, count)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class Measured:
    """One command run to completion: wall time, peak summed RSS and what it printed."""

    argv: tuple[str, ...]
    seconds: float
    peak_bytes: int
    peak_processes: int
    returncode: int
    stdout: str
    stderr: str
    #: User + system CPU seconds of the command and every process it waited for
    #: (its workers), from getrusage(RUSAGE_CHILDREN) before and after.
    cpu_seconds: float = 0.0

    @property
    def peak_mib(self) -> float:
        """Peak summed RSS in MiB."""
        return self.peak_bytes / 2**20


def run_measured(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Measured:
    """Run ``argv`` in ``cwd`` under a :class:`TreeSampler`; output goes to temp files.

    ``env``: variables set for the command on top of this process's environment.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdout=out,
            stderr=err,
            text=True,
            env={**os.environ, **env} if env else None,
        )
        try:
            with TreeSampler(child.pid) as sampler:
                returncode = child.wait()
        except BaseException:
            child.kill()
            child.wait()
            raise
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.seek(0)
        err.seek(0)
        return Measured(
            tuple(argv),
            seconds,
            sampler.peak_bytes,
            sampler.peak_processes,
            returncode,
            out.read(),
            err.read(),
            cpu,
        )


def medpdf_argv(*args: str) -> tuple[str, ...]:
    """``python -m medpdf ARGS`` with this interpreter (the project's venv)."""
    return (sys.executable, "-m", "medpdf", *args)


def last_lines(text: str, count: int = 3) -> str:
    """The last non-blank lines of some output, joined with ' | ', for error messages."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "(no output)"


# --- corpus --------------------------------------------------------------------------------


def require_corpus(corpus: Path, script: str) -> Path:
    """The resolved corpus folder, or exit 2 with a clear message when it is absent."""
    if not corpus.is_dir():
        print(
            f"{script}: error: corpus folder {corpus} does not exist "
            "(pass --corpus PATH; the default is ../shared/corpus next to the repository)",
            file=sys.stderr,
        )
        sys.exit(2)
    return corpus.resolve()


def corpus_files(corpus: Path) -> list[Path]:
    """Every monograph under ``corpus``, sorted, skipped the way medpdf skips files."""
    found = []
    for path in corpus.rglob("*.md"):
        relative = path.relative_to(corpus)
        if any(part.startswith((".", "_")) for part in relative.parts):
            continue
        if path.name.lower() in IGNORED_NAMES or not path.is_file():
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(corpus).as_posix())


def even_sample(files: Sequence[Path], count: int) -> list[Path]:
    """``count`` files spread evenly over ``files`` (all of them when ``count`` is larger)."""
    if count >= len(files):
        return list(files)
    # Integer arithmetic: the same picks on every machine, no float rounding.
    return [files[index * len(files) // count] for index in range(count)]


def copy_sample(files: Sequence[Path], corpus: Path, content: Path) -> None:
    """Copy ``files`` into ``content`` keeping their ``<letter>/<slug>.md`` layout."""
    for source in files:
        target = content / source.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


# --- summary lines -------------------------------------------------------------------------

HANDOUTS_SUMMARY = re.compile(
    r"^handouts: (?P<built>\d+) built, (?P<unchanged>\d+) unchanged, (?P<removed>\d+) removed "
    r"\((?P<pages>\d+) pages\) in .* in (?P<seconds>[\d.]+) s; (?P<failed>\d+) monographs failed$",
    re.MULTILINE,
)
BOOKLET_SUMMARY = re.compile(
    r"^booklet: (?P<monographs>\d+) monographs, (?P<pages>\d+) pages in .* in "
    r"(?P<seconds>[\d.]+) s \((?P<laid_out>\d+) chunks laid out, (?P<reused>\d+) reused\); "
    r"(?P<failed>\d+) monographs left out$",
    re.MULTILINE,
)


def parse_summary(pattern: re.Pattern[str], run: Measured, what: str) -> dict[str, float]:
    """The numbers of medpdf's summary line; a crash (exit > 1, no summary) is an error.

    Exit 1 is accepted: the corpus has duplicate titles, which medpdf reports and skips.
    """
    found = pattern.search(run.stderr)
    if run.returncode not in (0, 1) or found is None:
        raise BenchmarkError(
            f"{what}: medpdf exited {run.returncode} without its summary line: "
            f"{last_lines(run.stderr or run.stdout)}"
        )
    return {key: float(value) for key, value in found.groupdict().items()}


# --- PDFs ----------------------------------------------------------------------------------


def pdf_pages(pdf: Path) -> int | None:
    """Pages of a PDF via pypdf; None when pypdf is missing or cannot read it."""
    try:
        pypdf = importlib.import_module("pypdf")
    except ImportError:
        return None
    try:
        return len(pypdf.PdfReader(str(pdf)).pages)
    except Exception:
        return None


# --- environment and formatting --------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def print_environment(corpus: Path, extra: Sequence[tuple[str, str]] = ()) -> None:
    """What the figures depend on, before any of them."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    commit = _git("rev-parse", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    rows = [
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("cpus", f"{os.cpu_count()} (usable by this process: {affinity})"),
        ("load average", f"{load} (1, 5, 15 min; figures are only fair on a quiet machine)"),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("weasyprint", _version("weasyprint")),
        ("markdown-it-py", _version("markdown-it-py")),
        ("medpdf", _version("medpdf")),
        ("git commit", f"{commit}{' (with uncommitted changes)' if dirty else ''} of {REPO}"),
        ("platform", platform.platform()),
        ("corpus", str(corpus)),
        (
            "peak memory",
            f"RSS summed over the process and all descendants, polled from /proc every "
            f"{POLL_SECONDS} s",
        ),
        *extra,
    ]
    print("environment")
    for name, value in rows:
        print(f"  {name:<16}{value}")


def verdict(ok: bool | None) -> str:
    """PASS / FAIL / NOT MEASURED."""
    if ok is None:
        return "NOT MEASURED"
    return "PASS" if ok else "FAIL"


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False
) -> None:
    """A table, first column left-aligned and the rest right-aligned: plain, or Markdown."""
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in rows)) if rows else len(headers[i])
        for i in range(len(headers))
    ]
    if markdown:
        widths = [max(width, 3) for width in widths]

    def line(cells: Sequence[str]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        rest = [f"{cell:>{width}}" for cell, width in zip(cells[1:], widths[1:], strict=True)]
        if markdown:
            return "| " + " | ".join([first, *rest]) + " |"
        return "  " + "  ".join([first, *rest])

    print(line(headers))
    if markdown:
        rules = [":" + "-" * (widths[0] - 1)] + ["-" * (width - 1) + ":" for width in widths[1:]]
        print(line(rules))
    for row in rows:
        print(line(row))


@contextlib.contextmanager
def scratch_folder(keep: Path | None, prefix: str) -> Iterator[Path]:
    """A temp folder removed afterwards, or ``keep`` (created, must be empty) left in place."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
            yield Path(tmp)
        return
    keep.mkdir(parents=True, exist_ok=True)
    if any(keep.iterdir()):
        raise BenchmarkError(f"--keep folder {keep} is not empty")
    yield keep.resolve()


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value
