"""Accounts on the printing station: login, sessions, roles and limits (in-process app)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from test_server import make_content, settings_for

from medpdf import accounts
from medpdf.settings import config
from medpdf.station import app, serve
from medpdf.station.auth import LOGIN_FAILED, PUBLIC_PATHS, PUBLIC_PREFIXES
from medpdf.station.sessions import Access
from medpdf.station.state import Station
from medpdf.station.throttle import (
    ADDRESS_LOCK_AFTER,
    LOCK_AFTER,
    Keys,
    LoginThrottle,
    PasswordChecks,
    RateLimit,
)

STATION = "http://127.0.0.1:8000"
ORIGIN = {"origin": STATION}
PASSWORDS = {
    "anna": "anna's long password",
    "paula": "paula prints a lot",
    "victor": "victor views",
}
ROLES = {"anna": "print", "paula": "print", "victor": "view"}
FAILED = LOGIN_FAILED.replace("'", "&#39;")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("accounts") / "users.json"
    accounts.save(
        path,
        {
            name: accounts.Account(name, ROLES[name], accounts.hash_password(password))
            for name, password in PASSWORDS.items()
        },
    )
    return path


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, users_file: Path
) -> Iterator[tuple[TestClient, Station]]:
    tmp = tmp_path_factory.mktemp("station")
    content = make_content(tmp / "content")
    access = Access(users_file=users_file, idle_seconds=600, max_seconds=3600)
    settings = settings_for(tmp, content, access=access, printers_ttl=3600)
    with TestClient(app.create_app(settings), base_url=STATION) as client:
        yield client, client.app.state.station  # type: ignore[attr-defined]


@pytest.fixture
def clock(site: tuple[TestClient, Station], monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Fresh limits and a clock the test moves, for the login throttle and the sessions."""
    _, station = site
    fake = Clock()
    monkeypatch.setattr(station, "logins", LoginThrottle(fake))
    monkeypatch.setattr(station, "prints", RateLimit(2, fake))
    monkeypatch.setattr(station.sessions, "clock", fake)
    monkeypatch.setenv("CUPS_SERVER", "/nonexistent/cups.sock")
    return fake


@pytest.fixture
def client(site: tuple[TestClient, Station], clock: Clock) -> TestClient:
    tester = site[0]
    tester.cookies.clear()
    return tester


def log_in(client: TestClient, name: str, password: str | None = None, **form: str) -> object:
    data = {"name": name, "password": PASSWORDS[name] if password is None else password, **form}
    return client.post("/login", data=data, headers=ORIGIN, follow_redirects=False)


def concrete(path: str) -> str:
    return path.replace("{slug:str}", "gamma").replace("{path:path}", "styles/serve/station.css")


def test_every_route_but_the_public_ones_needs_a_session(client: TestClient) -> None:
    routes = [r for r in client.app.routes if isinstance(r, Route)]  # type: ignore[attr-defined]
    public = {r.path for r in routes if r.path in PUBLIC_PATHS or r.path.startswith("/static/")}
    # What anyone may load is short and deliberate: a new route is private unless added here.
    assert public == {"/login", "/health", "/favicon.ico", "/static/{path:path}"}
    assert PUBLIC_PREFIXES == ("/static/",)
    checked = 0
    for route in routes:
        if route.path in public:
            continue
        for method in sorted(route.methods or ()):
            response = client.request(
                method, concrete(route.path), headers=ORIGIN, follow_redirects=False
            )
            checked += 1
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login?next="), route.path
            else:
                assert response.status_code == 401, (method, route.path, response.status_code)
    assert checked >= 10
    assert client.get("/health").status_code == 200


def test_login_sets_a_strict_http_only_cookie_and_returns_to_the_page(client: TestClient) -> None:
    first = client.get("/drug/gamma?paper=letter", follow_redirects=False)
    assert first.headers["location"] == "/login?next=%2Fdrug%2Fgamma%3Fpaper%3Dletter"
    page = client.get(first.headers["location"])
    assert 'name="next" value="/drug/gamma?paper=letter"' in page.text
    assert "not encrypted" not in page.text  # a loopback station
    done = log_in(client, "anna", next="/drug/gamma?paper=letter")
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/drug/gamma?paper=letter"  # type: ignore[attr-defined]
    cookie = done.headers["set-cookie"]  # type: ignore[attr-defined]
    assert cookie.startswith("medpdf-session=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", "max-age=3600"} <= flags
    assert "secure" not in flags  # plain http on loopback: a Secure cookie would never return
    drug = client.get("/drug/gamma")
    assert drug.status_code == 200 and "anna (may print)" in drug.text
    assert drug.headers["cache-control"] == "no-store"
    # Only paths of this station are followed after login.
    client.cookies.clear()
    elsewhere = log_in(client, "anna", next="//evil.example/")
    assert elsewhere.headers["location"] == "/"  # type: ignore[attr-defined]


def test_wrong_password_and_unknown_name_look_the_same_and_a_lock_says_so(
    client: TestClient, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="medpdf")
    wrong = log_in(client, "anna", "not the password")
    unknown = client.post(
        "/login", data={"name": "nobody", "password": "whatever it is"}, headers=ORIGIN
    )
    for response in (wrong, unknown):
        assert response.status_code == 401  # type: ignore[attr-defined]
        assert FAILED in response.text  # type: ignore[attr-defined]
    # Too soon after failures: refused without looking at the password, and told so.
    log_in(client, "anna", "not the password either")
    log_in(client, "anna", "still not the password")
    early = log_in(client, "anna")
    assert early.status_code == 429  # type: ignore[attr-defined]
    # Coming too early counted as a failure here: the next wait is 2 s.
    assert early.headers["retry-after"] == "2"  # type: ignore[attr-defined]
    assert "Too many attempts — try again in 2 seconds." in early.text  # type: ignore[attr-defined]
    assert FAILED not in early.text  # type: ignore[attr-defined]
    for _ in range(LOCK_AFTER):
        clock.now += 61
        log_in(client, "paula", "wrong again and again")
    clock.now += 61
    locked = log_in(client, "paula")  # the right password, but locked
    assert locked.status_code == 429  # type: ignore[attr-defined]
    assert 13 * 60 < int(locked.headers["retry-after"]) <= 15 * 60  # type: ignore[attr-defined]
    assert "medpdf-session" not in locked.headers.get("set-cookie", "")  # type: ignore[attr-defined]
    messages = [r.getMessage() for r in caplog.records]
    assert any("failed login for 'anna' from testclient" in m for m in messages)
    assert any("user:paula locked for 15 minutes" in m for m in messages)
    assert any("pair:paula@testclient locked for 15 minutes" in m for m in messages)
    assert not any("address:testclient locked" in m for m in messages)
    # After the lock, the right password works again.
    clock.now += 15 * 60 + 1
    assert log_in(client, "paula").status_code == 303  # type: ignore[attr-defined]


def test_a_colleagues_typos_never_lock_the_next_person_at_the_same_computer(
    client: TestClient, clock: Clock
) -> None:
    for _ in range(LOCK_AFTER + 5):
        clock.now += 61
        log_in(client, "paula", "paula cannot remember")
    # A second later, anna at the same computer logs in at once.
    clock.now += 1
    assert log_in(client, "anna").status_code == 303  # type: ignore[attr-defined]


def test_an_address_is_locked_only_far_above_a_clinics_use() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for number in range(ADDRESS_LOCK_AFTER):
        keys = Keys.of(f"guess{number}", "10.0.0.7")
        assert throttle.begin(keys) == 0, number
        clock.now += 1
    assert throttle.locked(Keys.of(f"guess{ADDRESS_LOCK_AFTER - 1}", "10.0.0.7")) == [
        "address:10.0.0.7"
    ]
    assert throttle.begin(Keys.of("anna", "10.0.0.7")) > 10 * 60
    assert throttle.begin(Keys.of("anna", "10.0.0.8")) == 0


def test_a_name_is_locked_whatever_address_it_is_tried_from() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for number in range(LOCK_AFTER):
        keys = Keys.of("paula", f"10.0.0.{number}")
        assert throttle.begin(keys) == 0
        locked = throttle.locked(keys)
        clock.now += 61
    assert locked == ["user:paula"]
    assert throttle.wait(Keys.of("Paula", "10.0.0.99")) > 10 * 60
    assert throttle.wait(Keys.of("anna", "10.0.0.99")) == 0
    clock.now += 15 * 60
    assert throttle.wait(Keys.of("paula", "10.0.0.99")) == 0


def test_a_right_password_clears_only_the_failures_it_proves_were_typos() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    here = Keys.of("anna", "10.0.0.1")
    for name, address in [("anna", "10.0.0.9"), ("paula", "10.0.0.1"), ("anna", "10.0.0.1")]:
        throttle.begin(Keys.of(name, address))  # each a failure
    throttle.begin(here)  # the right password, counted until it proves right
    assert (throttle.failures(here.name), throttle.failures(here.address)) == (3, 3)
    throttle.succeeded(here)
    assert throttle.failures(here.pair) == 0
    assert throttle.failures(here.name) == 1  # the failure from elsewhere stays
    assert throttle.failures(here.address) == 1  # and so does paula's


def test_a_wait_that_doubles_after_each_failure_and_each_attempt_too_early(
    client: TestClient, clock: Clock
) -> None:
    log_in(client, "anna", "wrong one")
    log_in(client, "anna", "wrong two")  # two typos cost nothing
    log_in(client, "anna", "wrong three")
    clock.now += 1.1  # the first wait is 1 s
    log_in(client, "anna", "wrong four")
    clock.now += 1.1  # the next is 2 s
    too_early = log_in(client, "anna")
    assert too_early.status_code == 429  # type: ignore[attr-defined]
    # Too early counts as a failure: the wait is now 4 s, from now.
    assert too_early.headers["retry-after"] == "4"  # type: ignore[attr-defined]
    clock.now += 4.1
    assert log_in(client, "anna").status_code == 303  # type: ignore[attr-defined]
    # A burst that keeps coming too early locks the name at that address.
    for _ in range(3):
        log_in(client, "paula", "wrong")
    for _ in range(LOCK_AFTER):
        assert log_in(client, "paula").status_code == 429  # type: ignore[attr-defined]
    locked = log_in(client, "paula")
    assert int(locked.headers["retry-after"]) > 14 * 60  # type: ignore[attr-defined]


def test_password_checks_run_two_at_a_time_and_refuse_a_long_queue() -> None:
    checks = PasswordChecks(at_once=2, waiting=3)
    running = 0
    most = 0

    async def check(release: asyncio.Event) -> None:
        nonlocal running, most
        async with checks.turn():
            running += 1
            most = max(most, running)
            await release.wait()
            running -= 1

    async def scenario() -> None:
        release = asyncio.Event()
        tasks = [asyncio.create_task(check(release)) for _ in range(5)]
        while running < 2 or not checks.full():
            await asyncio.sleep(0)
        assert checks.full()  # two running, three waiting: a sixth is turned away
        release.set()
        await asyncio.gather(*tasks)
        assert not checks.full()

    asyncio.run(scenario())
    assert most == 2


def session_of(response: object) -> str:
    match = re.match(r"medpdf-session=([^;]+);", response.headers["set-cookie"])  # type: ignore[attr-defined]
    assert match, response.headers  # type: ignore[attr-defined]
    return match.group(1)


def use(client: TestClient, value: str) -> None:
    client.cookies.clear()
    client.cookies.set("medpdf-session", value)


def test_login_gives_a_new_session_id_and_logout_ends_it(client: TestClient) -> None:
    use(client, "planted-by-an-attacker")
    first = session_of(log_in(client, "anna"))
    assert first != "planted-by-an-attacker"
    use(client, first)
    second = session_of(log_in(client, "anna"))
    assert second != first
    use(client, first)
    assert client.get("/", follow_redirects=False).status_code == 303  # the old id is gone
    use(client, second)
    assert client.get("/").status_code == 200
    # Logout from another site is refused; from the station's page it ends the session.
    assert client.post("/logout", follow_redirects=False).status_code == 403
    out = client.post("/logout", headers=ORIGIN, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert 'medpdf-session=""' in out.headers["set-cookie"]
    assert out.headers["clear-site-data"] == '"storage"'  # "My medicines" goes too
    use(client, second)
    assert client.get("/", follow_redirects=False).status_code == 303
    # A tampered cookie is refused before any lookup.
    use(client, second[:-2] + ("xx" if not second.endswith("xx") else "yy"))
    assert client.get("/drugs.json").status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{}, {"origin": "http://evil.example"}, {**ORIGIN, "sec-fetch-site": "cross-site"}],
)
def test_login_posts_from_other_sites_are_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    data = {"name": "anna", "password": PASSWORDS["anna"]}
    response = client.post("/login", data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_view_accounts_cannot_print(client: TestClient) -> None:
    log_in(client, "victor")
    page = client.get("/drug/gamma").text
    assert "victor (view only)" in page
    assert "printing needs an account with the print role" in page
    assert 'id="print"' not in page
    form = {"copies": "1"}
    refused = client.post("/drug/gamma/print", data=form, headers=ORIGIN)
    assert refused.status_code == 403
    assert "not print them" in refused.text


def test_each_account_has_a_print_rate_limit(client: TestClient, clock: Clock) -> None:
    log_in(client, "anna")
    statuses = [
        client.post("/drug/gamma/print", data={"copies": "1"}, headers=ORIGIN).status_code
        for _ in range(3)
    ]
    # No CUPS here: the first two reach the printer lookup (502), the third is over the limit.
    assert statuses == [502, 502, 429]
    over = client.post("/drug/gamma/print", data={"copies": "1"}, headers=ORIGIN)
    assert over.status_code == 429 and 1 <= int(over.headers["retry-after"]) <= 60
    assert "At most 2 print jobs a minute per account" in over.text
    # Another account has its own allowance; a minute later anna has hers again.
    client.cookies.clear()
    log_in(client, "paula")
    assert client.post("/drug/gamma/print", data={"copies": "1"}, headers=ORIGIN).status_code == 502
    clock.now += 60
    client.cookies.clear()
    log_in(client, "anna")
    assert client.post("/drug/gamma/print", data={"copies": "1"}, headers=ORIGIN).status_code == 502


def test_sessions_end_when_idle_and_at_their_absolute_limit(
    client: TestClient, clock: Clock
) -> None:
    log_in(client, "anna")
    clock.now += 601
    assert client.get("/", follow_redirects=False).status_code == 303
    log_in(client, "anna")
    for _ in range(7):  # used every 9 minutes, never idle, but 63 min > the 60 min limit
        clock.now += 540
        status = client.get("/", follow_redirects=False).status_code
    assert status == 303


def test_a_new_password_or_a_removed_account_ends_its_sessions(
    client: TestClient, users_file: Path
) -> None:
    saved = users_file.read_bytes()
    try:
        log_in(client, "anna")
        assert client.get("/").status_code == 200
        found = accounts.load(users_file)
        found["anna"] = accounts.Account("anna", "print", accounts.hash_password("a new password"))
        accounts.save(users_file, found)
        assert client.get("/", follow_redirects=False).status_code == 303
        client.cookies.clear()
        log_in(client, "victor")
        del found["victor"]
        accounts.save(users_file, found)
        assert client.get("/", follow_redirects=False).status_code == 303
    finally:
        users_file.write_bytes(saved)


def test_beyond_loopback_without_tls_every_page_says_so(
    tmp_path: Path, users_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_station_sockets import make_certificate

    content = make_content(tmp_path / "content")
    base = {"content_dir": content, "output_dir": tmp_path / "output"}
    names = ("printing.clinic.lan",)
    cfg = config.make(**base, host="0.0.0.0", users_file=str(users_file), host_names=names)
    plan = serve.plan(cfg)
    assert plan.settings.access.cleartext and not plan.loopback and plan.tls is None
    assert plan.settings.allowed_hosts == ("localhost", "printing.clinic.lan")
    cert, key = make_certificate(tmp_path)
    secure = serve.plan(cfg.replace(certfile=str(cert), keyfile=str(key)))
    assert secure.tls == (str(cert), str(key))
    assert secure.settings.access.tls and not secure.settings.access.cleartext
    assert secure.settings.access.cookie_name == "__Host-medpdf-session"
    with TestClient(app.create_app(plan.settings), base_url="http://printing.clinic.lan") as tester:
        login = tester.get("/login")
        assert "passwords and pages cross the network in clear text" in login.text
        assert tester.get("/health", headers={"host": "evil.example"}).status_code == 400
        assert tester.get("/health", headers={"host": "192.0.2.7:8000"}).status_code == 200
        origin = {"origin": "http://printing.clinic.lan"}
        data = {"name": "anna", "password": PASSWORDS["anna"]}
        tester.post("/login", data=data, headers=origin)
        page = tester.get("/drug/gamma").text
        assert "cross the network in clear text" in page and "anna (may print)" in page
        assert re.search(r'<form class="account" method="post" action="/logout">', page)


def test_each_pdf_handed_out_and_reopened_names_its_user_in_the_record(
    client: TestClient, site: tuple[TestClient, Station]
) -> None:
    _, station = site
    log_in(client, "victor")
    assert client.get("/drug/gamma.pdf").status_code == 200
    (opened,) = [e for e in station.record.entries(name="gamma") if e.user == "victor"]
    assert opened.action == "opened" and opened.reprint_of is None
    client.post("/logout", headers=ORIGIN)
    log_in(client, "anna")
    assert client.get(f"/printed/{opened.id}.pdf").status_code == 200
    (again,) = [e for e in station.record.entries(name="gamma") if e.reprint_of == opened.id]
    assert again.user == "anna"
