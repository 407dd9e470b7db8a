"""Load test of ``medpdf serve`` against a naive in-process server, under the same load.

Two servers are measured in one run, one after the other, each a subprocess on
loopback started on a free port (medpdf serve with a fresh temporary output folder):

* **medpdf serve** (``python -m medpdf serve --port 0``): handouts rendered in
  worker processes, kept on disk, concurrent renders bounded (503 beyond a queue);
* **naive**: a Starlette app defined in this file (``--naive-server``, run with
  uvicorn) whose PDF route calls ``medpdf.pdf.typeset.render`` inside the request:
  WeasyPrint in the server process, on Starlette's default thread pool (40
  threads), no cache, no other bound. Its drug page and ``/drugs.json`` are small
  HTML/JSON answers built from the collection loaded at start-up.

Each server gets ``--clients`` concurrent clients in this process (asyncio, one
``httpx.AsyncClient`` and one keep-alive connection each) working through a fixed
list of requests, in three phases:

a. **uncached PDFs**: ``--requests`` handout URLs, every one a drug/option
   combination (paper, large print, patient fields) not requested before;
b. **cached PDFs**: the same URLs again. Any URL of phase a that did not end in a
   PDF is fetched again first (not measured, few clients, patient), so that every
   URL of phase b is one the server has made before;
c. **HTML**: ``--html-requests`` requests alternating a drug page
   (``/drug/<slug>``) and ``/drugs.json``.

A client that gets 503 waits the answer's Retry-After and asks again, up to
``--retries`` times (``--retries 0``: the 503 is final), as a person at the
printing station would; its latency runs from the first attempt to the last
byte of the final answer. Before phase a, ``--warm-up`` PDFs of combinations
outside the measured list are fetched (not measured), so neither server is timed
importing WeasyPrint or starting its workers.

Per phase the table gives requests, good answers 200 (for a PDF: a body starting
with ``%PDF-``), requests that did not end in one, 503 answers received,
throughput (good answers per second of wall time), latency of the good answers
(p50/p90/p99/max, nearest rank), the peak memory of the server -- the largest
sum of RSS over the server process and all its descendants, polled from /proc
every ``--poll-ms`` by ``_common.TreeSampler`` (a peak between two polls can be
missed) -- and the CPU time the load generator used: it shares the machine, and
for the HTML phase it can be the bottleneck rather than the server. After the
phases each server is sent SIGTERM; the time it took to exit and any of its
processes still alive half a second later are reported (and killed).

Usage (from the repository root; figures are only fair on a quiet machine)::

    .venv/bin/python benchmarks/serve.py                     # 60 corpus monographs, ~4 min
    .venv/bin/python benchmarks/serve.py --clients 20 --requests 100 --html-requests 400
    .venv/bin/python benchmarks/serve.py --content content --skip-baseline --retries 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from urllib.parse import urlencode

import httpx
from _common import (
    DEFAULT_CORPUS,
    REPO,
    BenchmarkError,
    TreeSampler,
    copy_sample,
    corpus_files,
    even_sample,
    last_lines,
    medpdf_argv,
    positive_int,
    print_environment,
    print_table,
    scratch_folder,
    tree_pids,
    tree_rss,
)

SCRIPT = "serve.py"
SERVING = re.compile(r"serving (http://\S+?/)")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def _options(large_print: bool, patient_fields: bool, paper: str) -> dict[str, str]:
    options = {"paper": paper}
    if large_print:
        options["large_print"] = "1"
    if patient_fields:
        options["patient_fields"] = "1"
    return options


#: Every option combination a handout URL can carry, A4 without extras first.
OPTION_SETS: tuple[dict[str, str], ...] = tuple(
    _options(large, fields, paper)
    for large, fields, paper in product((False, True), (False, True), ("a4", "letter"))
)


# --- servers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    """A server subprocess and the URL it reported."""

    label: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path


@dataclass(frozen=True)
class Stopped:
    """How a server ended after SIGTERM."""

    seconds: float
    returncode: int
    left_behind: int


def repo_env() -> dict[str, str]:
    """This environment with the repository first on PYTHONPATH (servers run this checkout)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def start_server(label: str, argv: Sequence[str], cwd: Path, log: Path) -> Running:
    """Start ``argv`` with stdout and stderr to ``log``; wait for its ``serving URL`` line."""
    with log.open("wb") as sink:
        process = subprocess.Popen(list(argv), cwd=cwd, env=repo_env(), stdout=sink, stderr=sink)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = SERVING.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return Running(label, process, found.group(1), log)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    text = log.read_text(encoding="utf-8", errors="replace")
    stop_server(Running(label, process, "", log))
    raise BenchmarkError(
        f"{label} did not report `serving http://...` within {START_TIMEOUT:.0f} s "
        f"(exit {process.poll()}): {last_lines(text)}"
    )


def stop_server(server: Running) -> Stopped:
    """SIGTERM, wait up to STOP_TIMEOUT (then SIGKILL); count its processes still alive."""
    pids = tree_pids(server.process.pid)
    started = time.perf_counter()
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    seconds = time.perf_counter() - started
    time.sleep(0.5)  # let orphaned workers notice their parent is gone
    alive = [pid for pid in pids[1:] if _alive(pid)]
    for pid in alive:  # never leave load behind on the machine
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return Stopped(seconds, server.process.returncode, len(alive))


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:  # noqa: PTH123
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


# --- load ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    """How the load is made: how many clients, how long they wait, whether they retry 503s."""

    count: int
    timeout: float
    #: Times a client asks again after a 503, waiting Retry-After; 0: take the 503 as final.
    retries: int
    #: One session cookie (name, value) per client, when the station has accounts.
    cookies: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """One request: the last HTTP status (0: no answer), 503s on the way, seconds in all."""

    path: str
    status: int
    busy: int
    seconds: float
    ok: bool
    problem: str = ""


@dataclass(frozen=True)
class Phase:
    """One phase against one server: every outcome, wall time and the server's peak memory."""

    server: str
    name: str
    outcomes: tuple[Outcome, ...]
    seconds: float
    client_cpu: float
    peak_bytes: int
    peak_processes: int

    @property
    def ok(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def busy(self) -> int:
        """503 answers received (several per request when clients retry)."""
        return sum(o.busy for o in self.outcomes)

    @property
    def failed(self) -> int:
        """Requests that did not end in a good answer 200."""
        return len(self.outcomes) - self.ok

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20

    def latency(self, fraction: float) -> float | None:
        """Nearest-rank percentile of the successful requests' latency, in seconds."""
        values = sorted(o.seconds for o in self.outcomes if o.ok)
        if not values:
            return None
        rank = math.ceil(round(fraction * len(values), 9))
        return values[min(max(rank, 1), len(values)) - 1]

    def problems(self) -> list[str]:
        """The distinct failure descriptions with their counts, most frequent first."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if not outcome.ok:
                counts[outcome.problem] = counts.get(outcome.problem, 0) + 1
        return [f"{n}x {text}" for text, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def check_answer(path: str, response: httpx.Response) -> str:
    """Empty when the answer is what ``path`` asks for, else what is wrong with it."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    kind = response.headers.get("content-type", "")
    if ".pdf" in path.split("?", 1)[0]:
        if not kind.startswith("application/pdf") or not response.content.startswith(b"%PDF-"):
            return f"not a PDF ({kind or 'no content type'})"
    elif path.endswith(".json"):
        if not kind.startswith("application/json"):
            return f"not JSON ({kind or 'no content type'})"
    elif not kind.startswith("text/html"):
        return f"not HTML ({kind or 'no content type'})"
    return ""


def retry_after(response: httpx.Response) -> float:
    """Seconds a 503 asks the client to wait (1 when it does not say; at most 30)."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.0), 30.0)
    except ValueError:
        return 1.0


async def _get(client: httpx.AsyncClient, path: str, retries: int) -> Outcome:
    """One request as a client sees it, retrying 503s after their Retry-After."""
    started = time.perf_counter()
    busy = 0
    while True:
        try:
            response = await client.get(path)
        except httpx.HTTPError as exc:
            return Outcome(path, 0, busy, time.perf_counter() - started, False, type(exc).__name__)
        if response.status_code == 503:
            busy += 1
            if busy <= retries:
                await asyncio.sleep(retry_after(response))
                continue
        problem = check_answer(path, response)
        seconds = time.perf_counter() - started
        return Outcome(path, response.status_code, busy, seconds, not problem, problem)


async def _fetch_all(base: str, paths: Sequence[str], clients: Clients) -> list[Outcome]:
    """Fetch every path with ``clients.count`` concurrent clients, one connection each.

    One ``httpx.AsyncClient`` per client: a single client with a pool of 50
    connections spends several milliseconds of CPU per request finding one.
    """
    todo = iter(paths)
    outcomes: list[Outcome] = []

    async def client_loop(index: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        cookies = dict(clients.cookies[index : index + 1])
        async with httpx.AsyncClient(
            base_url=base, limits=limits, timeout=clients.timeout, cookies=cookies
        ) as c:
            for path in todo:
                outcomes.append(await _get(c, path, clients.retries))

    await asyncio.gather(*(client_loop(i) for i in range(clients.count)))
    return outcomes


#: The account ``--login`` runs make for the load's clients.
BENCH_USER = ("bench", "benchmark password")


def make_users(scratch: Path) -> Path:
    """A throwaway users file with :data:`BENCH_USER` (print role)."""
    from medpdf import accounts

    path = scratch / "users.json"
    name, password = BENCH_USER
    accounts.save(path, {name: accounts.Account(name, "print", accounts.hash_password(password))})
    return path


def log_in(base: str, count: int) -> tuple[tuple[str, str], ...]:
    """One session per client (logging in is not part of any phase)."""
    cookies = []
    origin = {"origin": base.rstrip("/")}
    for _ in range(count):
        name, password = BENCH_USER
        answer = httpx.post(
            base + "login", data={"name": name, "password": password}, headers=origin, timeout=60
        )
        value = answer.cookies.get("medpdf-session")
        if answer.status_code != 303 or not value:
            raise BenchmarkError(f"POST /login answered {answer.status_code}, no session")
        cookies.append(("medpdf-session", value))
    return tuple(cookies)


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (the load generator)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_phase(
    server: Running, name: str, paths: Sequence[str], clients: Clients, poll: float
) -> Phase:
    """One phase: every path fetched, the server's process tree sampled meanwhile."""
    started, cpu = time.perf_counter(), _cpu_seconds()
    with TreeSampler(server.process.pid, poll) as sampler:
        outcomes = asyncio.run(_fetch_all(server.url, paths, clients))
    seconds = time.perf_counter() - started
    phase = Phase(
        server.label,
        name,
        tuple(outcomes),
        seconds,
        _cpu_seconds() - cpu,
        sampler.peak_bytes,
        sampler.peak_processes,
    )
    print(
        f"  {server.label}, {name}: {phase.ok} ok, {phase.failed} not, {phase.busy} answers "
        f"503 in {seconds:.1f} s; peak {phase.peak_mib:.0f} MiB",
        flush=True,
    )
    for line in phase.problems()[:5]:
        print(f"    {line}")
    return phase


def fill(server: Running, phase: Phase, clients: Clients) -> None:
    """Fetch (not measured) the paths a phase did not get, so the next phase finds them cached."""
    missing = [outcome.path for outcome in phase.outcomes if not outcome.ok]
    if not missing:
        return
    started = time.perf_counter()
    patient = Clients(min(clients.count, 4), clients.timeout, retries=100)
    got = sum(o.ok for o in asyncio.run(_fetch_all(server.url, missing, patient)))
    print(
        f"  {server.label}: {got} of the {len(missing)} PDFs not received fetched again "
        f"(not measured, {patient.count} clients retrying 503s) in "
        f"{time.perf_counter() - started:.1f} s so that the next phase finds them cached",
        flush=True,
    )


def pdf_paths(slugs: Sequence[str]) -> list[str]:
    """Every distinct handout URL: each drug with A4, then each with Letter, and so on."""
    return [f"/drug/{slug}.pdf?{urlencode(options)}" for options in OPTION_SETS for slug in slugs]


def html_paths(slugs: Sequence[str], count: int) -> list[str]:
    """``count`` requests alternating a drug page and ``/drugs.json``."""
    return [
        f"/drug/{slugs[i // 2 % len(slugs)]}" if i % 2 == 0 else "/drugs.json" for i in range(count)
    ]


def drug_slugs(server: Running, login: bool = False) -> list[str]:
    """The slugs the server lists in ``/drugs.json``, sorted."""
    cookies = dict(log_in(server.url, 1)) if login else None
    response = httpx.get(server.url + "drugs.json", timeout=30, cookies=cookies)
    if response.status_code != 200:
        raise BenchmarkError(f"{server.label}: GET /drugs.json answered {response.status_code}")
    return sorted(str(item["slug"]) for item in response.json())


# --- the naive server ----------------------------------------------------------------------


def naive_server(content: Path, host: str) -> None:
    """Serve ``content`` the naive way until SIGTERM; print ``serving URL`` once listening."""
    import html

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    from medpdf.content import collection
    from medpdf.html import templating
    from medpdf.pdf import typeset
    from medpdf.settings import config

    found = {m.slug: m for m in collection.scan(content).monographs}

    def page(title: str, body: str, status: int = 200) -> HTMLResponse:
        text = f"<!doctype html><title>{html.escape(title)}</title>{body}"
        return HTMLResponse(text, status_code=status)

    async def drugs(request: Request) -> JSONResponse:
        return JSONResponse([{"slug": slug, "title": m.title} for slug, m in found.items()])

    async def drug(request: Request) -> HTMLResponse:
        monograph = found.get(request.path_params["slug"])
        if monograph is None:
            return page("Not found", "<h1>Not found</h1>", 404)
        title = html.escape(monograph.title)
        link = f'<a href="/drug/{monograph.slug}.pdf?paper=a4">PDF</a>'
        return page(monograph.title, f"<h1>{title}</h1>{link}")

    def handout(request: Request) -> Response:  # sync: Starlette runs it on its thread pool
        monograph = found.get(request.path_params["slug"])
        if monograph is None:
            return page("Not found", "<h1>Not found</h1>", 404)
        query = request.query_params
        settings = config.make(
            content_dir=content,
            paper=query.get("paper", "a4"),
            large_print=query.get("large_print") == "1",
            patient_fields=query.get("patient_fields") == "1",
        )
        html_text = templating.monograph_html(monograph, settings)
        result = typeset.render(html_text, settings.resources)
        return Response(result.data, media_type="application/pdf")

    app = Starlette(
        routes=[
            Route("/drugs.json", drugs),
            Route("/drug/{slug}.pdf", handout),
            Route("/drug/{slug}", drug),
        ]
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    print(f"naive: serving http://{host}:{port}/", file=sys.stderr, flush=True)
    server.run(sockets=[listener])


# --- report --------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator <= 0:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


def print_results(phases: Sequence[Phase]) -> None:
    """The Markdown table of every phase of every server."""
    print()
    print("results (not 200: requests that did not end in a good answer; 503s: busy answers")
    print("received, retried after Retry-After unless --retries 0; latency of the answers 200 in")
    print("ms, retries included; peak MiB: largest summed RSS of the server's process tree during")
    print("the phase; procs: most processes in that tree at once; client CPU: seconds of CPU the")
    print("load generator itself used, on the same machine)")
    print()
    rows = [
        [
            f"{phase.server}: {phase.name}",
            str(len(phase.outcomes)),
            str(phase.ok),
            str(phase.failed),
            str(phase.busy),
            f"{phase.seconds:.2f}",
            f"{phase.per_second:.1f}",
            _ms(phase.latency(0.50)),
            _ms(phase.latency(0.90)),
            _ms(phase.latency(0.99)),
            _ms(phase.latency(1.0)),
            f"{phase.peak_mib:.0f}",
            str(phase.peak_processes),
            f"{phase.client_cpu:.1f}",
        ]
        for phase in phases
    ]
    headers = ["server: phase", "requests", "200", "not 200", "503s", "wall s", "ok/s"]
    headers += ["p50", "p90", "p99", "max", "peak MiB", "procs", "client CPU"]
    print_table(headers, rows, markdown=True)


def print_ratios(medpdf: Sequence[Phase], naive: Sequence[Phase]) -> None:
    """Per phase, what medpdf serve buys over the naive server (> 1x: medpdf is better)."""
    print()
    print("ratios, naive / medpdf serve (> 1.00x: medpdf serve is better; throughput is")
    print("medpdf / naive)")
    print()
    rows = []
    for ours, theirs in zip(medpdf, naive, strict=True):
        rows.append(
            [
                ours.name,
                _ratio(ours.per_second, theirs.per_second),
                _ratio(theirs.latency(0.50), ours.latency(0.50)),
                _ratio(theirs.latency(0.99), ours.latency(0.99)),
                _ratio(theirs.latency(1.0), ours.latency(1.0)),
                _ratio(theirs.peak_bytes, ours.peak_bytes),
            ]
        )
    rows.append(
        [
            "whole run",
            "",
            "",
            "",
            "",
            _ratio(max(p.peak_bytes for p in naive), max(p.peak_bytes for p in medpdf)),
        ]
    )
    print_table(
        ["phase", "throughput", "p50 latency", "p99 latency", "max latency", "peak memory"],
        rows,
        markdown=True,
    )


# --- main ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What every server is asked, the same for each."""

    pdfs: tuple[str, ...]
    warm_up: tuple[str, ...]
    html: tuple[str, ...]
    clients: Clients
    poll: float


def measure(server: Running, load: Load, login: bool = False) -> list[Phase]:
    """Warm ``server`` up, run the three phases against it, stop it.

    ``login``: each client logs in first and sends its session cookie with every request.
    """
    try:
        if login:
            cookies = log_in(server.url, load.clients.count)
            load = dataclasses.replace(
                load, clients=dataclasses.replace(load.clients, cookies=cookies)
            )
        idle, _ = tree_rss(server.process.pid)
        started = time.perf_counter()
        patient = dataclasses.replace(load.clients, retries=max(load.clients.retries, 100))
        warm = asyncio.run(_fetch_all(server.url, load.warm_up, patient))
        warm_ok = sum(o.ok for o in warm)
        warmed, processes = tree_rss(server.process.pid)
        print(
            f"  {server.label}: {server.url}, {idle / 2**20:.0f} MiB at start; warm-up "
            f"{warm_ok}/{len(warm)} PDFs ok in {time.perf_counter() - started:.1f} s, then "
            f"{warmed / 2**20:.0f} MiB in {processes} processes",
            flush=True,
        )
        uncached = run_phase(server, "uncached PDFs", load.pdfs, load.clients, load.poll)
        fill(server, uncached, load.clients)
        phases = [
            uncached,
            run_phase(server, "cached PDFs", load.pdfs, load.clients, load.poll),
            run_phase(server, "HTML pages", load.html, load.clients, load.poll),
        ]
    finally:
        stopped = stop_server(server)
        print(
            f"  {server.label}: SIGTERM -> exit {stopped.returncode} in {stopped.seconds:.1f} s, "
            f"{stopped.left_behind} of its processes left behind",
            flush=True,
        )
    return phases


def health(url: str) -> dict[str, object]:
    """``GET /health`` as JSON."""
    response = httpx.get(url + "health", timeout=30)
    if response.status_code != 200:
        raise BenchmarkError(f"GET /health answered {response.status_code}")
    found = response.json()
    if not isinstance(found, dict):
        raise BenchmarkError(f"GET /health is not a JSON object: {json.dumps(found)[:200]}")
    return found


def prepare_content(args: argparse.Namespace, scratch: Path) -> tuple[Path, str]:
    """The content folder to serve and a description of it."""
    if args.content is not None:
        return args.content.resolve(), f"{args.content} (as given)"
    corpus = args.corpus
    if corpus.is_dir():
        files = corpus_files(corpus.resolve())
        chosen = even_sample(files, args.sample)
        content = scratch / "content"
        copy_sample(chosen, corpus.resolve(), content)
        return content, f"{len(chosen)} of the {len(files)} monographs of {corpus}, evenly spaced"
    return REPO / "content", f"the repository's content/ ({corpus} not found)"


@contextlib.contextmanager
def _interrupts_as_errors() -> Iterator[None]:
    """SIGTERM to this script ends it like Ctrl+C, so servers are stopped on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="medpdf serve under concurrent load (uncached PDFs, cached PDFs, HTML) "
        "vs a naive in-process server; see the module docstring for what is measured."
    )
    parser.add_argument(
        "--content",
        type=Path,
        default=None,
        metavar="DIR",
        help="monographs to serve (default: a sample of --corpus, else the repository's content/)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"collection to sample when --content is not given (default {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--sample",
        type=positive_int,
        default=60,
        metavar="N",
        help="monographs copied from the corpus, evenly spaced (default 60)",
    )
    parser.add_argument(
        "--clients",
        type=positive_int,
        default=50,
        help="concurrent clients (default 50)",
    )
    parser.add_argument(
        "--requests",
        type=positive_int,
        default=200,
        metavar="N",
        help="PDF requests in each of the uncached and cached phases (default 200; at most "
        f"{len(OPTION_SETS)} per monograph, less the warm-up)",
    )
    parser.add_argument(
        "--html-requests",
        type=positive_int,
        default=1000,
        metavar="N",
        help="requests in the HTML phase (default 1000)",
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=4,
        metavar="N",
        help="PDFs fetched before the phases, not measured (default 4)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        help="passed to medpdf serve -j (default: medpdf's own)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=20,
        metavar="N",
        help="times a client asks again after a 503, waiting its Retry-After (default 20; "
        "0: a 503 is final)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds one request may take before it counts as failed (default 300)",
    )
    parser.add_argument(
        "--poll-ms",
        type=positive_int,
        default=50,
        metavar="MS",
        help="memory sampling interval in milliseconds (default 50)",
    )
    parser.add_argument(
        "--login",
        action="store_true",
        help="run medpdf serve with accounts (a throwaway users file); each client logs in "
        "once before the phases and sends its session with every request",
    )
    parser.add_argument(
        "--skip-baseline",
        action="store_true",
        help="measure medpdf serve only",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="work in DIR (created; must be empty) and leave everything there (logs, cache)",
    )
    parser.add_argument("--naive-server", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warm_up < 0:
        parser.error("--warm-up must not be negative")
    if args.retries < 0:
        parser.error("--retries must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when it ran to the end, 1 on error."""
    args = parse_args(argv)
    if args.naive_server is not None:
        naive_server(args.naive_server, "127.0.0.1")
        return 0
    try:
        with _interrupts_as_errors(), scratch_folder(args.keep, "medpdf-bench-serve-") as scratch:
            return run(args, scratch)
    except BenchmarkError as exc:
        print(f"{SCRIPT}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{SCRIPT}: interrupted; servers stopped", file=sys.stderr)
        return 130


def plan(args: argparse.Namespace, slugs: Sequence[str]) -> Load:
    """The requests every server gets, from the drugs medpdf serve lists."""
    every = pdf_paths(slugs)
    warm_up = min(args.warm_up, len(every) - 1)
    pdfs = every[warm_up : warm_up + args.requests]
    if len(pdfs) < args.requests:
        print(
            f"  only {len(every)} distinct handout URLs ({len(slugs)} monographs x "
            f"{len(OPTION_SETS)} option sets), {warm_up} of them for the warm-up: "
            f"{len(pdfs)} PDF requests per phase instead of {args.requests}"
        )
    return Load(
        pdfs=tuple(pdfs),
        warm_up=tuple(every[:warm_up]),
        html=tuple(html_paths(slugs, args.html_requests)),
        clients=Clients(args.clients, args.timeout, args.retries),
        poll=args.poll_ms / 1000,
    )


def run(args: argparse.Namespace, scratch: Path) -> int:
    """Everything but option parsing, in the scratch folder."""
    content, described = prepare_content(args, scratch)
    serve_argv = ["serve", "--content", str(content), "--output", str(scratch / "output")]
    serve_argv += ["--host", "127.0.0.1", "--port", "0"]
    if args.jobs is not None:
        serve_argv += ["-j", str(args.jobs)]
    if args.login:
        serve_argv += ["--users-file", str(make_users(scratch))]
    print_environment(
        content,
        [
            ("content", described),
            ("clients", str(args.clients)),
            ("medpdf serve -j", str(args.jobs) if args.jobs else "medpdf's default"),
            ("memory poll", f"every {args.poll_ms} ms for the servers"),
            ("login", "on (a session per client)" if args.login else "off"),
        ],
    )
    print()
    print("running", flush=True)
    medpdf = start_server("medpdf serve", medpdf_argv(*serve_argv), scratch, scratch / "serve.log")
    try:
        slugs = drug_slugs(medpdf, login=args.login)
        if not slugs:
            raise BenchmarkError(f"medpdf serve lists no monographs in {content}")
        print(f"  /health: {json.dumps(health(medpdf.url))}; {len(slugs)} drugs in /drugs.json")
        load = plan(args, slugs)
    except BaseException:
        stop_server(medpdf)
        raise
    print(
        f"  load: {len(load.pdfs)} PDF URLs (uncached, then the same cached), "
        f"{len(load.html)} HTML/JSON requests, {load.clients.count} clients, "
        f"{len(load.warm_up)} warm-up PDFs",
        flush=True,
    )
    ours = measure(medpdf, load, login=args.login)
    phases = list(ours)
    theirs: list[Phase] = []
    if not args.skip_baseline:
        naive_argv = [sys.executable, str(Path(__file__).resolve()), "--naive-server", str(content)]
        naive = start_server("naive", naive_argv, scratch, scratch / "naive.log")
        theirs = measure(naive, load)
        phases += theirs
    print_results(phases)
    if theirs:
        print_ratios(ours, theirs)
    if args.keep is not None:
        print(f"\noutputs and server logs kept in {scratch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
