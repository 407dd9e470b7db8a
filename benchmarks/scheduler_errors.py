"""How long medpdf takes to say why a ``--scheduler`` address cannot be used (issue 22).

Each case runs ``python -m medpdf build --content C --scheduler ADDRESS`` as a
child process, with Dask's default connect timeout (30 s), several times, and
prints its wall time (median and largest), its exit status and the one line it
printed. The baselines, measured in the same run: ``medpdf check`` of the same
content (starting Python and medpdf and scanning the collection, which every
error case pays before it can say anything), and for the unchanged rebuild the
same rebuild without ``--scheduler``.

Cases (every address on loopback, or a name under ``.invalid``, which never
resolves; nothing leaves this machine):

- nothing listens (a bound, never listening loopback port);
- a host name that does not resolve (``render-1.invalid``, with ``--scheduler-insecure``);
- a service that is not Dask: one that speaks first (an SSH banner), one that
  answers a request (an HTTP error);
- a service that closes every connection at once;
- plain TCP to another machine (``192.0.2.10``, a documentation address), refused
  before any traffic (exit 2);
- an unchanged rebuild with nothing listening at the address: exit 0.

Goal (from the issue): each one line, in under 2 s.

Usage (from the repository root; needs ``pip install -e '.[cluster]'``)::

    .venv/bin/python benchmarks/scheduler_errors.py
    .venv/bin/python benchmarks/scheduler_errors.py --runs 5
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from _common import (
    BenchmarkError,
    Measured,
    medpdf_argv,
    positive_int,
    print_environment,
    print_table,
    run_measured,
    scratch_folder,
    verdict,
)

GOAL_SECONDS = 2.0
MONOGRAPH = """---
title: {title}
---

# {title}
### Generic Name
{title}

### Usage
{title} treats an imaginary condition.
"""


@contextlib.contextmanager
def service(kind: str) -> Iterator[str]:
    """A loopback TCP service that is no Dask scheduler (``banner``, ``http`` or ``close``)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                if kind == "banner":
                    connection.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
                elif kind == "http":
                    connection.recv(4096)
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                if kind != "close":
                    connection.settimeout(30)
                    with contextlib.suppress(OSError):
                        connection.recv(4096)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join()


@contextlib.contextmanager
def closed_port() -> Iterator[str]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield f"tcp://127.0.0.1:{holder.getsockname()[1]}"


def timed(argv: Sequence[str], cwd: Path, runs: int, expected: int) -> list[Measured]:
    done = [run_measured(argv, cwd) for _ in range(runs)]
    for run in done:
        if run.returncode != expected:
            raise BenchmarkError(
                f"{' '.join(argv[3:])}: exit {run.returncode}, expected {expected}: "
                f"{run.stderr.strip()}"
            )
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=positive_int, default=3, help="runs of each case")
    args = parser.parse_args(argv)
    print_environment(Path("(not used: three generated monographs)"), [("runs", str(args.runs))])
    with scratch_folder(None, "medpdf-scheduler-errors-") as folder:
        content = folder / "content"
        content.mkdir()
        for title in ("Abrelin", "Brantix", "Cortinel"):
            (content / f"{title.lower()}.md").write_text(MONOGRAPH.format(title=title))
        build = medpdf_argv("build", "--content", str(content))
        fresh = folder / "fresh"
        fresh.mkdir()
        baseline = timed(medpdf_argv("check", "--content", str(content)), fresh, args.runs, 0)
        cases: list[tuple[str, list[Measured]]] = []
        with closed_port() as address:
            cases.append(
                ("nothing listens", timed([*build, "--scheduler", address], fresh, args.runs, 1))
            )
        cases.append(
            (
                "name does not resolve",
                timed(
                    [*build, "--scheduler", "tcp://render-1.invalid:8786", "--scheduler-insecure"],
                    fresh,
                    args.runs,
                    1,
                ),
            )
        )
        for kind, label in (
            ("banner", "not Dask (speaks first)"),
            ("http", "not Dask (HTTP)"),
            ("close", "closes the connection"),
        ):
            with service(kind) as address:
                cases.append((label, timed([*build, "--scheduler", address], fresh, args.runs, 1)))
        cases.append(
            (
                "plain TCP elsewhere",
                timed([*build, "--scheduler", "tcp://192.0.2.10:8786"], fresh, args.runs, 2),
            )
        )
        built = folder / "built"
        built.mkdir()
        timed(medpdf_argv("build", "--content", str(content), "-j", "1"), built, 1, 0)
        local = timed(build, built, args.runs, 0)
        with closed_port() as address:
            unchanged = timed([*build, "--scheduler", address], built, args.runs, 0)
        cases.append(("unchanged rebuild", unchanged))
    base = statistics.median(r.seconds for r in baseline)
    local_base = statistics.median(r.seconds for r in local)
    rows = [
        [name, f"{median:.2f}", f"{max(r.seconds for r in runs):.2f}", "", "0", ""]
        for name, median, runs in (
            ("baseline: medpdf check", base, baseline),
            ("baseline: unchanged rebuild", local_base, local),
        )
    ]
    passed = True
    lines: list[tuple[str, str]] = []
    for label, runs in cases:
        median = statistics.median(r.seconds for r in runs)
        worst = max(r.seconds for r in runs)
        out = runs[0].stderr.strip().splitlines()
        one_line = len(out) == 1 if runs[0].returncode else "unchanged" in runs[0].stderr
        ok = worst < GOAL_SECONDS and bool(one_line)
        passed = passed and ok
        rows.append(
            [
                label,
                f"{median:.2f}",
                f"{worst:.2f}",
                f"{median - (local_base if label == 'unchanged rebuild' else base):+.2f}",
                str(runs[0].returncode),
                verdict(ok),
            ]
        )
        lines.append((label, out[0] if len(out) == 1 else " | ".join(out)))
    print()
    print_table(
        ["case", "median s", "max s", "vs baseline", "exit", f"< {GOAL_SECONDS:g} s, 1 line"], rows
    )
    print()
    for label, line in lines:
        print(f"  {label}: {line}")
    print()
    print(f"every case one line in under {GOAL_SECONDS:g} s: {verdict(passed)}")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as exc:
        print(f"scheduler_errors.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
