"""A burst of parallel password guesses against ``medpdf serve``, and a logged-in nurse meanwhile.

One station (``python -m medpdf serve --port 0 -j 1``, a users file with a nurse
and a victim, a few fixture monographs) runs on loopback. The nurse logs in
first. Then, per round, ``--guesses`` wrong passwords for the victim are sent at
once from one address, the right one last, while the nurse opens a drug page;
a second kind of round sends the same number of guesses for *different* names
(each checked: the password-check semaphore is what bounds them).

Printed per round: the answers (401 checked, 429 refused unchecked, 503 busy,
303 logged in), the wall time of the burst, the nurse's page latency during it
against the same page with no burst (the baseline, measured in the same run),
and the station's peak memory (RSS of the server and its workers, polled every
0.2 s by ``_common.TreeSampler``). The issue's goal: no login past the limit,
and the nurse's page under 2 s during the burst.

Usage (from the repository root)::

    .venv/bin/python benchmarks/login_burst.py
    .venv/bin/python benchmarks/login_burst.py --guesses 200 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from _common import TreeSampler, positive_int, scratch_folder

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from medpdf import accounts  # noqa: E402

NURSE, VICTIM = "nurse", "victim"
PASSWORD = "the nurse's own password"
VICTIM_PASSWORD = "the victim's own password"
FIXTURE = """---
layout: minimal-medicine
title: {title}
---

# {title}
### Generic Name
{title}

### Usage
{title} treats an imaginary condition.
"""


def start(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    content = folder / "content"
    content.mkdir()
    for title in ("Ibuprofen", "Zolpidem", "Alendronate"):
        (content / f"{title.lower()}.md").write_text(FIXTURE.format(title=title))
    users = folder / "users.json"
    accounts.save(
        users,
        {
            NURSE: accounts.Account(NURSE, "print", accounts.hash_password(PASSWORD)),
            VICTIM: accounts.Account(VICTIM, "print", accounts.hash_password(VICTIM_PASSWORD)),
        },
    )
    log = folder / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CONFIG_HOME": str(folder / "config")}
    argv = [sys.executable, "-m", "medpdf", "serve", "--content", str(content)]
    argv += ["--output", str(folder / "output"), "--port", "0", "-j", "1"]
    argv += ["--users-file", str(users)]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stderr=sink, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(r"serving (http://\S+/) ", text)
        if found and "ready:" in text:
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"medpdf serve did not start:\n{log.read_text(errors='replace')}")


async def page_time(client: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    response = await client.get("/drug/ibuprofen")
    assert response.status_code == 200, response.status_code
    return time.perf_counter() - started


@dataclass(frozen=True)
class Burst:
    """One burst's answers and times."""

    statuses: list[int]
    wall: float
    #: The nurse's page, median of five with no burst, and once during the burst.
    baseline: float
    during: float


async def burst(url: str, cookies: httpx.Cookies, guesses: int, same_name: bool) -> Burst:
    origin = {"origin": url.rstrip("/")}
    limits = httpx.Limits(max_connections=guesses + 2)
    async with (
        httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as guesser,
        httpx.AsyncClient(base_url=url, timeout=300, cookies=cookies) as nurse,
    ):
        baseline = statistics.median([await page_time(nurse) for _ in range(5)])

        async def guess(number: int) -> int:
            last = number == guesses - 1
            name = VICTIM if same_name or last else f"made-up-{number}"
            password = VICTIM_PASSWORD if last else f"guess {number}"
            form = {"name": name, "password": password}
            return (await guesser.post("/login", data=form, headers=origin)).status_code

        started = time.perf_counter()
        tasks = [asyncio.ensure_future(guess(n)) for n in range(guesses)]
        during = await page_time(nurse)
        statuses = await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    return Burst(list(statuses), wall, baseline, during)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guesses", type=positive_int, default=80)
    parser.add_argument("--rounds", type=positive_int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the scratch folder here")
    args = parser.parse_args()
    with scratch_folder(args.keep, "medpdf-login-burst-") as folder:
        process, url = start(folder)
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                form = {"name": NURSE, "password": PASSWORD}
                done = client.post("/login", data=form, headers={"origin": url.rstrip("/")})
                assert done.status_code == 303, done.status_code
                cookies = client.cookies
            print(f"station {url}, {args.guesses} guesses per burst, the right password last")
            print(
                f"{'burst':<22} {'401':>4} {'429':>4} {'503':>4} {'303':>4} "
                f"{'wall s':>7} {'page s':>7} {'no burst s':>10} {'ratio':>6} {'peak MiB':>9}"
            )
            for round_number in range(args.rounds):
                for same_name in (True, False):
                    with TreeSampler(process.pid) as sampler:
                        found = asyncio.run(burst(url, cookies, args.guesses, same_name))
                    statuses = found.statuses
                    kind = "one name" if same_name else "different names"
                    print(
                        f"{kind + f' #{round_number + 1}':<22} {statuses.count(401):>4} "
                        f"{statuses.count(429):>4} {statuses.count(503):>4} "
                        f"{statuses.count(303):>4} {found.wall:>7.2f} {found.during:>7.2f} "
                        f"{found.baseline:>10.3f} {found.during / found.baseline:>6.1f} "
                        f"{sampler.peak_bytes / 2**20:>9.0f}"
                    )
                    # The throttle remembers earlier rounds (the address's count grows
                    # with every checked guess): later rounds meet its refusals.
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
