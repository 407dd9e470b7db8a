"""The station's own language: chosen from a menu, kept per browser, else the browser's.

The interface language (the words of the station's pages) is separate from the
handout language (which translation of a drug is opened); both are checked here
on the translated fixtures of tests/fixtures/languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from waiting import PATIENCE

from medpdf.run.contract import RunContext
from medpdf.run.workers import Limits
from medpdf.settings import config
from medpdf.station import app, language, state

FIXTURES = Path(__file__).parent / "fixtures" / "languages"


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("station-language")
    cfg = config.make(content_dir=FIXTURES, output_dir=tmp / "output")
    settings = state.StationSettings(RunContext.of(cfg, Limits(jobs=1, seconds=PATIENCE)))
    with TestClient(app.create_app(settings)) as client:
        yield client


@pytest.fixture
def client(station: TestClient) -> TestClient:
    station.cookies.clear()  # each test starts as a browser that never chose
    return station


def html_tag(page: str) -> str:
    found = re.search(r"<html [^>]*>", page)
    assert found, page[:200]
    return found.group(0)


@pytest.mark.parametrize(
    ("header", "catalog"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("de-DE, de;q=0.9, fr;q=0.5", "fr"),  # no German catalog: the next wish counts
        ("pt-BR;q=0.4, ar;q=0.7", "ar"),  # by quality, not by order
        ("zh-CN", "zh_Hans"),
        ("zh-TW, en;q=0.1", "en"),  # Traditional is not shipped: not Simplified instead
        ("es;q=0, fr;q=0.2", "fr"),  # q=0 means "not this one"
        ("en-GB, es", "en"),
        ("", "en"),
        ("*", "en"),
        ("klingon!!;q=x, ;;,", "en"),
    ],
)
def test_accept_language_is_matched_against_the_shipped_catalogs(header, catalog):
    assert language.negotiate(header) == catalog


def test_accept_language_gives_spanish_page_words(client):
    page = client.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert page.status_code == 200
    assert html_tag(page.text) == '<html lang="es" dir="ltr">'
    assert "Buscar un medicamento" in page.text and "Find a drug" not in page.text
    assert "Todos los medicamentos" in page.text
    assert "Información para pacientes, para imprimir" in page.text
    # The search script's words arrive translated through data- attributes (no inline script).
    assert 'data-all="%(total)s medicamentos"' in page.text
    assert "<script>" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers  # negotiated, not chosen: nothing to remember


def test_a_chosen_language_sticks_over_accept_language(client):
    chosen = client.get("/", params={"ui": "fr"}, headers={"Accept-Language": "es"})
    assert html_tag(chosen.text) == '<html lang="fr" dir="ltr">'
    cookie = chosen.headers["set-cookie"]
    assert cookie.startswith(f"{language.COOKIE}=fr;")
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    later = client.get("/drug/ibuprofen", headers={"Accept-Language": "es"})
    assert html_tag(later.text) == '<html lang="fr" dir="ltr">'
    assert "Options de la fiche" in later.text and "Opciones" not in later.text
    client.get("/", params={"ui": "pt"})
    assert html_tag(client.get("/printed").text) == '<html lang="pt" dir="ltr">'


def test_the_menu_offers_every_language_on_the_same_page_echoing_nothing(client):
    page = client.get("/drug/ibuprofen", params={"ui": "es", "paper": "letter"}).text
    menu = re.search(r'<nav class="languages".*?</nav>', page, re.S)
    assert menu
    hrefs = re.findall(r'href="([^"]+)"', menu.group(0))
    assert hrefs == [f"?ui={c}" for c in ("en", "es", "fr", "pt", "zh_Hans", "ar")]
    for name in ("English", "español", "français", "português", "中文", "العربية"):
        assert name in menu.group(0), name
    assert 'aria-current="true">español<' in menu.group(0)


def test_unknown_or_hostile_choices_are_ignored_and_never_echoed(client):
    for value in ("de", "../../etc/passwd", "es\r\nSet-Cookie: x=1", "ES"):
        page = client.get("/", params={"ui": value}, headers={"Accept-Language": "pt"})
        assert html_tag(page.text) == '<html lang="pt" dir="ltr">', value
        assert "set-cookie" not in page.headers, value
    client.cookies.set(language.COOKIE, "<script>")
    page = client.get("/", headers={"Accept-Language": "fr"})
    assert html_tag(page.text) == '<html lang="fr" dir="ltr">'


def test_arabic_pages_are_right_to_left(client):
    page = client.get("/", params={"ui": "ar"}).text
    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "البحث عن دواء" in page
    drug = client.get("/drug/ibuprofen").text  # the cookie keeps Arabic
    assert html_tag(drug) == '<html lang="ar" dir="rtl">'
    assert "خيارات النشرة" in drug
    # The English drug title inside the Arabic page says its own language and direction.
    assert '<h1 lang="en" dir="ltr">' in drug


def test_handout_language_is_chosen_apart_from_the_interface(client):
    client.get("/", params={"ui": "ar"})
    page = client.get("/drug/ibuprofen.es").text
    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert 'لغة النشرة: <span lang="es">español</span>' in page
    assert '<h1 lang="es" dir="ltr">' in page
    assert 'href="/drug/ibuprofen" hreflang="en"' in page  # the other handout languages
    assert 'href="/drug/ibuprofen.zh" hreflang="zh-Hans"' in page
    preview = client.get("/drug/ibuprofen.es/preview").text  # the handout stays Spanish
    assert html_tag(preview).startswith('<html lang="es"')
    # An English interface for the Arabic handout: the two choices do not follow each other.
    client.get("/", params={"ui": "en"})
    arabic = client.get("/drug/ibuprofen.ar").text
    assert html_tag(arabic) == '<html lang="en" dir="ltr">'
    assert "Handout options" in arabic and '<h1 lang="ar" dir="rtl">' in arabic
    assert html_tag(client.get("/drug/ibuprofen.ar/preview").text).startswith('<html lang="ar"')


def test_search_finds_titles_in_any_language_whatever_the_interface(client):
    client.get("/", params={"ui": "zh_Hans"})
    found = client.get("/", params={"q": "ibuprofeno"}).text
    assert html_tag(found) == '<html lang="zh-Hans" dir="ltr">'
    assert "/drug/ibuprofen.es" in found
    assert "/drug/ibuprofen.zh" in client.get("/", params={"q": "布洛芬"}).text


def test_error_pages_speak_the_interface_language(client):
    client.get("/", params={"ui": "es"})
    missing = client.get("/drug/no-such-drug")
    assert missing.status_code == 404
    assert "<h1>No encontrado</h1>" in missing.text
    assert "No hay ningún medicamento llamado «no-such-drug» en esta colección." in missing.text
    assert "Volver a todos los medicamentos" in missing.text
    # The pages' script shows the JSON error to staff: in their language too.
    state_json = client.get("/drug/no-such-drug.json")
    assert state_json.status_code == 404
    assert state_json.json()["error"].startswith("No hay ningún medicamento")
    client.get("/", params={"ui": "zh_Hans"})
    booklet = client.get("/booklet.pdf")
    assert booklet.status_code == 404 and "手册尚未生成" in booklet.text


def test_my_medicines_page_and_its_errors_speak_the_interface_language(client):
    spanish = {"Accept-Language": "es-ES,es;q=0.9"}
    page = client.get("/pack", headers=spanish)
    assert page.status_code == 200
    text = page.text
    assert "<title>Mis medicamentos" in text and "<h1>Mis medicamentos</h1>" in text
    # Words of the printed pack and of the drug page are the same messages, not new ones.
    for words in ("Mañana", "Al acostarse", "Letra grande (texto de 16 pt)", "Papel"):
        assert words in text, words
    assert "Imprimir en una impresora de la clínica" in text and "Vaciar la lista" in text
    assert "Todavía no hay medicamentos en la lista." in text
    for english in ("My medicines</h1>", "Clear the list", "Morning", "Large print"):
        assert english not in text, english
    # The drug page gives pack.js its button words in the same language.
    drug = client.get("/drug/ibuprofen", headers=spanish).text
    assert 'data-added="En Mis medicamentos ✓"' in drug
    assert 'data-full="Mis medicamentos está completa (20)"' in drug
    # An error of pack.py: an empty list is refused in Spanish.
    empty = client.get("/pack.pdf", headers=spanish)
    assert empty.status_code == 400
    assert "La lista no tiene medicamentos: añádalos desde la página de cada medicamento." in (
        empty.text
    )
    bad = client.get("/pack/preview?m=ibuprofen&take=ibuprofen=lunch", headers=spanish)
    assert bad.status_code == 400
    assert "No se pudo leer la lista de medicamentos: times for ibuprofen" in bad.text


def test_my_medicines_page_is_right_to_left_in_arabic(client):
    page = client.get("/pack", params={"ui": "ar"}).text
    assert html_tag(page) == '<html lang="ar" dir="rtl">'
    assert "<h1>أدويتي</h1>" in page and "إفراغ القائمة" in page
    # The list's indent follows the writing direction (a logical side, not "left").
    css = client.get("/static/styles/serve/station.css").text
    assert ".pack-list { padding-inline-start:" in css
    assert not re.search(r"\.pack[-\w ]*\{[^}]*(left|right)", css)


@pytest.mark.parametrize(
    ("path", "headers", "status", "spanish"),
    [
        ("/drug/nothing-here?paper=a3&ui=es", {}, 404, "No hay ningún medicamento"),
        (
            "/drugs.json?ui=es",
            {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"},
            403,
            "La estación de impresión solo responde a sus propias páginas.",
        ),
        ("/printed/99999999999999999999.pdf?ui=es", {}, 404, "No hay ningún registro"),
    ],
)
def test_refusals_before_and_outside_the_pages_speak_the_interface_language(
    client: TestClient, path: str, headers: dict[str, str], status: int, spanish: str
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert spanish in response.text


def test_private_answers_without_a_session_say_log_in_first_in_the_interface_language(
    tmp_path: Path,
) -> None:
    from medpdf import accounts
    from medpdf.station.sessions import Access

    users = tmp_path / "users.json"
    accounts.save(
        users, {"ana": accounts.Account("ana", "print", accounts.hash_password("x" * 12))}
    )
    cfg = config.make(content_dir=FIXTURES, output_dir=tmp_path / "output")
    settings = state.StationSettings(
        RunContext.of(cfg, Limits(jobs=1, seconds=60)), access=Access(users_file=users)
    )
    with TestClient(app.create_app(settings)) as client:
        assert client.get("/drug/ibuprofen.pdf?ui=es").text == "Inicie sesión primero."
        assert client.get("/drugs.json?ui=fr").json() == {"error": "Connectez-vous d\u2019abord."}


def test_a_bad_option_in_a_hand_made_link_is_explained_in_the_interface_language(
    client: TestClient,
) -> None:
    slug = client.get("/drugs.json").json()[0]["slug"]
    response = client.get(f"/drug/{slug}", params={"paper": "a3", "ui": "ar"})
    assert response.status_code == 400
    # The sentence is translated; the rule's own detail (an option's name) stays as it is.
    assert "أحد خيارات النشرة له قيمة لا تقبلها هذه المحطة" in response.text
    assert 'paper must be "a4" or "letter", not "a3"' in response.text.replace("&#34;", '"')
