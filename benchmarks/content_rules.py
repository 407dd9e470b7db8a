"""What the content rules add to ``check``: their CPU time per monograph against parsing's.

``check`` parses every monograph (``model.build``) and then applies the content rules
of its language (``content_rules.check``). Both are timed here on the same monographs
in this process, best of ``--runs`` passes each (CPU time, so other load on the machine
weighs less), and the rules' cost is printed as a share of the parse.

Goal: the rules cost at most half of what parsing the same monographs costs.

Usage (from the repository root)::

    .venv/bin/python benchmarks/content_rules.py --count 1500 --runs 5
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from _common import (
    DEFAULT_CORPUS,
    corpus_files,
    even_sample,
    positive_int,
    print_environment,
    print_table,
    require_corpus,
    verdict,
)

from medpdf.content import content_rules, model, sources

GOAL = 0.5


def best_cpu(work: Callable[[], object], runs: int) -> float:
    """The shortest CPU time of ``runs`` calls of ``work``."""
    found = []
    for _ in range(runs):
        started = time.process_time()
        work()
        found.append(time.process_time() - started)
    return min(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--count", type=positive_int, default=1500)
    parser.add_argument("--runs", type=positive_int, default=5)
    args = parser.parse_args()
    corpus = require_corpus(args.corpus, "content_rules.py")
    print_environment(corpus)
    read = [sources.read(path) for path in even_sample(corpus_files(corpus), args.count)]
    parsed = [(source, model.build(source)) for source in read]
    parse = best_cpu(lambda: [model.build(source) for source in read], args.runs)
    rules = best_cpu(
        lambda: [content_rules.check(s, m, m.lang or "en") for s, m in parsed], args.runs
    )
    per = 1000 / len(parsed)
    ratio = rules / parse
    print_table(
        ["step", "CPU ms per monograph", "share of the parse"],
        [
            ["parse (model.build)", f"{parse * per:.3f}", "1.00"],
            ["content rules", f"{rules * per:.3f}", f"{ratio:.2f}"],
        ],
    )
    print(f"goal: content rules at most {GOAL:.1f} x the parse: {verdict(ratio <= GOAL)}")


if __name__ == "__main__":
    main()
