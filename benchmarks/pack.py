"""A 5-medicine pack against the same five handouts rendered one after another, same run.

Goal (issue 12): the pack takes at most 1.2 times the summed time of its five
handouts. Both are rendered in this process through the tasks the commands
use (``handout_task`` five times, ``pack_task`` once), after one warm-up of
each that is not counted, the runs interleaved (alternating which goes first)
so that drift in machine load hits both alike. Wall and CPU time are medians.

Usage (from the repository root)::

    .venv/bin/python benchmarks/pack.py --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import DEFAULT_CORPUS, print_environment, print_table, require_corpus, verdict

from medpdf.content import sources
from medpdf.products.handouts import HandoutJob, handout_task
from medpdf.products.pack import make as pack
from medpdf.products.pack import packlist
from medpdf.run.contract import RunContext
from medpdf.settings import config

MEDICINES = ("metformin", "aspirin", "clopidogrel", "atorvastatin", "omeprazole")
GOAL = 1.2


def timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    corpus = require_corpus(args.corpus, "pack.py")
    print_environment(corpus, [("medicines", ", ".join(MEDICINES))])

    settings = config.make(content_dir=corpus)
    context = RunContext.of(settings)
    found = [sources.read(next(corpus.glob(f"*/{name}.md"))) for name in MEDICINES]
    wanted = packlist.PackRequest(MEDICINES).settle([(s.slug, {s.slug}) for s in found])
    with tempfile.TemporaryDirectory(prefix="medpdf-bench-pack-") as folder:
        out = Path(folder)

        def handouts() -> None:
            for source in found:
                handout_task(HandoutJob(source, context, out / f"{source.slug}.pdf"))

        def one_pack() -> None:
            pack.pack_task(pack.PackJob(tuple(found), wanted, context, out / "pack.pdf"))

        handouts()  # warm-up: imports, fonts, stylesheets
        one_pack()
        separate: list[tuple[float, float]] = []
        packed: list[tuple[float, float]] = []
        for run in range(args.runs):
            order = [(handouts, separate), (one_pack, packed)]
            for work, into in order if run % 2 == 0 else reversed(order):
                into.append(timed(work))
        pages = pack.pack_task(pack.PackJob(tuple(found), wanted, context, out / "pack.pdf")).pages

    wall_h = statistics.median(w for w, _ in separate)
    wall_p = statistics.median(w for w, _ in packed)
    cpu_h = statistics.median(c for _, c in separate)
    cpu_p = statistics.median(c for _, c in packed)
    ratio = wall_p / wall_h
    print()
    print_table(
        ["", "wall s (median)", "CPU s (median)"],
        [
            ["5 handouts, one after another", f"{wall_h:.2f}", f"{cpu_h:.2f}"],
            [f"the 5-medicine pack ({pages} pages)", f"{wall_p:.2f}", f"{cpu_p:.2f}"],
            ["pack / handouts", f"{ratio:.2f}", f"{cpu_p / cpu_h:.2f}"],
        ],
    )
    print(f"\ngoal: pack <= {GOAL} x handouts (wall): {verdict(ratio <= GOAL)}")
    sys.exit(0 if ratio <= GOAL else 1)


if __name__ == "__main__":
    main()
