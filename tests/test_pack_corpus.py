"""The medication pack held against real leaflets: it must never falsely reassure.

Pairs a pharmacist would never let pass without a word each get one prompt
(what each leaflet actually says was read: Apixaban's and Rivaroxaban's speak
of "blood thinners" and "NSAIDs", Acenocoumarol's of "certain pain relievers"
only, Sertraline's and Sumatriptan's not of each other at all); a combination
that repeats an ingredient is a warning; unrelated medicines get no prompt, and
page 1 still says it is not an interaction check. Skipped without the corpus.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from card_checks import card_of, missing_names, odd_panels
from conftest import invoke_cli, normalised_page_texts

from medpdf.content import model, sources
from medpdf.products.pack import interactions

pytestmark = pytest.mark.corpus

NOT_A_CHECK = (
    "This list is not a check for interactions between medicines. Tell your pharmacist about "
    "every medicine you take, including those bought without a prescription and herbal products."
)


def load(corpus: Path, slug: str) -> model.Monograph:
    return model.build(sources.read(next(corpus.glob(f"*/{slug}.md"))))


@pytest.mark.parametrize(
    ("first", "second", "classes"),
    [
        ("apixaban", "aspirin", (("anticoagulant",), ("antiplatelet", "nsaid"))),
        ("rivaroxaban", "ibuprofen", (("anticoagulant",), ("nsaid",))),
        ("acenocoumarol", "aspirin", (("anticoagulant",), ("antiplatelet", "nsaid"))),
        ("clopidogrel", "aspirin", (("antiplatelet",), ("antiplatelet", "nsaid"))),
        ("sertraline", "sumatriptan", (("ssri",), ("triptan",))),
        ("lisinopril", "potassium-chloride", (("ace_inhibitor",), ("potassium",))),
        ("ramipril", "spironolactone", (("ace_inhibitor",), ("potassium_sparing",))),
    ],
)
def test_a_dangerous_pair_gets_exactly_one_prompt_naming_both_classes(
    corpus_dir: Path, first: str, second: str, classes: tuple[tuple[str, ...], ...]
) -> None:
    pack = [interactions.Medicine(load(corpus_dir, slug)) for slug in (first, second)]
    (prompt,) = interactions.findings(pack).prompts
    assert (prompt.first, prompt.second) == (0, 1)
    assert (prompt.first_classes, prompt.second_classes) == classes


def test_what_each_leaflet_says_is_where_it_says_it(corpus_dir: Path) -> None:
    pack = [interactions.Medicine(load(corpus_dir, s)) for s in ("rivaroxaban", "ibuprofen")]
    (prompt,) = interactions.findings(pack).prompts
    said = {(s.source, s.phrases, tuple(p.key for p in s.places)) for s in prompt.said}
    assert said == {(0, ("NSAIDs",), ("precautions",)), (1, ("blood thinners",), ("precautions",))}


def render(corpus: Path, folder: Path, *slugs: str) -> list[str]:
    content = folder / "content"
    content.mkdir(parents=True, exist_ok=True)
    for slug in slugs:
        shutil.copy(next(corpus.glob(f"*/{slug}.md")), content / f"{slug}.md")
    target = folder / "pack.pdf"
    result = invoke_cli("pack", "--content", str(content), *slugs, "-o", str(target))
    assert result.exit_code == 0, result.output
    return normalised_page_texts(target)


def test_the_printed_prompt_names_the_classes_once(corpus_dir: Path, tmp_path: Path) -> None:
    pages = render(corpus_dir, tmp_path, "sertraline", "sumatriptan")
    own = " ".join(pages[:2])
    assert own.count("Sertraline (an SSRI) and Sumatriptan (a triptan).") == 1
    assert "Ask your pharmacist about 1 pair of these medicines" in pages[0]


def test_paracetamol_twice_is_a_warning_above_the_schedule(
    corpus_dir: Path, tmp_path: Path
) -> None:
    first = render(corpus_dir, tmp_path, "paracetamol", "ibuprofen-paracetamol")[0]
    warning = (
        "Same active ingredient Both Paracetamol and Ibuprofen + Paracetamol contain "
        "paracetamol. Taking both can mean taking too much."
    )
    assert warning in first
    assert first.index(warning) < first.index("Medicine What it is for")


def test_three_unrelated_medicines_get_no_prompt_but_the_sentence(
    corpus_dir: Path, tmp_path: Path
) -> None:
    pages = render(corpus_dir, tmp_path, "metformin", "amlodipine", "lactulose")
    assert NOT_A_CHECK in pages[0]
    own = " ".join(pages[:2])
    assert "Ask your pharmacist about taking these medicines together" not in own
    assert "pair of these medicines" not in own and "Same active ingredient" not in own


@pytest.mark.parametrize("large_print", [False, True], ids=["a4", "large-print"])
def test_the_longest_titles_of_the_collection_are_never_cut_on_the_card(
    corpus_dir: Path, tmp_path: Path, large_print: bool
) -> None:
    """Twenty medicines with the collection's longest titles (short invented leaflets)."""
    titles: set[str] = set()
    for path in corpus_dir.glob("*/*.md"):
        for line in path.read_text(encoding="utf-8").splitlines()[:5]:
            if line.startswith("title:"):
                titles.add(line.removeprefix("title:").strip())
    longest = sorted(titles, key=lambda t: (-len(t), t))[:20]
    content = tmp_path / "content"
    content.mkdir()
    for number, title in enumerate(longest):
        (content / f"m{number:02}.md").write_text(
            f"---\ntitle: {title}\n---\n\n# {title}\n### Usage\nUsed for test {number}.\n",
            encoding="utf-8",
        )
    target = tmp_path / "pack.pdf"
    flags = ["--large-print"] if large_print else []
    names = [f"m{n:02}" for n in range(20)]
    result = invoke_cli("pack", "--content", str(content), *names, *flags, "-o", str(target))
    assert result.exit_code == 0, result.output
    card = card_of(target)
    assert missing_names(card, longest) == []
    if large_print:
        # A 265-character name at 12 pt is taller than a bank card: its panel grows.
        assert all(abs(width - 85.6) < 0.5 for width, _ in card.panels)
    else:
        assert odd_panels(card) == []
