"""The station and the clinic's record system: Load a medication list, POST /fhir/pack, Infobutton.

The station runs in-process with its real worker pool (as in test_server), on the
invented collection of tests/fixtures/fhir/collection (Zorvatin has a Spanish
translation, Zorvatina, and declares the RxNorm-style code 9900021).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from conftest import normalised_page_texts
from starlette.testclient import TestClient
from test_server import STATION, settings_for

from medpdf import accounts
from medpdf.ehr import fhir
from medpdf.record.store import Record
from medpdf.station import app
from medpdf.station.sessions import Access

FIXTURES = Path(__file__).parent / "fixtures" / "fhir"
FIVE = (FIXTURES / "five-medicines.json").read_bytes()
FHIR_JSON = {"origin": STATION, "content-type": "application/fhir+json"}
RXNORM = "2.16.840.1.113883.6.88"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    tmp = tmp_path_factory.mktemp("ehr-station")
    content = tmp / "content"
    shutil.copytree(FIXTURES / "collection", content)
    with TestClient(app.create_app(settings_for(tmp, content)), base_url=STATION) as client:
        yield client, tmp


def infobutton(client: TestClient, **params: str) -> object:
    query = urlencode({k.replace("_", "."): v for k, v in params.items()})
    return client.get(f"/infobutton?{query}", follow_redirects=False)


# -- Load a medication list -------------------------------------------------------------------


def test_loading_a_list_gives_my_medicines_with_times_doses_and_notes(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    answer = client.post("/fhir/list.json", content=FIVE, headers=FHIR_JSON)
    assert answer.status_code == 200, answer.text
    loaded = answer.json()
    assert [m["slug"] for m in loaded["medicines"]] == [
        "brunavel", "zorvatin", "klemorex", "pallidone-quessar", "tessaline",
    ]  # fmt: skip
    assert loaded["medicines"][0] == {
        "slug": "brunavel",
        "title": "Brunavel",
        "times": ["morning"],
        "note": "Swallow it whole",
        "dose": "1 tablet · 5 mg",
        "meal": "with",
        "prn": None,
        "daily": True,
    }
    assert loaded["unlisted"] == [] and loaded["unsure"] == []
    assert "Testperson" not in answer.text  # the patient is never read here


def test_the_page_has_the_load_form_and_its_words(site: tuple[TestClient, Path]) -> None:
    page = site[0].get("/pack").text
    assert 'id="load-list"' in page and 'id="fhir-file"' in page
    assert "Load a medication list" in page
    assert 'data-no-leaflet="No leaflet in this collection' in page


def test_unknown_medicines_are_unlisted_and_stopped_ones_left_out(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    unknown = client.post(
        "/fhir/list.json", content=(FIXTURES / "unknown-code.json").read_bytes(), headers=FHIR_JSON
    ).json()
    assert [m["slug"] for m in unknown["medicines"]] == ["zorvatin"]
    assert [m["title"] for m in unknown["unlisted"]] == ["Dapagliflozin 10 mg"]
    stopped = client.post(
        "/fhir/list.json", content=(FIXTURES / "stopped.json").read_bytes(), headers=FHIR_JSON
    ).json()
    assert stopped["left_out"] == [
        "Klemorex 10 mg tablet (stopped)",
        "Tessaline 250 mg tablet (entered-in-error)",
        "Brunavel 5 mg tablet (do not perform)",
    ]


def test_an_unsure_medicine_comes_back_with_candidates_then_a_pick_settles_it(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    weak = json.dumps(
        {
            "resourceType": "MedicationRequest", "id": "p", "status": "active",
            "intent": "order", "subject": {"reference": "Patient/x"},
            "medicationCodeableConcept": {"text": "Pallidone 5 mg"},
        }
    ).encode()  # fmt: skip
    unsure = client.post("/fhir/list.json", content=weak, headers=FHIR_JSON).json()
    assert unsure["medicines"] == []
    (medicine,) = unsure["unsure"]
    assert medicine["name"] == "Pallidone 5 mg" and medicine["ambiguous"] is False
    assert medicine["candidates"] == [{"slug": "pallidone-quessar", "title": "Pallidone + Quessar"}]
    picked = client.post(
        "/fhir/list.json?" + urlencode({"pick": "Pallidone 5 mg=pallidone-quessar"}),
        content=weak,
        headers=FHIR_JSON,
    ).json()
    assert [m["slug"] for m in picked["medicines"]] == ["pallidone-quessar"]


def test_bad_lists_are_one_line_and_foreign_posts_refused(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    malformed = client.post(
        "/fhir/list.json", content=(FIXTURES / "malformed.json").read_bytes(), headers=FHIR_JSON
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"] == (
        "The medication list could not be used: medication list: entry 2 "
        "(MedicationRequest/mr-klemorex): dosageInstruction[0].timing.repeat.frequency: "
        "Input should be a valid integer, unable to parse string as an integer"
    )
    foreign = client.post(
        "/fhir/list.json", content=FIVE, headers={**FHIR_JSON, "origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    plain = client.post(
        "/fhir/list.json", content=FIVE, headers={**FHIR_JSON, "content-type": "text/plain"}
    )
    assert plain.status_code == 415
    too_large = client.post(
        "/fhir/list.json",
        content=b" ",
        headers={**FHIR_JSON, "content-length": str(fhir.MAX_BYTES + 1)},
    )
    assert too_large.status_code == 413


# -- the pack PDF of a posted list ---------------------------------------------------------------


def test_posting_a_list_answers_the_pack_pdf_and_records_it(site: tuple[TestClient, Path]) -> None:
    client, tmp = site
    folder = tmp / "output" / "record"
    before = len(Record(folder).entries())
    answer = client.post("/fhir/pack?paper=letter", content=FIVE, headers=FHIR_JSON)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    pages = normalised_page_texts(answer.content)
    assert "Brunavel 1 tablet · 5 mg · with food Swallow it whole" in pages[0]
    assert "Patient name" in pages[0] and "Testperson" not in pages[0]
    (entry,) = Record(folder).entries()[before:]
    assert [d.slug for d in entry.drugs][:2] == ["brunavel", "zorvatin"]
    # The record keeps the pack without the list's notes (free text about this patient):
    # an empty line to write each by hand instead; the rest is the same.
    kept = normalised_page_texts(Record(folder).pdf_of(entry))
    assert "Swallow it whole" not in kept[0] and "Brunavel 1 tablet · 5 mg · with food" in kept[0]
    assert kept[1:] == pages[1:]


def test_with_patient_the_pdf_has_the_name_and_nothing_kept_has_it(
    site: tuple[TestClient, Path],
) -> None:
    client, tmp = site
    folder = tmp / "output" / "record"
    before = len(Record(folder).entries())
    answer = client.post("/fhir/pack?with_patient=1", content=FIVE, headers=FHIR_JSON)
    assert answer.status_code == 200, answer.text
    assert "Patient name Alma Ruth Testperson" in normalised_page_texts(answer.content)[0]
    assert answer.headers["cache-control"] == "no-store"
    (entry,) = Record(folder).entries()[before:]
    kept = Record(folder).pdf_of(entry)
    assert "Testperson" not in " ".join(normalised_page_texts(kept))
    for path in (tmp / "output").rglob("*"):
        if path.is_file():
            assert b"Testperson" not in path.read_bytes(), path


def test_a_view_account_may_not_make_a_pack_from_a_list(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    password = "victor only views"
    accounts.save(
        users, {"victor": accounts.Account("victor", "view", accounts.hash_password(password))}
    )
    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "collection", content)
    settings = settings_for(tmp_path, content, access=Access(users_file=users), printers_ttl=3600)
    with TestClient(app.create_app(settings), base_url=STATION) as client:
        assert client.post("/fhir/pack", content=FIVE, headers=FHIR_JSON).status_code == 401
        assert infobutton(client, mainSearchCriteria_v_dn="Zorvatin").status_code == 303  # login
        login = {"name": "victor", "password": password}
        client.post("/login", data=login, headers={"origin": STATION})
        refused = client.post("/fhir/pack", content=FIVE, headers=FHIR_JSON)
        assert refused.status_code == 403 and "not make them from a list" in refused.text
        # Reading is enough for Infobutton.
        feed = infobutton(
            client,
            mainSearchCriteria_v_c="9900021",
            mainSearchCriteria_v_cs=RXNORM,
            knowledgeResponseType="application/json",
        )
        assert feed.status_code == 200 and len(feed.json()["feed"]["entry"]) == 1


# -- Infobutton ---------------------------------------------------------------------------------


def test_infobutton_json_lists_the_handout_pdf_in_the_requested_language(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    answer = infobutton(
        client,
        mainSearchCriteria_v_c="9900021",
        mainSearchCriteria_v_cs=RXNORM,
        mainSearchCriteria_v_dn="Zorvatin 20 MG Oral Tablet",
        informationRecipient="PAT",
        informationRecipient_languageCode_c="es",
        knowledgeResponseType="application/json",
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    feed = answer.json()["feed"]
    (entry,) = feed["entry"]
    assert entry["title"]["_value"] == "Zorvatina"
    assert entry["lang"] == "es"
    assert entry["link"][0] == {
        "href": f"{STATION}/drug/zorvatin.es.pdf",
        "rel": "alternate",
        "type": "application/pdf",
        "hreflang": "es",
    }
    assert "calmar un picor inventado" in entry["summary"]["_value"]
    assert {"scheme": "mainSearchCriteria.v.cs", "term": RXNORM} in feed["category"]
    assert (
        feed["title"]["_value"]
        == "Folletos para pacientes: Zorvatin 20 MG Oral Tablet (RxNorm 9900021)"
    )
    pdf = client.get(entry["link"][0]["href"].removeprefix(STATION))
    assert pdf.status_code == 200 and "Zorvatina" in normalised_page_texts(pdf.content)[0]


def test_infobutton_falls_back_to_the_original_where_no_translation_exists(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    feed = infobutton(
        client,
        mainSearchCriteria_v_dn="Klemorex 10 mg",
        informationRecipient_languageCode_c="fr",
        knowledgeResponseType="application/json",
    ).json()["feed"]
    (entry,) = feed["entry"]
    assert (entry["title"]["_value"], entry["lang"]) == ("Klémorex", "en")
    assert entry["link"][0]["href"] == f"{STATION}/drug/klemorex.pdf"


@pytest.mark.parametrize("kind", ["text/xml", "application/atom+xml"])
def test_infobutton_atom_feed(site: tuple[TestClient, Path], kind: str) -> None:
    client, _ = site
    answer = infobutton(
        client,
        mainSearchCriteria_v_c="BRU-5",
        mainSearchCriteria_v_cs="http://clinic.example/drugs",
        informationRecipient_languageCode_c="es",
        knowledgeResponseType=kind,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(answer.content)
    assert root.tag == f"{ATOM}feed" and root.get(XML_LANG) == "es"
    (entry,) = root.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Brunavel"
    assert entry.get(XML_LANG) == "en"  # no Spanish Brunavel: the original, and it says so
    links = {link.get("type"): link.get("href") for link in entry.findall(f"{ATOM}link")}
    assert links == {
        "application/pdf": f"{STATION}/drug/brunavel.pdf",
        "text/html": f"{STATION}/drug/brunavel",
    }


@pytest.mark.parametrize("kind", ["application/json", "text/xml"])
def test_infobutton_unknown_codes_answer_an_empty_feed(
    site: tuple[TestClient, Path], kind: str
) -> None:
    client, _ = site
    answer = infobutton(
        client, mainSearchCriteria_v_c="000000", mainSearchCriteria_v_cs=RXNORM,
        knowledgeResponseType=kind,
    )  # fmt: skip
    assert answer.status_code == 200
    if kind == "application/json":
        assert answer.json()["feed"]["entry"] == []
    else:
        assert ElementTree.fromstring(answer.content).findall(f"{ATOM}entry") == []
    for odd in (
        {},
        {"mainSearchCriteria.v.cs": "not an oid at all"},
        {"mainSearchCriteria.v.c": "x" * 5000},
    ):
        query = urlencode({**odd, "knowledgeResponseType": kind})
        assert client.get(f"/infobutton?{query}").status_code == 200


def test_infobutton_html_opens_the_drug_page_or_offers_a_choice(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    one = infobutton(
        client, mainSearchCriteria_v_dn="Zorvatin", informationRecipient_languageCode_c="es"
    )
    assert (one.status_code, one.headers["location"]) == (303, "/drug/zorvatin.es")
    assert client.get(one.headers["location"]).status_code == 200
    close = infobutton(
        client, mainSearchCriteria_v_dn="Pallidone", knowledgeResponseType="text/html"
    )
    assert close.status_code == 200
    assert "No leaflet in this collection matches this medicine" in close.text
    assert 'href="/drug/pallidone-quessar"' in close.text
    bad = infobutton(client, mainSearchCriteria_v_dn="Zorvatin", knowledgeResponseType="image/png")
    assert bad.status_code == 400 and "knowledgeResponseType" in bad.text


def test_infobutton_html_lists_several_drugs_that_share_a_code(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "collection", content)
    path = content / "klemorex.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: Klémorex\n", "title: Klémorex\ncodes: [rxnorm|9900021]\n"))
    with TestClient(app.create_app(settings_for(tmp_path, content)), base_url=STATION) as client:
        page = infobutton(client, mainSearchCriteria_v_c="9900021", mainSearchCriteria_v_cs=RXNORM)
        assert page.status_code == 200
        assert "Several leaflets match" in page.text
        assert 'href="/drug/klemorex"' in page.text and 'href="/drug/zorvatin"' in page.text
        feed = infobutton(
            client, mainSearchCriteria_v_c="9900021", mainSearchCriteria_v_cs=RXNORM,
            knowledgeResponseType="application/json",
        ).json()["feed"]  # fmt: skip
        assert sorted(e["title"]["_value"] for e in feed["entry"]) == ["Klémorex", "Zorvatin"]


def test_an_ehr_may_open_infobutton_from_another_site(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    navigation = {
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
    }
    opened = client.get(
        "/infobutton?mainSearchCriteria.v.dn=Zorvatin", headers=navigation, follow_redirects=False
    )
    assert opened.status_code == 303
    fetched = client.get(
        "/infobutton?mainSearchCriteria.v.dn=Zorvatin",
        headers={**navigation, "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"},
    )
    assert fetched.status_code == 403  # another site's script may not read it
