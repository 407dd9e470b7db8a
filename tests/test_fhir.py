"""Medication lists from the clinic's record system: FHIR R4 reading, times, matching, packs.

The Bundles are hand-written under tests/fixtures/fhir/ (there are no public test
bundles here), about the invented medicines of tests/fixtures/fhir/collection/.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pdfplumber
import pytest
from conftest import invoke_cli, normalise, normalised_page_texts
from private_cups import Cups
from waiting import PATIENCE

from medpdf.content import codes, model, sources
from medpdf.content import collection as catalog
from medpdf.ehr import fhir, matching, packing, timing
from medpdf.errors import ListedUsageError, UsageError
from medpdf.record.store import Record

FIXTURES = Path(__file__).parent / "fixtures" / "fhir"
COLLECTION = FIXTURES / "collection"
FIVE = FIXTURES / "five-medicines.json"
TIMES = ("morning", "noon", "evening", "bedtime")


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in a folder of their own: nothing lands in the working folder."""
    monkeypatch.chdir(tmp_path)


def read(name: str, with_patient: bool = False) -> fhir.MedicationList:
    return fhir.read_file(FIXTURES / name, with_patient)


@pytest.fixture(scope="module")
def index() -> matching.Index:
    return matching.Index.of(catalog.scan(COLLECTION).entries)


def by_name(listed: fhir.MedicationList) -> dict[str, fhir.Medication]:
    return {m.name: m for m in listed.medications}


# -- reading ----------------------------------------------------------------------------------


def test_five_medicines_with_when_codes_are_read_with_times_doses_and_notes() -> None:
    listed = read("five-medicines.json")
    assert [m.label for m in listed.medications] == [
        "Brunavel 5 mg tablet",
        "Zorvatin 20 MG Oral Tablet",
        "Klemorex 10 mg tablet",
        "Pallidone + Quessar 5 mg / 10 mg",
        "Tessaline 250 mg tablet",
    ]
    found = {m.name: (m.times, m.dose, m.note, m.schedule.meal) for m in listed.medications}
    assert found == {
        "Brunavel 5 mg tablet": (("morning",), "1 tablet", "Swallow it whole", "with"),
        "Zorvatin 20 MG Oral Tablet": (("morning", "evening"), "1 tablet", "", None),
        "Klemorex 10 mg tablet": (("bedtime",), "1 tablet", "With a glass of water", None),
        "Pallidone + Quessar": (("noon",), "1 capsule", "", None),
        "Tessaline 250 mg tablet": (("morning", "evening"), "2 tablets", "", "before"),
    }
    assert listed.patient is None  # not asked for: not read
    assert listed.left_out == ()


def test_codes_ingredients_and_strengths_come_from_contained_and_bundle_medications() -> None:
    found = by_name(read("five-medicines.json"))
    assert found["Zorvatin 20 MG Oral Tablet"].codes == (codes.Code("rxnorm", "9900021"),)
    assert found["Brunavel 5 mg tablet"].codes == (
        codes.Code("http://clinic.example/drugs", "BRU-5"),
    )
    klemorex = found["Klemorex 10 mg tablet"]  # a contained Medication (#med-klemorex)
    assert (klemorex.ingredient_names, klemorex.strength) == (("Klemorex",), "10 mg")
    combination = found["Pallidone + Quessar"]  # Medication/med-pq, an entry of the Bundle
    assert combination.ingredient_names == ("Pallidone", "Quessar")
    assert combination.strength == "5 mg / 10 mg"
    assert combination.source == "entry 6 (MedicationRequest/mr-pq)"


def test_the_patient_is_read_only_when_asked_for() -> None:
    listed = read("five-medicines.json", with_patient=True)
    assert listed.patient == fhir.Patient("Alma Ruth Testperson", dt.date(1948, 3, 9))


def test_time_of_day_twice_daily_and_timing_codes_give_the_schedule_times() -> None:
    by_clock = {m.name: m.times for m in read("time-of-day.json").medications}
    assert by_clock == {
        "Zorvatin 20 mg tablet": ("morning", "evening"),  # 08:00 and 19:30
        "Klemorex": ("bedtime",),  # 22:30
        "Tessaline": ("noon",),  # 12:30
    }
    (twice,) = read("twice-daily.json").medications  # a single MedicationRequest
    assert (twice.times, twice.source) == (("morning", "evening"), "MedicationRequest/mr-twice")
    coded = by_name(read("as-needed.json"))["Zorvatin"]  # timing.code BID
    assert coded.times == ("morning", "evening")


def test_when_needed_is_marked_with_its_reason_and_ticks_nothing() -> None:
    medicine = by_name(read("as-needed.json"))["Klemorex 10 mg tablet"]
    assert (medicine.as_needed, medicine.as_needed_for) == (True, "knee pain")
    assert medicine.times == ()
    assert medicine.note == "At most 3 tablets a day"


def test_stopped_cancelled_and_do_not_perform_are_left_out_and_named() -> None:
    listed = read("stopped.json")
    assert [m.name for m in listed.medications] == ["Zorvatin 20 mg tablet"]
    assert listed.left_out == (
        "Klemorex 10 mg tablet (stopped)",
        "Tessaline 250 mg tablet (entered-in-error)",
        "Brunavel 5 mg tablet (do not perform)",
    )


def test_a_malformed_bundle_is_one_line_naming_the_entry_and_the_field() -> None:
    with pytest.raises(fhir.BundleError) as caught:
        read("malformed.json")
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith(
        f"{FIXTURES / 'malformed.json'}: entry 2 (MedicationRequest/mr-klemorex): "
        "dosageInstruction[0].timing.repeat.frequency: "
    )
    assert "valid integer" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"resourceType": "Bundle", "entry": [', "1: not valid JSON"),
        ("[1, 2]", "not a FHIR resource (no resourceType)"),
        ('{"resourceType": "Patient", "id": "p"}', "holds no MedicationRequest"),
        ("\n" * 3 + "[" * 100 + "]" * 100, "4: nested more than 40 levels deep"),
        ('{"resourceType": "Bundle", "entry": {}}', "Bundle.entry must be a list"),
        (
            '{"resourceType": "MedicationRequest", "status": "active", "intent": "order",'
            ' "subject": {"reference": "Patient/p"},'
            ' "medicationReference": {"reference": "Medication/gone"}}',
            "medicationReference 'Medication/gone' is not in the file",
        ),
        (
            '{"resourceType": "MedicationRequest", "status": "active", "intent": "order",'
            ' "subject": {"reference": "Patient/p"}, "medicationCodeableConcept": {"text": "X"},'
            ' "dosageInstruction": [{"timing": {"repeat": {"when": ["LUNCHISH"]}}}]}',
            "dosageInstruction[0].timing.repeat.when[0]: 'LUNCHISH' is not an EventTiming code",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "list.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(fhir.BundleError) as caught:
        fhir.read_file(path)
    assert caught.value.message.startswith(str(path))
    assert expected in caught.value.message
    assert "\n" not in caught.value.message


def test_too_many_entries_are_refused_before_any_is_validated(tmp_path: Path) -> None:
    entry = {"resource": {"resourceType": "Observation", "id": "o"}}
    bundle = {"resourceType": "Bundle", "entry": [entry] * (fhir.MAX_ENTRIES + 1)}
    path = tmp_path / "crowded.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(fhir.BundleError, match=f"{fhir.MAX_ENTRIES + 1} entries"):
        fhir.read_file(path)


def test_a_50_mb_bundle_is_refused_from_its_size_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.json"
    with path.open("w", encoding="utf-8") as out:
        out.write('{"resourceType": "Bundle", "type": "collection", "entry": [')
        line = json.dumps({"resource": json.loads(FIVE.read_text())["entry"][1]["resource"]})
        while out.tell() < 50 * 1024 * 1024:
            out.write(line + ",")
        out.write(line + "]}")
    assert path.stat().st_size >= 50 * 1024 * 1024
    fhir.read_file(FIVE)  # the FHIR models imported: what follows measures reading only
    small_started = time.process_time()
    fhir.read_file(FIVE)
    small = time.process_time() - small_started

    def never(self: Path) -> bytes:
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", never)
    started = time.process_time()
    with pytest.raises(fhir.TooLarge) as caught:
        fhir.read_file(path)
    spent = time.process_time() - started
    assert caught.value.message == (
        f"{path}: {path.stat().st_size} bytes; a medication list is at most "
        f"{fhir.MAX_BYTES} bytes (export the patient's medications only)"
    )
    # A stat against parsing and validating a 3 kB list, in CPU time of this process.
    assert spent < small, (spent, small)


def test_ndjson_reads_one_resource_a_line(tmp_path: Path) -> None:
    resources = [e["resource"] for e in json.loads(FIVE.read_text())["entry"]]
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in resources) + "\n", encoding="utf-8")
    listed = fhir.read_file(path)
    assert len(listed.medications) == 5
    assert listed.medications[0].source == "line 2 (MedicationRequest/mr-brunavel)"


def test_a_request_and_a_statement_of_one_product_become_one_medicine(tmp_path: Path) -> None:
    common = {"subject": {"reference": "Patient/p"}, "medicationCodeableConcept": {"text": "Zorv"}}
    morning = {"timing": {"repeat": {"when": ["MORN"]}}, "text": "5 mg"}
    evening = {"timing": {"repeat": {"when": ["EVE"]}}, "text": "2.5 mg"}
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "MedicationRequest", "id": "a", "status": "active",
                          "intent": "order", **common, "dosageInstruction": [morning]}},
            {"resource": {"resourceType": "MedicationStatement", "id": "b", "status": "active",
                          **common, "dosage": [evening]}},
        ],
    }  # fmt: skip
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    (medicine,) = fhir.read_file(path).medications
    assert (medicine.times, medicine.dose) == (("morning", "evening"), "5 mg; 2.5 mg")


# -- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repeat", "times", "daily"),
    [
        ({"when": ["WAKE", "HS"]}, ("morning", "bedtime"), True),
        ({"when": ["CV"]}, ("evening",), True),
        ({"when": ["AC"], "frequency": 2, "period": 1, "periodUnit": "d"}, ("morning", "evening"),
         True),
        ({"when": ["PC"]}, ("morning", "noon", "evening"), True),
        ({"frequency": 1, "period": 1, "periodUnit": "d"}, ("morning",), True),
        ({"frequency": 3, "period": 1, "periodUnit": "d"}, ("morning", "noon", "evening"), True),
        ({"frequency": 1, "period": 6, "periodUnit": "h"}, TIMES, True),
        ({"frequency": 1, "period": 4, "periodUnit": "h"}, (), True),
        ({"frequency": 1, "period": 1, "periodUnit": "wk", "when": ["MORN"]}, (), False),
        ({"frequency": 1, "period": 2, "periodUnit": "d"}, (), False),
    ],
)  # fmt: skip
def test_timing_repeat_maps_onto_the_four_times(
    repeat: dict[str, object], times: tuple[str, ...], daily: bool
) -> None:
    from fhir.resources.R4B.dosage import Dosage

    schedule = timing.schedule_of(Dosage.model_validate({"timing": {"repeat": repeat}}))
    assert (schedule.times, schedule.daily) == (times, daily)


@pytest.mark.parametrize(
    ("text", "times", "daily"),
    [
        ("1 tablet twice daily", ("morning", "evening"), True),
        ("Take one tablet three times a day", ("morning", "noon", "evening"), True),
        ("2 puffs at bedtime", ("bedtime",), True),
        ("one in the morning and one at night", ("morning", "bedtime"), True),
        ("10 mg once weekly", (), False),
        ("as directed", (), True),
        ("tidy up", (), True),
    ],
)
def test_dosage_text_alone_gives_times_in_english(
    text: str, times: tuple[str, ...], daily: bool
) -> None:
    from fhir.resources.R4B.dosage import Dosage

    schedule = timing.schedule_of(Dosage.model_validate({"text": text}))
    assert (schedule.times, schedule.daily) == (times, daily)


# -- matching -----------------------------------------------------------------------------------


def test_codes_in_front_matter_are_read_and_a_bad_one_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "drug.md"
    path.write_text(
        "---\ntitle: Drug\ncodes:\n  - rxnorm|123\n  - {system: 'urn:oid:2.16.840.1.113883.6.73',"
        " code: A01}\n  - nonsense\n---\n\n# Drug\nText.\n",
        encoding="utf-8",
    )
    monograph = model.build(sources.read(path))
    assert monograph.codes == (codes.Code("rxnorm", "123"), codes.Code("atc", "A01"))
    (warning,) = [w for w in monograph.warnings if "codes" in w.message]
    assert warning.line == 3
    assert "item 3 ('nonsense'): is not SYSTEM|CODE; ignored" in warning.message


def test_a_code_the_collection_knows_finds_its_monograph_whatever_the_name(
    index: matching.Index,
) -> None:
    (medicine,) = read("known-code.json").medications
    assert medicine.name == "ZV 20 MG Oral Tablet"  # a name that matches nothing
    assert index.match(matching.Query.of(medicine)) == matching.Found(
        "zorvatin", "Zorvatin", "code"
    )


def test_names_match_without_strength_form_salt_or_accents(index: matching.Index) -> None:
    for name in ("Klemorex HCl 10 mg tablet", "KLÉMOREX", "klemorex hydrochloride"):
        assert index.match(matching.Query(name)) == matching.Found("klemorex", "Klémorex", "name")
    combination = matching.Query("Combo", ingredients=("Quessar", "Pallidone maleate"))
    assert index.match(combination) == matching.Found(
        "pallidone-quessar", "Pallidone + Quessar", "name"
    )
    # A translation's title stands for its drug.
    translated = index.match(matching.Query("Zorvatina 20 mg"))
    assert isinstance(translated, matching.Found) and translated.slug == "zorvatin"


def test_a_weak_match_is_never_chosen_and_an_unknown_medicine_has_no_leaflet(
    index: matching.Index,
) -> None:
    weak = index.match(matching.Query("Pallidone 5 mg"))
    assert weak == matching.Unsure(
        (matching.Candidate("pallidone-quessar", "Pallidone + Quessar"),), ambiguous=False
    )
    assert index.match(matching.Query("Dapagliflozin 10 mg")) == matching.NoLeaflet()


def test_two_monographs_with_one_code_are_ambiguous(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(COLLECTION, content)
    text = (content / "klemorex.md").read_text(encoding="utf-8")
    (content / "klemorex.md").write_text(
        text.replace("title: Klémorex\n", "title: Klémorex\ncodes: [rxnorm|9900021]\n"),
        encoding="utf-8",
    )
    index = matching.Index.of(catalog.scan(content).entries)
    outcome = index.match(matching.Query("anything", (codes.Code("rxnorm", "9900021"),)))
    assert isinstance(outcome, matching.Unsure) and outcome.ambiguous
    assert [c.slug for c in outcome.candidates] == ["klemorex", "zorvatin"]


def test_unsure_medicines_are_listed_with_candidates_and_picks_settle_them(
    tmp_path: Path, index: matching.Index
) -> None:
    path = tmp_path / "weak.json"
    path.write_text(
        json.dumps(
            {
                "resourceType": "MedicationRequest",
                "id": "mr-p",
                "status": "active",
                "intent": "order",
                "subject": {"reference": "Patient/p"},
                "medicationCodeableConcept": {"text": "Pallidone 5 mg"},
            }
        ),
        encoding="utf-8",
    )
    listed = fhir.read_file(path)
    with pytest.raises(ListedUsageError) as caught:
        matching.match_list(listed.medications, index, {}, str(path))
    (line,) = caught.value.diagnostics
    assert line.format() == (
        f"{path}: error: MedicationRequest/mr-p 'Pallidone 5 mg': no monograph matches for sure "
        "(pallidone-quessar (Pallidone + Quessar)); choose one with --fhir-pick "
        '"Pallidone 5 mg=SLUG", or "Pallidone 5 mg=none" for no leaflet'
    )
    picked = matching.parse_picks(["pallidone 5 mg=pallidone-quessar"])
    (chosen,) = matching.match_list(listed.medications, index, picked, str(path))
    assert (chosen.slug, chosen.how) == ("pallidone-quessar", "picked")
    (none,) = matching.match_list(listed.medications, index, {"pallidone 5 mg": "none"}, "x")
    assert none.slug is None
    with pytest.raises(UsageError, match="not a medicine of the list"):
        matching.match_list(listed.medications, index, {"aspirin": "zorvatin"}, "x")
    with pytest.raises(UsageError, match="no monograph 'nope'"):
        matching.match_list(listed.medications, index, {"pallidone 5 mg": "nope"}, "x")


@pytest.mark.corpus
def test_matching_the_real_collection_by_name(corpus_dir: Path) -> None:
    index = matching.Index.of(catalog.scan(corpus_dir).entries)
    for name, slug in (
        ("metformin hydrochloride 500 MG Oral Tablet", "metformin"),
        ("insulin glargine 100 UNT/ML Injectable Solution", "insulin-glargine"),
        (
            "sitagliptin 50 MG / metformin hydrochloride 1000 MG Oral Tablet",
            "sitagliptin-metformin",
        ),
    ):
        found = index.match(matching.Query(name))
        assert isinstance(found, matching.Found) and found.slug == slug, (name, found)
    several = index.match(matching.Query("Fluticasone"))
    assert isinstance(several, matching.Unsure) and several.ambiguous


# -- the pack ---------------------------------------------------------------------------------


def schedule_ticks(path: Path) -> dict[str, list[str]]:
    """Page 1's schedule: each row's medicine and its four boxes."""
    with pdfplumber.open(path) as pdf:
        tables = pdf.pages[0].extract_tables()
    # The schedule, not the wallet card (whose columns are M, N, E, B).
    (schedule,) = [t for t in tables if t[0][-4:] == ["Morning", "Noon", "Evening", "Bedtime"]]
    _, *rows = schedule
    return {first_words(normalise(row[0])): [cell.strip() for cell in row[-4:]] for row in rows}


NAMES = ("Brunavel", "Zorvatin", "Klémorex", "Pallidone + Quessar", "Tessaline", "Dapagliflozin")


def first_words(cell: str) -> str:
    """The medicine's name at the start of its cell (a dose or note may follow on the page)."""
    return next((name for name in NAMES if cell.startswith(name)), cell)


@pytest.fixture(scope="module")
def fhir_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    target = tmp_path_factory.mktemp("fhir-pack") / "five.pdf"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(target.parent)
        result = invoke_cli(
            "pack", "--fhir", str(FIVE), "--content", str(COLLECTION), "-o", str(target)
        )
    assert result.exit_code == 0, result.output
    return target, result.output


def test_the_pack_of_five_medicines_has_the_schedule_of_the_same_take_flags(
    fhir_pack: tuple[Path, str], tmp_path: Path
) -> None:
    target, output = fhir_pack
    assert "5 medicines: Brunavel, Zorvatin, Klémorex, Pallidone + Quessar, Tessaline;" in output
    by_hand = tmp_path / "take.pdf"
    result = invoke_cli(
        "pack", "brunavel", "zorvatin", "klemorex", "pallidone-quessar", "tessaline",
        "--take", "brunavel=morning", "--take", "zorvatin=morning,evening",
        "--take", "klemorex=bedtime", "--take", "pallidone-quessar=noon",
        "--take", "tessaline=morning,evening",
        "--content", str(COLLECTION), "-o", str(by_hand),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert schedule_ticks(target) == schedule_ticks(by_hand)
    assert schedule_ticks(target)["Brunavel"] == ["✓", "", "", ""]

    # The leaflets after the pack's own pages (the schedule; the wallet card, which shows
    # the record's doses) are the same pages.
    def leaflets(pages: list[str]) -> list[str]:
        return pages[next(i for i, text in enumerate(pages) if "Leaflet page 1 of" in text) :]

    assert leaflets(normalised_page_texts(target)) == leaflets(normalised_page_texts(by_hand))


def test_page_one_shows_doses_meals_and_the_patients_instructions(
    fhir_pack: tuple[Path, str],
) -> None:
    first = normalised_page_texts(fhir_pack[0])[0]
    for words in (
        "Brunavel 1 tablet · 5 mg · with food Swallow it whole",
        "Klémorex 1 tablet · 10 mg With a glass of water",
        "Tessaline 2 tablets · 250 mg · before food",
        "Pallidone + Quessar 1 capsule · 5 mg / 10 mg",
    ):
        assert words in first
    assert "Patient name" in first and "Testperson" not in first


def test_a_medicine_without_a_leaflet_is_listed_on_page_one(tmp_path: Path) -> None:
    target = tmp_path / "unknown.pdf"
    result = invoke_cli(
        "pack", "--fhir", str(FIXTURES / "unknown-code.json"),
        "--content", str(COLLECTION), "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no leaflet for Dapagliflozin 10 mg: listed on page 1" in normalise(result.stderr)
    pages = normalised_page_texts(target)
    assert "No leaflet for Dapagliflozin 10 mg \u2013 ask your pharmacist" in pages[0]
    assert schedule_ticks(target)["Dapagliflozin"] == ["✓", "", "", ""]
    assert "Dapagliflozin" not in " ".join(pages[1:])  # no leaflet follows: none was made up
    assert not (tmp_path / "output").exists()  # nothing of the list is written anywhere else


def test_when_needed_is_printed_and_not_ticked(tmp_path: Path) -> None:
    target = tmp_path / "prn.pdf"
    result = invoke_cli(
        "pack", "--fhir", str(FIXTURES / "as-needed.json"),
        "--content", str(COLLECTION), "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Only when needed: knee pain" in normalised_page_texts(target)[0]
    assert schedule_ticks(target)["Klémorex"] == ["", "", "", ""]


def test_with_patient_prints_the_name_and_birth_date_in_the_packs_language(
    tmp_path: Path,
) -> None:
    target = tmp_path / "patient.pdf"
    result = invoke_cli(
        "pack", "--fhir", str(FIVE), "--with-patient",
        "--content", str(COLLECTION), "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    first = normalised_page_texts(target)[0]
    assert "Patient name Alma Ruth Testperson" in first
    assert "Date of birth March 9, 1948" in first


def test_bad_fhir_requests_are_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [
        (
            ["--fhir", str(FIXTURES / "malformed.json")],
            "dosageInstruction[0].timing.repeat.frequency",
        ),
        (["--fhir", str(tmp_path / "missing.json")], "cannot read the medication list"),
        (["--fhir", str(FIVE), "--from", str(FIVE)], "give one list of medicines, not two"),
        (["zorvatin", "--with-patient"], "go with --fhir FILE"),
        (["--fhir", str(FIVE), "--fhir-pick", "aspirin=zorvatin"], "not a medicine of the list"),
    ]
    for args, expected in cases:
        result = invoke_cli(
            "pack", *args, "--content", str(COLLECTION), "-o", str(tmp_path / "x.pdf")
        )
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (args, result.stderr)
    assert not (tmp_path / "x.pdf").exists()


def test_print_with_patient_prints_the_name_but_the_record_keeps_none_of_it(
    cups: Cups, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(COLLECTION, project / "content")
    done = subprocess.run(
        [sys.executable, "-m", "medpdf", "print", "--fhir", str(FIVE), "--with-patient",
         "--printer", cups.printer],
        cwd=project, env=cups.env, capture_output=True, text=True, timeout=PATIENCE, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip().rsplit(" ", 1)[-1]
    printed, _ = cups.wait_for_pdf(job)
    assert "Alma Ruth Testperson" in normalised_page_texts(printed)[0]
    record = Record(project / "output" / "record")
    (entry,) = record.entries()
    kept = record.pdf_of(entry)
    assert "Testperson" not in " ".join(normalised_page_texts(kept))
    assert "1948" not in " ".join(normalised_page_texts(kept))
    assert [d.slug for d in entry.drugs] == [
        "brunavel", "zorvatin", "klemorex", "pallidone-quessar", "tessaline",
    ]  # fmt: skip
    for path in (project / "output").rglob("*"):
        if path.is_file():
            assert b"Testperson" not in path.read_bytes(), path


def test_the_pack_request_of_a_list_merges_two_entries_of_one_drug(index: matching.Index) -> None:
    listed = read("five-medicines.json")
    matched = matching.match_list(listed.medications, index, {}, "five")
    twice = (*matched, matched[1])
    request = packing.pack_request(listed, twice)
    assert request.names == ("brunavel", "zorvatin", "klemorex", "pallidone-quessar", "tessaline")
    assert request.taking["zorvatin"].dose == "1 tablet · 20 MG"
