"""What a medicine is for: the use, not the definition, in plain words, never cut mid-phrase."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import invoke_cli, write_monograph

from medpdf.content import model, sources
from medpdf.errors import SourceError
from medpdf.products.pack import purposes
from medpdf.products.pack.purposes import Source


def invented(usage: str, title: str = "Zorvatin", front: str = "") -> model.Monograph:
    text = f"---\ntitle: {title}\n{front}---\n\n# {title}\n### Usage\n{usage}\n"
    path = Path(f"/nonexistent/{title.lower()}.md")
    return model.build(sources.Source(path, path.name, path.stem, text, "0" * 64))


def found(usage: str, limit: int = purposes.PURPOSE_LIMIT, **kwargs: str) -> str:
    return purposes.purpose(invented(usage, **kwargs), limit)


# -- where it comes from ---------------------------------------------------------------------


def test_the_front_matter_purpose_wins_as_written() -> None:
    mono = invented("Zorvatin is used to treat itching.", front="purpose: For itchy elbows\n")
    assert purposes.purpose_of(mono) == purposes.Purpose("For itchy elbows", Source.FIELD)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * 91, "front matter 'purpose' is at most 90 characters, not 91"),
        ("[1, 2]", "front matter 'purpose' must be text"),
        ('"  "', "front matter 'purpose' is empty"),
    ],
)
def test_a_bad_purpose_field_is_one_line_naming_the_file_and_line(value: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        invented("Used for itching.", front=f"lang: en\npurpose: {value}\n")
    line = caught.value.diagnostic.format()
    assert line.startswith("zorvatin.md:4: error: ") and message in line
    assert "\n" not in line


def test_check_reports_a_bad_purpose_field(tmp_path: Path) -> None:
    write_monograph(tmp_path, "zorvatin", f"---\ntitle: Z\npurpose: {'y' * 95}\n---\n# Z\nText.\n")
    result = invoke_cli("check", "--content", str(tmp_path))
    assert result.exit_code == 1
    assert "zorvatin.md:3: error: front matter 'purpose' is at most 90 characters" in result.output


def test_a_definition_alone_is_not_a_purpose() -> None:
    mono = invented("Zorvatin is a cardiac glycoside derived from an invented plant.")
    assert purposes.purpose_of(mono) == purposes.Purpose("", Source.FALLBACK)


# -- the use, not the definition ---------------------------------------------------------


CASES = [
    ("An invented remedy used to treat itching of the elbows.", "To treat itching of the elbows"),
    (
        "Zorvatin is primarily prescribed for the relief of invented aches.",
        "To relieve invented aches",
    ),
    (
        "Zorvatin is indicated for the treatment and prevention of invented clots.",
        "To treat and prevent invented clots",
    ),
    ("Zorvatin is used for an invented cough.", "For an invented cough"),
    (
        "Zorvatin is used in combination with diet to lower invented sugar.",
        "To lower invented sugar",
    ),
    ("It is used as an analgesic for the management of invented pain.", "To manage invented pain"),
    ("Zorvatin treats invented itching of the knees.", "To treat invented itching of the knees"),
    ("This combination medicine mainly relieves invented aches.", "To relieve invented aches"),
    ("Its primary use is in aiding invented digestion.", "To aid invented digestion"),
    ("It is used as an adjunct to diet in managing invented gout.", "To help manage invented gout"),
]


@pytest.mark.parametrize(("usage", "purpose"), CASES)
def test_the_use_is_found_and_said_as_a_use(usage: str, purpose: str) -> None:
    assert found(usage) == purpose


def test_a_definition_first_and_the_use_after_it() -> None:
    usage = (
        "Zorvatin is a nonsteroidal invented drug with multiple uses. "
        "Its primary use is to treat invented gout, a condition of the toes."
    )
    assert found(usage) == "To treat invented gout, a condition of the toes"


def test_the_uses_a_paragraph_lists() -> None:
    usage = (
        "Zorvatin is an invented thinner. Its primary uses are:\n\n"
        "* **Treatment and prevention of invented clots in the legs (DVT):** It treats them.\n"
        "* **Invented stroke prevention:** It lowers the risk.\n"
    )
    assert found(usage) == "To treat and prevent invented clots in the legs"


def test_a_use_it_should_not_be_put_to_is_not_its_purpose() -> None:
    usage = "Zorvatin should not be used to treat invented fever. It is used for invented gout."
    assert found(usage) == "For invented gout"


def test_medical_words_become_plain_words() -> None:
    usage = (
        "Zorvatin is used to improve glycemic control in adults with type 2 diabetes mellitus "
        "and hypertension."
    )
    assert found(usage) == (
        "To improve blood sugar control in adults with type 2 diabetes and high blood pressure"
    )
    assert found("Used to lower ocular hypertension.") == "To lower raised pressure in the eye"


# -- never cut mid-phrase ------------------------------------------------------------------


def test_a_long_use_is_shortened_at_a_clause_not_in_a_phrase() -> None:
    usage = "Used to treat high blood pressure in adults and children aged 6 years and older."
    assert (
        found(usage) == "To treat high blood pressure in adults and children aged 6 years and older"
    )
    assert found(usage, 70) == "To treat high blood pressure in adults and children"
    clause = (
        "Used to treat hypothyroidism, a condition where the gland does not make enough hormone."
    )
    assert found(clause, 50) == "To treat an underactive thyroid"


def test_a_long_use_without_a_clause_takes_a_third_line_rather_than_being_cut() -> None:
    usage = "Used to relieve invented swelling and redness of the left and right elbows and knees."
    result = found(usage, 60)
    assert (
        result == "To relieve invented swelling and redness of the left and right elbows and knees"
    )
    assert "…" not in result


def test_no_word_is_left_hanging_after_a_cut() -> None:
    usage = (
        "Used to treat invented reflux symptoms, particularly when accompanied by invented "
        "bloating of the stomach after meals."
    )
    assert found(usage, 40) == "To treat invented reflux symptoms"


# -- other languages -----------------------------------------------------------------------


def test_a_spanish_use_and_a_chinese_first_sentence() -> None:
    spanish = invented("Se usa para el dolor de cabeza y la fiebre.", front="lang: es\n")
    assert purposes.purpose(spanish) == "Para el dolor de cabeza y la fiebre"
    chinese = invented("用于头痛和发烧。", front="lang: zh-Hans\n")
    assert purposes.purpose(chinese) == "用于头痛和发烧"


# -- the collection -------------------------------------------------------------------------


def test_check_report_counts_where_purposes_come_from(tmp_path: Path) -> None:
    write_monograph(tmp_path, "a", "---\ntitle: A\npurpose: For itching\n---\n# A\n### Usage\nX.\n")
    write_monograph(tmp_path, "b", "---\ntitle: B\n---\n# B\n### Usage\nB is used for aches.\n")
    write_monograph(tmp_path, "c", "---\ntitle: C\n---\n# C\n### Usage\nC is a clay.\n")
    result = invoke_cli("check", "--content", str(tmp_path), "--report")
    assert '"What it is for" on the medication pack\'s page 1, of 3 monographs:' in result.output
    for count, source in [(1, Source.FIELD), (1, Source.EXTRACTED), (1, Source.FALLBACK)]:
        assert f"{count:>8} {source.value}" in result.output


@pytest.mark.corpus
def test_real_purposes_are_uses_or_nothing_and_never_cut_mid_word(corpus_dir: Path) -> None:
    every = sorted(corpus_dir.glob("*/*.md"))
    seed = 20261207
    sample = random.Random(seed).sample(every, 150)
    extracted = 0
    for path in sample:
        try:
            mono = model.build(sources.read(path))
        except SourceError:  # a broken monograph is check's business
            continue
        result = purposes.purpose_of(mono)
        assert "…" not in result.text, f"{path} (seed {seed}): {result.text!r}"
        if result.source is Source.EXTRACTED:
            extracted += 1
            assert result.text.split()[0] in {"To", "For", "As", "Against"}, f"{path}: {result}"
            assert len(result.text) <= purposes.PURPOSE_LIMIT * 1.45 or "," not in result.text
    assert extracted >= 0.85 * len(sample), f"seed {seed}"
