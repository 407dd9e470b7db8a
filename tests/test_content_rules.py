# ruff: noqa: RUF001 (typographic apostrophes are what monographs write)
"""Content rules: text a clinic must never hand out (assistant voice, hypothetical products)
and medicines their text says are no longer made.

Every rule of ``medpdf/data/content_rules/en.toml`` is tried on invented sentences: what it
must find, and the near misses it must leave alone. Then the rules through ``check``, the
builds and the handout's banner. The corpus figures are in tests/test_corpus.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest
from conftest import MINIMAL, invoke_cli, normalise

from medpdf.content import content_rules, model, sources
from medpdf.content.content_rules import Kind, RulesError

EN = content_rules.rules_for("en")


def hits(text: str, *names: str) -> list[tuple[str, int]]:
    """(rule, line) of every hit in ``text`` for a monograph called ``names``."""
    return [(h.rule.name, h.line) for h in content_rules.find(text, names, EN)]


def rules_hit(text: str, *names: str) -> set[str]:
    return {rule for rule, _ in hits(text, *names)}


# --------------------------------------------------------------------------- the rules file


def test_the_english_rules_file_loads_with_every_rule_the_issue_asks_for():
    assert EN is not None
    by_name = {rule.name: rule for rule in EN.rules}
    assert {
        "assistant-refusal",
        "assistant-no-information",
        "assistant-apology",
        "assistant-self",
        "assistant-request",
        "hypothetical-product",
        "unrecognised-product",
        "discontinued",
    } <= set(by_name)
    assert by_name["assistant-refusal"].kind is Kind.NOT_A_LEAFLET
    assert by_name["hypothetical-product"].kind is Kind.NOT_A_LEAFLET
    assert by_name["discontinued"].kind is Kind.DISCONTINUED
    assert "en" in content_rules.languages()


def test_a_regional_tag_reads_its_language_file_and_other_languages_have_none():
    assert content_rules.rules_for("en-GB") is EN
    assert content_rules.rules_for("xx") is None
    assert content_rules.find("I cannot provide information on it.", (), None) == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[[rule]]\nname = "x"\nkind = "banned"\npatterns = ["a"]\n', "kind must be"),
        ('[[rule]]\nname = "x"\nkind = "discontinued"\npatterns = ["(unclosed"]\n', "pattern"),
        ('[[rule]]\nname = "x"\nkind = "discontinued"\npatterns = "not a list"\n', "list"),
        ("[[rule]]\nkind = 'discontinued'\n", "needs a name"),
        ("[[rule]\n", "invalid TOML"),
    ],
)
def test_a_bad_rules_file_is_one_clear_error(text: str, reason: str):
    with pytest.raises(RulesError, match=reason) as caught:
        content_rules.parse(text, "xx", Path("xx.toml"))
    assert "xx.toml" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("pattern", "needed"),
    [
        (r"\bhypothetical(?:ly)?\b", [{"hypothetical"}]),
        (r"\bI\s+apologi[sz]e\b", [{"apologi"}]),
        (r"\bno\s+longer\s+(?:made|sold|available)\b", [{"longer"}, {"made", "sold", "available"}]),
        (r"(?:now\s+)?discontinued", [{"discontinued"}]),  # an optional group needs nothing
        (r"\bfulfil+ed", [{"fulfi"}]),  # the repeated letter is not required twice
        (r"\bwithdrawn|removed", []),  # a top-level alternative: no word is certain
        (r"[\]abcd]+ longer", [{"longer"}]),  # letters inside a class are not words
        (r"\b(?:can[’']t|cannot)\s+help", [{"help"}]),  # a class in the group: skipped
    ],
)
def test_the_words_a_pattern_needs_are_read_conservatively(pattern: str, needed):
    assert [set(words) for words in content_rules.required_words(pattern.lower())] == needed


# --------------------------------------------------------------------------- not a leaflet

ASSISTANT_POSITIVES = [
    ("I cannot provide information on a combination of Zentorex and Quorvalin.", "refusal"),
    ("Please note: I cannot provide medical advice. The text below is general.", "refusal"),
    ("I'm unable to find a medicine with that composition.", "refusal"),
    ("I can’t give dosage figures for this mixture.", "refusal"),
    ("I am not a doctor, so ask one.", "refusal"),
    ("I don't have information on this product.", "no-information"),
    ("I do not have reliable data about Zentorex.", "no-information"),
    ("My knowledge cutoff prevents an answer.", "no-information"),
    ("I'm sorry, but that combination is unusual.", "apology"),
    ("I apologize for the confusion above.", "apology"),
    ("As an AI, I can only describe each part.", "self"),
    ("This is beyond my capabilities.", "self"),
    ("Instead, I will provide information on each drug individually.", "request"),
    ("Please provide the full name of the medicine you would like information on.", "request"),
    ("A summary in the requested format is not possible.", "request"),
    ("Your request names three identical drugs.", "request"),
]


@pytest.mark.parametrize(("text", "rule"), ASSISTANT_POSITIVES)
def test_text_in_an_assistants_voice_is_not_a_leaflet(text: str, rule: str):
    assert f"assistant-{rule}" in rules_hit(text, "Zentorex")


# A patient's own voice, and the medicine's text, use "I" too.
ASSISTANT_NEAR_MISSES = [
    "**Q: What if I can't swallow the capsules?** A: Mix them with soft food.",
    "**Q: What should I do if I have an allergic reaction?** A: Get help at once.",
    "**Q: How long will I need to take Zentorex?** A: Your doctor decides.",
    "**Q: Can I stop taking it if I don't have symptoms?** A: No.",
    "Patients should not stop taking it without advice.",
    "Do not take more than the prescribed dose; ask your doctor if you cannot sleep.",
    "Type I diabetes is not treated with Zentorex.",
    "The leaflet was written as requested by your pharmacist's guidance.",
]


@pytest.mark.parametrize("text", ASSISTANT_NEAR_MISSES)
def test_a_patients_first_person_is_not_an_assistant(text: str):
    assert not {r for r in rules_hit(text, "Zentorex") if r.startswith("assistant")}


@pytest.mark.parametrize(
    "text",
    [
        "This hypothetical combination targets two skin conditions.",
        "Melavinus (hypothetical) may cause drowsiness.",
        "Example dosage (hypothetical): one tablet a day.",
        "Zentorex is a fictional medication used here as an example.",
    ],
)
def test_a_self_described_hypothetical_product_is_not_a_leaflet(text: str):
    assert "hypothetical-product" in rules_hit(text, "Zentorex")


@pytest.mark.parametrize(
    "text",
    [
        "This combination is not a formally recognized pharmaceutical product.",
        "Quorvalin is not a real or recognized medication.",
        "Providing information on a non-existent combination would be misleading.",
        "There is no dosage as it doesn't exist as a single product.",
        "There is no established combination medication containing both drugs.",
        "Such a drug does not exist in standard medical practice.",
    ],
)
def test_a_product_said_not_to_exist_is_not_a_leaflet(text: str):
    assert "unrecognised-product" in rules_hit(text, "Quorvalin")


@pytest.mark.parametrize(
    "text",
    [
        # A question or a risk that is hypothetical, not the product.
        "Since it is no longer sold, this question is largely hypothetical.",
        "There is a hypothetical risk of harm to an unborn baby.",
        # A combination prescribed separately is still two real medicines.
        "This combination is not a standard, pre-mixed formulation; each is taken alone.",
        # Not a recognised *term*, nor a missed dose that cannot exist.
        "Stabilized Oxychloro is not a recognized pharmaceutical term.",
        "It is taken only when needed, so there is no such thing as a missed dose.",
        "Its use in children is nonexistent.",
    ],
)
def test_near_misses_of_an_unreal_product_are_left_alone(text: str):
    assert not rules_hit(text, "Quorvalin") & {"hypothetical-product", "unrecognised-product"}


# --------------------------------------------------------------------------- discontinued


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Importantly, Zentorex is no longer manufactured or available.", ("Zentorex",)),
        ("Dosage is unknown as the drug is no longer produced.", ("Zentorex",)),
        ("**Q: Why is Zentorex no longer available?**", ("Zentorex",)),
        ("It's crucial to know that **zentorex is no longer available on the market**.", ()),
        ("Zentorex (Zentrix) was withdrawn from the market in 2004.", ("Zentorex",)),
        ("Zentorex tablets have been withdrawn from the U.S. market.", ("Zentorex",)),
        ("Due to Zentorex's discontinuation, little is known.", ("Zentorex",)),
        ("Production of Zentorex was discontinued in 2019.", ("Zentorex",)),
        ("In the US, this medication was discontinued in July 2016.", ("Zentorex",)),
        ("Quorvalin has been withdrawn from the market.", ("Zentorex + Quorvalin",)),
        ("Niridazole is no longer used.", ("Niridazole",)),
    ],
)
def test_a_medicine_no_longer_made_is_discontinued(text: str, names: tuple[str, ...]):
    titles = names or ("Zentorex",)
    found = rules_hit(text, *titles, *(c for t in titles for c in model.components_of(t)))
    assert found == {"discontinued"}


@pytest.mark.parametrize(
    "text",
    [
        # Decided: the medicine is still made, so no banner saying it is not.
        "The Zentrix brand was withdrawn but generics are available.",
        "Zentorex is no longer available over the counter; ask for a prescription.",
        "Zentorex is still available in Japan, though it was withdrawn from the US market.",
        # Stopping a course of treatment.
        "Hair loss may return once it is discontinued.",
        "Zentorex should be withdrawn gradually under supervision.",
        "Its discontinuation should always be gradual.",
        "Breastfeeding should be discontinued during treatment.",
        "Symptoms settle once the medicine is no longer needed.",
        # Another medicine, one use or one form of this one.
        "Terfenadine (withdrawn) was once used alongside it.",
        "Thimerosal is no longer used in many childhood vaccines.",
        "IV zentorex is no longer used.",
        "The oral form has been withdrawn from the market.",
    ],
)
def test_near_misses_of_discontinued_are_left_alone(text: str):
    assert "discontinued" not in rules_hit(text, "Zentorex", "Thimerosal")


def test_each_hit_has_the_line_of_the_file():
    text = "# Zentorex\n\n### Usage\nIt works.\n\n### FAQs\nZentorex is no longer made.\n"
    assert hits(text, "Zentorex") == [("discontinued", 7)]
    assert [(r, n + 9) for r, n in hits(text, "Zentorex")] == [
        (h.rule.name, h.line) for h in content_rules.find(text, ["Zentorex"], EN, first_line=10)
    ]


def test_one_phrase_matched_by_two_patterns_is_one_hit():
    assert hits("Zentorex has been discontinued.", "Zentorex") == [("discontinued", 1)]


# --------------------------------------------------------------------------- check

REFUSAL = MINIMAL.format(title="Zentorex + Quorvalin").replace(
    "Zentorex + Quorvalin treats an imaginary condition.",
    "I cannot provide information on a combination of Zentorex and Quorvalin as a single "
    "medication.",
)
HYPOTHETICAL = MINIMAL.format(title="Melavinus").replace(
    "Melavinus treats an imaginary condition.", "Melavinus (hypothetical) lowers blood pressure."
)
DISCONTINUED = MINIMAL.format(title="Pellorin").replace(
    "Pellorin treats an imaginary condition.",
    "Pellorin treated an imaginary condition. Importantly, Pellorin is no longer manufactured.",
)


@pytest.fixture
def collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    content = tmp_path / "content"
    content.mkdir()
    (content / "zentorex-quorvalin.md").write_text(REFUSAL, encoding="utf-8")
    (content / "melavinus.md").write_text(HYPOTHETICAL, encoding="utf-8")
    (content / "pellorin.md").write_text(DISCONTINUED, encoding="utf-8")
    (content / "lorvane.md").write_text(MINIMAL.format(title="Lorvane"), encoding="utf-8")
    return content


def line_of(path: Path, phrase: str) -> int:
    return next(n for n, line in enumerate(path.read_text().split("\n"), 1) if phrase in line)


def test_check_reports_each_kind_with_its_file_line_and_rule(collection: Path):
    result = invoke_cli("check")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    refusal_line = line_of(collection / "zentorex-quorvalin.md", "I cannot provide")
    assert [line for line in out if "zentorex-quorvalin" in line] == [
        f"content/zentorex-quorvalin.md:{refusal_line}: error: not a leaflet "
        "[assistant-refusal]: speaks as an assistant refusing or unable to answer, not about "
        "the medicine (“I cannot provide”); left out of every build and the station"
    ]
    [melavinus] = [line for line in out if "melavinus" in line]
    assert melavinus.startswith(
        f"content/melavinus.md:{line_of(collection / 'melavinus.md', '(hypothetical)')}: "
        "error: not a leaflet [hypothetical-product]: "
    )
    [pellorin] = [line for line in out if "pellorin" in line]
    assert pellorin.startswith(
        f"content/pellorin.md:{line_of(collection / 'pellorin.md', 'no longer')}: "
        "warning: discontinued [discontinued]: "
    )
    assert "(“Pellorin is no longer manufactured”)" in pellorin
    assert not [line for line in out if "lorvane" in line]
    assert result.stderr.splitlines()[-1] == "checked 4 monographs: 2 errors, 1 warnings"


def test_check_report_lists_every_flagged_monograph(collection: Path):
    result = invoke_cli("check", "--report")
    report = result.stdout[result.stdout.index("content rules (") :]
    assert "  not a leaflet: 2 monographs (left out of every build and the station)" in report
    assert "    assistant-refusal            1" in report
    assert "    hypothetical-product         1" in report
    assert "  discontinued: 1 monographs (a banner on the handout's page 1)" in report
    listed = re.findall(r"^  (content/\S+\.md):\d+  (\S+)  “", report, re.MULTILINE)
    assert listed == [
        ("content/melavinus.md", "hypothetical-product"),
        ("content/zentorex-quorvalin.md", "assistant-refusal"),
        ("content/pellorin.md", "discontinued"),
    ]


def test_handouts_leave_out_what_is_not_a_leaflet_and_say_why(collection: Path):
    result = invoke_cli("handouts", "-j", "1")
    assert result.exit_code == 1
    built = sorted(p.name for p in (collection.parent / "output" / "handouts").glob("*.pdf"))
    assert built == ["lorvane.pdf", "pellorin.pdf"]
    assert "content/zentorex-quorvalin.md:" in result.stdout
    assert "error: not a leaflet [assistant-refusal]" in result.stdout
    assert "left out: content/melavinus.md, content/zentorex-quorvalin.md" in result.stderr


def test_one_handout_of_what_is_not_a_leaflet_is_refused_in_one_line(collection: Path):
    result = invoke_cli("handout", "melavinus")
    assert result.exit_code == 1
    assert result.stderr.startswith("content/melavinus.md:")
    assert "error: not a leaflet [hypothetical-product]" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (collection.parent / "output" / "handouts" / "melavinus.pdf").exists()


BANNER = "This medicine is no longer made. Ask your pharmacist before using any you still have."


def page_texts(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [normalise(page.extract_text() or "") for page in pdf.pages]


def test_a_discontinued_handout_says_so_on_page_1_and_only_there(collection: Path):
    assert invoke_cli("handout", "pellorin", "-o", "pellorin.pdf").exit_code == 0
    assert invoke_cli("handout", "lorvane", "-o", "lorvane.pdf").exit_code == 0
    pages = page_texts(collection.parent / "pellorin.pdf")
    assert BANNER in pages[0]
    assert pages[0].index("Pellorin") < pages[0].index(BANNER)  # under the title
    assert not [page for page in pages[1:] if "no longer made" in page]
    assert not [page for page in page_texts(collection.parent / "lorvane.pdf") if BANNER in page]


def test_a_spanish_monograph_is_read_by_the_spanish_rules_and_its_banner_is_spanish(
    collection: Path,
):
    spanish = MINIMAL.format(title="Pellorina").replace(
        "title: Pellorina", "title: Pellorina\nlang: es"
    )
    spanish = spanish.replace(
        "Pellorina treats an imaginary condition.", "Pellorina ya no se fabrica desde 2010."
    )
    (collection / "pellorina.md").write_text(spanish, encoding="utf-8")
    result = invoke_cli("check")
    [line] = [line for line in result.stdout.splitlines() if "pellorina.md" in line]
    assert "warning: discontinued [retirado]: " in line
    assert invoke_cli("handout", "pellorina", "-o", "es.pdf").exit_code == 0
    first = page_texts(collection.parent / "es.pdf")[0]
    assert "Este medicamento ya no se fabrica. Consulte a su farmacéutico" in first
    assert BANNER not in first


@pytest.mark.slow
def test_the_booklet_leaves_out_what_is_not_a_leaflet_and_notes_what_is_discontinued(
    collection: Path,
):
    result = invoke_cli("booklet", "-j", "1")
    assert result.exit_code == 1
    assert "booklet: 2 monographs" in result.stderr
    text = " ".join(page_texts(collection.parent / "output" / "booklet.pdf"))
    assert "Note: this monograph says the medicine is no longer made or was withdrawn." in text
    assert text.count("no longer made or was withdrawn") == 1  # Pellorin's entry only
    assert "Melavinus" not in text
    assert "Zentorex" not in text


def test_check_and_the_banner_read_a_monograph_the_same_way(collection: Path):
    for path in sorted(collection.glob("*.md")):
        source = sources.read(path)
        mono = model.build(source)
        in_check = {h.kind for h in content_rules.source_hits(source.text, mono, "en")}
        in_render = {h.kind for h in content_rules.monograph_hits(mono, "en")}
        assert in_check == in_render, path.name


def test_the_rules_files_live_inside_the_package_so_the_wheel_ships_them():
    import medpdf

    package = Path(medpdf.__file__).resolve().parent
    assert content_rules.RULES_DIR.is_relative_to(package)
    assert sorted(p.name for p in content_rules.RULES_DIR.glob("*.toml")) == [
        "en.toml",
        "es.toml",
        "fr.toml",
    ]
