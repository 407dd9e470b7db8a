"""The station as an attacker on the network would meet it: real sockets, real `medpdf serve`.

Each server here is the real command in its own process, with one render worker;
the sockets are plain TCP (or TLS) sockets that send what a slow, broken or
hostile client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from test_server import make_content
from waiting import PATIENCE

from medpdf.station.throttle import LOCK_SECONDS

pytestmark = pytest.mark.slow

SERVE = [sys.executable, "-m", "medpdf", "-v", "serve"]
USERS = [sys.executable, "-m", "medpdf", "users"]
PASSWORD = "correct horse battery"


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        match = re.match(r"https?://([\d.]+):(\d+)/", self.url)
        assert match, self.url
        return match.group(1), int(match.group(2))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, pattern: str, count: int = 1, seconds: float = PATIENCE) -> None:
        deadline = time.monotonic() + seconds
        while len(re.findall(pattern, self.text())) < count:
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, f"{pattern!r} x{count} not in log:\n{self.text()}"
            time.sleep(0.05)


def environment(tmp: Path) -> dict[str, str]:
    # Accounts live under XDG_CONFIG_HOME by default: never the real home's.
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp / "config")}


@contextlib.contextmanager
def station(tmp: Path, *args: str) -> Iterator[Running]:
    content = tmp / "content"
    if not content.exists():
        make_content(content)
    log = tmp / f"serve-{len(list(tmp.glob('serve-*.log')))}.log"
    output = str(tmp / "output")
    command = [*SERVE, "--content", str(content), "--output", output, *args, "--port", "0"]
    command += ["-j", "1"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stderr=sink,
            env=environment(tmp),
        )
    running = Running(process, "", log)
    try:
        running.wait_for_log(r"medpdf: ready: ")
        match = re.search(r"serving (https?://\S+/) ", running.text())
        assert match, running.text()
        running.url = match.group(1).replace("0.0.0.0", "127.0.0.1")
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def connect(address: tuple[str, int], payload: bytes = b"") -> socket.socket:
    sock = socket.create_connection(address, timeout=PATIENCE)
    if payload:
        sock.sendall(payload)
    return sock


def wait_closed(socks: list[socket.socket], want: int, seconds: float = PATIENCE) -> int:
    """Read until at least ``want`` of ``socks`` were closed by the server; how many were."""
    open_ = list(socks)
    closed = 0
    deadline = time.monotonic() + seconds
    while closed < want and time.monotonic() < deadline:
        readable, _, _ = select.select(open_, [], [], 0.2)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                open_.remove(sock)
                closed += 1
    return closed


@pytest.fixture(scope="module")
def deadline_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("deadline")
    with station(tmp, "--request-timeout", "1", "--max-connections", "2000") as running:
        yield running


def test_idle_and_half_sent_connections_are_closed_and_the_station_stays_responsive(
    deadline_station: Running,
) -> None:
    address = deadline_station.address
    host = f"{address[0]}:{address[1]}"
    print_post = (
        f"POST /drug/gamma/print HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
        "copies=1&"
    ).encode()
    socks = [connect(address) for _ in range(100)]  # send nothing
    socks += [connect(address, b"GET /drug/gam") for _ in range(100)]  # half a request line
    socks += [connect(address, print_post) for _ in range(100)]  # 9 bytes of 4000
    try:
        # Hundreds of such sockets held open do not stop staff.
        assert httpx.get(deadline_station.url + "health", timeout=PATIENCE).status_code == 200
        assert httpx.get(deadline_station.url, timeout=PATIENCE).status_code == 200
        assert wait_closed(socks, len(socks)) == len(socks)
        assert httpx.get(deadline_station.url + "health", timeout=PATIENCE).status_code == 200
    finally:
        for sock in socks:
            sock.close()
    # A dropped print form is one line in the log, never a traceback.
    deadline_station.wait_for_log("print request for gamma dropped before its form arrived", 100)
    log = deadline_station.text()
    assert "Traceback" not in log and "ClientDisconnect" not in log


def test_a_print_post_whose_client_goes_away_is_one_line(deadline_station: Running) -> None:
    address = deadline_station.address
    host = f"{address[0]}:{address[1]}"
    before = deadline_station.text().count("dropped before its form arrived")
    for _ in range(5):
        sock = connect(
            address,
            f"POST /drug/gamma/print HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 4000\r\n\r\ncopies=1&".encode(),
        )
        sock.close()
    deadline_station.wait_for_log("dropped before its form arrived", before + 5)
    assert "Traceback" not in deadline_station.text()


def test_other_sites_cannot_make_the_station_render(deadline_station: Running) -> None:
    url = deadline_station.url
    cross = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
    assert httpx.get(url + "drug/gamma.pdf", headers=cross, timeout=PATIENCE).status_code == 403
    navigate = {**cross, "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    # Not even by opening the PDF in a new tab; a link to a page is fine.
    assert httpx.get(url + "drug/gamma.pdf", headers=navigate, timeout=PATIENCE).status_code == 403
    assert (
        httpx.get(url + "drug/gamma/preview", headers=navigate, timeout=PATIENCE).status_code == 403
    )
    assert httpx.get(url + "drugs.json", headers=cross, timeout=PATIENCE).status_code == 403
    assert httpx.get(url + "drug/gamma", headers=navigate, timeout=PATIENCE).status_code == 200
    head = httpx.head(url + "drug/gamma.pdf", timeout=PATIENCE)
    assert head.status_code == 405
    health = httpx.get(url + "health", timeout=PATIENCE).json()
    assert health["renders_done"] == 0 and health["renders_running"] == 0
    # Every answer carries a policy; JSON errors are JSON.
    for path in ("drugs.json", "static/styles/serve/station.css", "health", "drug/gamma"):
        policy = httpx.get(url + path, timeout=PATIENCE).headers["content-security-policy"]
        assert "frame-ancestors" in policy, path
    missing = httpx.get(url + "drug/nothing.json", timeout=PATIENCE)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert "There is no drug called" in missing.json()["error"]
    page = httpx.get(url + "drug/gamma", timeout=PATIENCE).text
    assert re.search(r'<iframe id="preview" class="preview" sandbox="allow-same-origin" ', page)


def test_over_the_connection_limit_the_longest_waiting_is_closed(tmp_path: Path) -> None:
    with station(tmp_path, "--request-timeout", "300", "--max-connections", "20") as running:
        socks = [connect(running.address) for _ in range(60)]
        try:
            # The newest connection gets in; silent ones are closed oldest first.
            assert httpx.get(running.url + "health", timeout=PATIENCE).status_code == 200
            closed = wait_closed(socks, 40)
            assert closed >= 40
            assert wait_closed(socks[-5:], 1, seconds=0.5) == 0, "the newest were closed"
        finally:
            for sock in socks:
                sock.close()
        assert "Traceback" not in running.text()


# --------------------------------------------------------------------------- beyond loopback


def test_beyond_loopback_without_accounts_the_station_refuses_to_start(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    done = subprocess.run(
        [*SERVE, "--content", str(content), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=environment(tmp_path),
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "needs accounts; add one with: medpdf users add NAME" in done.stderr


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "medpdf test station")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert = folder / "station.crt"
    keyfile = folder / "station.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, keyfile


def test_tls_station_beyond_loopback_with_accounts(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    users = tmp_path / "users.json"
    added = subprocess.run(
        [*USERS, "add", "anna", "--users-file", str(users), "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=environment(tmp_path),
    )
    assert added.returncode == 0, added.stderr
    args = ["--host", "0.0.0.0", "--users-file", str(users), "--request-timeout", "2"]
    with station(tmp_path, *args, "--certfile", str(cert), "--keyfile", str(key)) as running:
        assert running.url.startswith("https://127.0.0.1:")
        assert "no TLS" not in running.text()
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=running.url, verify=trust, timeout=PATIENCE) as client:
            # Without a session: the login page, which says nothing about clear text.
            first = client.get("/drug/gamma")
            assert first.status_code == 303
            assert first.headers["location"] == "/login?next=%2Fdrug%2Fgamma"
            login = client.get("/login?next=%2Fdrug%2Fgamma")
            assert 'id="login"' in login.text and "not encrypted" not in login.text
            origin = {"origin": running.url.rstrip("/")}
            form = {"name": "anna", "password": PASSWORD, "next": "/drug/gamma"}
            done = client.post("/login", data=form, headers=origin)
            assert done.status_code == 303 and done.headers["location"] == "/drug/gamma"
            cookie = done.headers["set-cookie"]
            assert cookie.startswith("__Host-medpdf-session=")
            flags = {part.strip().lower() for part in cookie.split(";")[1:]}
            assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags
            page = client.get("/drug/gamma")
            assert page.status_code == 200 and "anna (may print)" in page.text
            assert page.headers["cache-control"] == "no-store"
            # Browsers keep to https from now on.
            assert page.headers["strict-transport-security"] == "max-age=31536000"
            assert client.get("/health").headers["strict-transport-security"]
        # Plain http on the https port: a short redirect to the same page over https.
        plain = running.url.replace("https://", "http://")
        moved = httpx.get(plain + "drug/gamma?paper=letter", timeout=PATIENCE)
        assert moved.status_code == 301
        assert moved.headers["location"] == running.url + "drug/gamma?paper=letter"
        assert "answers only https" in moved.text
        # A Host the station does not answer to is not redirected to: a plain refusal.
        other = httpx.get(plain + "health", headers={"host": "evil.example"}, timeout=PATIENCE)
        assert other.status_code == 400 and "use https://" in other.text
        assert "location" not in other.headers
        # Silent sockets on the https port are closed after the request deadline.
        silent = [connect(running.address) for _ in range(5)]
        try:
            assert wait_closed(silent, len(silent)) == len(silent)
        finally:
            for sock in silent:
                sock.close()
        with httpx.Client(base_url=running.url, verify=trust, timeout=PATIENCE) as client:
            assert client.get("/health").status_code == 200  # https goes on as before
    assert "login: anna (print) from 127.0.0.1" in running.text()
    assert "Traceback" not in running.text()


# --------------------------------------------------------------------------- password guessing


def add_user(tmp: Path, users: Path, name: str, password: str) -> None:
    added = subprocess.run(
        [*USERS, "add", name, "--users-file", str(users), "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=environment(tmp),
    )
    assert added.returncode == 0, added.stderr


async def _burst(
    url: str, wrong: int, right: str, nurse_cookies: httpx.Cookies
) -> tuple[list[httpx.Response], httpx.Response, httpx.Response]:
    """``wrong`` guesses for paula at once; the right password once three were answered.

    Meanwhile the nurse, logged in before, opens a drug page.
    """
    origin = {"origin": url.rstrip("/")}
    limits = httpx.Limits(max_connections=wrong + 2)
    async with (
        httpx.AsyncClient(base_url=url, timeout=PATIENCE, limits=limits) as guesser,
        httpx.AsyncClient(base_url=url, timeout=PATIENCE, cookies=nurse_cookies) as nurse,
    ):

        async def guess(password: str) -> httpx.Response:
            form = {"name": "paula", "password": password}
            return await guesser.post("/login", data=form, headers=origin)

        pending = {asyncio.ensure_future(guess(f"guess number {n}")) for n in range(wrong)}
        page = asyncio.ensure_future(nurse.get("/drug/gamma"))
        answered: set[asyncio.Future[httpx.Response]] = set()
        while len(answered) < 3:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            answered |= done
        last = await guess(right)
        answered |= (await asyncio.wait(pending))[0]
        return [task.result() for task in answered], last, await page


def test_parallel_guesses_are_refused_past_the_limit_and_never_let_the_right_one_in(
    tmp_path: Path,
) -> None:
    users = tmp_path / "users.json"
    add_user(tmp_path, users, "anna", PASSWORD)
    add_user(tmp_path, users, "paula", "paula's own password")
    with station(tmp_path, "--users-file", str(users)) as running:
        origin = {"origin": running.url.rstrip("/")}
        with httpx.Client(base_url=running.url, timeout=PATIENCE) as nurse:
            form = {"name": "anna", "password": PASSWORD}
            assert nurse.post("/login", data=form, headers=origin).status_code == 303
            cookies = nurse.cookies
        started = time.monotonic()
        guesses, last, page = asyncio.run(_burst(running.url, 79, "paula's own password", cookies))
        took = time.monotonic() - started
        print(f"79 guesses and the right one answered in {took:.2f} s")
        statuses = sorted(r.status_code for r in guesses)
        # The first attempts are checked (wrong: 401); those past the limit are refused
        # unchecked with an honest 429, and the right password, sent after, is refused too.
        assert set(statuses) <= {401, 429}
        checked = statuses.count(401)
        assert 1 <= checked < 10, statuses
        assert statuses.count(429) == 79 - checked
        assert last.status_code == 429 and "set-cookie" not in last.headers
        assert "Too many attempts — try again in" in last.text
        # The guesses that came too early counted: the name is locked at that address.
        # (The lock runs from the burst, however long a busy machine took to answer it.)
        assert int(last.headers["retry-after"]) >= LOCK_SECONDS - took - 1
        refused = next(r for r in guesses if r.status_code == 429)
        assert "Wrong name or password" not in refused.text
        # The logged-in nurse's page was answered meanwhile.
        assert page.status_code == 200 and "anna (may print)" in page.text
        print(f"the nurse's page took {page.elapsed.total_seconds():.2f} s during the burst")
        running.wait_for_log(r"login for 'paula' from 127\.0\.0\.1 refused unchecked", 80 - checked)
        log = running.text()
        # Exactly the checked attempts cost a hash: one "failed login" line each.
        assert log.count("failed login for 'paula'") == checked
        assert "login: paula" not in log


def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    add_user(tmp_path, users, "anna", PASSWORD)
    forged = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}

    def failed_login(running: Running, scheme: str) -> None:
        # The page's origin: https once the proxy's X-Forwarded-Proto counts.
        origin = {"origin": running.url.rstrip("/").replace("http", scheme, 1), **forged}
        form = {"name": "anna", "password": "not anna's password"}
        answer = httpx.post(running.url + "login", data=form, headers=origin, timeout=PATIENCE)
        assert answer.status_code == 401
        running.wait_for_log(r"failed login for 'anna' from ")

    # By default nobody is a trusted proxy, not even this computer (uvicorn's default).
    with station(tmp_path, "--users-file", str(users)) as running:
        failed_login(running, "http")
        assert "failed login for 'anna' from 127.0.0.1 " in running.text()
        assert "203.0.113.9" not in running.text()
    # A listed proxy's header names the client.
    with station(tmp_path, "--users-file", str(users), "--trusted-proxies", "127.0.0.1") as running:
        failed_login(running, "https")
        assert "failed login for 'anna' from 203.0.113.9 " in running.text()


def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path) -> None:
    from medpdf.settings.options import TRUSTED_PROXIES

    parsed = TRUSTED_PROXIES.kind.from_text(" 10.0.0.5, 10.0.1.7/24,::1", ValueError)
    assert parsed == ("10.0.0.5", "10.0.1.0/24", "::1")
    content = make_content(tmp_path / "content")
    (tmp_path / "medpdf.toml").write_text('[station]\ntrusted_proxies = ["proxy.lan"]\n')
    done = subprocess.run(
        [*SERVE, "--content", str(content), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        cwd=tmp_path,
        env=environment(tmp_path),
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "station.trusted_proxies: must be IP addresses or networks" in done.stderr


@pytest.mark.parametrize(
    ("request_line", "host", "location"),
    [
        ("GET /drug/gamma HTTP/1.1", "127.0.0.1:8443", "https://127.0.0.1:8443/drug/gamma"),
        ("GET //evil.example/x HTTP/1.1", "127.0.0.1:8443", "https://127.0.0.1:8443/"),
        ("GET /a\x7fb HTTP/1.1", "localhost", "https://localhost/"),
        ("GET / HTTP/1.1", "evil.example", None),
        ("GET / HTTP/1.1", "127.0.0.1/evil", None),
    ],
)
def test_plain_http_on_the_https_port_is_redirected_only_to_the_station_itself(
    request_line: str, host: str, location: str | None
) -> None:
    from medpdf.station.tls import plain_answer

    answer = plain_answer(f"{request_line}\r\nHost: {host}\r\n\r\n".encode(), ("localhost",))
    head = answer.split(b"\r\n\r\n")[0].decode()
    if location is None:
        assert head.startswith("HTTP/1.1 400 ") and "Location" not in head
    else:
        assert head.startswith("HTTP/1.1 301 ") and f"Location: {location}\r\n" in head + "\r\n"
