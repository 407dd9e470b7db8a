"""A 5-medicine pack at the printing station: p50 and p90, uncached and cached.

Issue 12 asks for the station's latency of ``GET /pack.pdf`` for the same
five medicines as benchmarks/pack.py. A real ``medpdf serve`` (``-j`` workers)
serves a copy of those five monographs; one client asks one request at a
time. "Uncached" requests each change one medicine's note, so each is a new
pack rendered in a worker; "cached" requests repeat one pack that is already
on the station's shelf. Latency is nearest-rank percentiles of wall time per
request, measured in this process.

Usage (from the repository root)::

    .venv/bin/python benchmarks/station_pack.py --uncached 6 --cached 30
"""

from __future__ import annotations

import argparse
import io
import math
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pypdf
from _common import (
    DEFAULT_CORPUS,
    BenchmarkError,
    medpdf_argv,
    positive_int,
    print_environment,
    print_table,
    require_corpus,
    scratch_folder,
)
from serve import start_server, stop_server

MEDICINES = ("metformin", "aspirin", "clopidogrel", "atorvastatin", "omeprazole")
TIMEOUT = 300.0
#: Page counts of the packs received (one value: every pack was whole).
PAGES: set[int] = set()


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def pack_params(note: str) -> list[tuple[str, str]]:
    params = [("m", name) for name in MEDICINES]
    params += [("take", "metformin=morning,evening"), ("take", "atorvastatin=bedtime")]
    return [*params, ("note", f"metformin={note}")]


def timed_get(
    client: httpx.Client, params: Sequence[tuple[str, str | int | float | bool | None]]
) -> float:
    started = time.perf_counter()
    response = client.get("/pack.pdf", params=tuple(params))
    seconds = time.perf_counter() - started
    if response.status_code != 200 or not response.content.startswith(b"%PDF-"):
        raise BenchmarkError(f"/pack.pdf answered {response.status_code}: {response.text[:200]}")
    PAGES.add(len(pypdf.PdfReader(io.BytesIO(response.content)).pages))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--uncached", type=positive_int, default=6)
    parser.add_argument("--cached", type=positive_int, default=30)
    parser.add_argument("--jobs", type=positive_int, default=1)
    args = parser.parse_args()
    corpus = require_corpus(args.corpus, "station_pack.py")
    print_environment(corpus, [("medicines", ", ".join(MEDICINES)), ("workers", str(args.jobs))])
    with scratch_folder(None, "medpdf-bench-station-pack-") as scratch:
        content = scratch / "content"
        for name in MEDICINES:
            target = content / name[0] / f"{name}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(next(corpus.glob(f"*/{name}.md")).read_bytes())
        argv = medpdf_argv(
            "serve", "--content", str(content), "--output", str(scratch / "output"),
            "--host", "127.0.0.1", "--port", "0", "-j", str(args.jobs),
        )  # fmt: skip
        server = start_server("station", argv, scratch, scratch / "serve.log")
        try:
            with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
                timed_get(client, pack_params("warm-up"))  # worker start, fonts, stylesheets
                runs = range(args.uncached)
                uncached = [timed_get(client, pack_params(f"run {n}")) for n in runs]
                cached = [timed_get(client, pack_params("run 0")) for _ in range(args.cached)]
        finally:
            stop_server(server)
    rows = [
        (label, str(len(v)), f"{percentile(v, 0.5):.3f}", f"{percentile(v, 0.9):.3f}")
        for label, v in (("uncached", uncached), ("cached", cached))
    ]
    print_table(("5-medicine pack", "requests", "p50 s", "p90 s"), rows)
    print(f"pages per pack: {', '.join(map(str, sorted(PAGES)))}")


if __name__ == "__main__":
    main()
