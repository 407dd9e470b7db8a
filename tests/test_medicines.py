"""What a medication pack's first page says: mentions, and the request it is made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from medpdf.content import model, sources
from medpdf.errors import ConfigError, UsageError
from medpdf.products.pack import medicines, packlist

FIXTURES = Path(__file__).parent / "fixtures" / "pack"


def monograph(slug: str) -> model.Monograph:
    return model.build(sources.read(FIXTURES / f"{slug}.md"))


def invented(title: str, body: str) -> model.Monograph:
    text = f"---\nlayout: minimal-medicine\ntitle: {title}\n---\n\n# {title}\n{body}\n"
    path = Path(f"/nonexistent/{title.lower().replace(' ', '-')}.md")
    return model.build(sources.Source(path, path.name, path.stem, text, "0" * 64))


# -- mentions --------------------------------------------------------------------------


def test_mentions_name_the_medicine_and_where_ignoring_case_and_accents() -> None:
    pack = [monograph("zorvatin"), monograph("klemorex"), monograph("pallidone-quessar")]
    found = {(m.source, m.target): [p.key for p in m.places] for m in medicines.mentions(pack)}
    assert found == {
        ("Zorvatin", "Klémorex"): ["how_it_works"],  # "KLÉMOREX"; "Klemorexine" is not it
        ("Zorvatin", "Pallidone + Quessar"): ["precautions"],  # a component of a combination
    }


def test_a_medicine_naming_itself_or_a_longer_word_is_not_a_mention() -> None:
    alone = invented("Fendral", "### Usage\nFendral is used for invented aches.\n")
    other = invented("Tobrin", "### Usage\nFendralite and Tobrin-ish words; Tobrin itself.\n")
    assert medicines.mentions([alone, other]) == ()


def test_a_name_two_medicines_share_is_not_a_mention() -> None:
    single = invented("Pallidone", "### Usage\nPallidone opens an invented airway.\n")
    combo = monograph("pallidone-quessar")  # its text names Pallidone: that is itself
    assert medicines.mentions([single, combo]) == ()


def test_mentions_in_the_intro_and_in_a_combinations_component_section() -> None:
    first = invented("Orbix", "Orbix is often given with Velt.\n\n### Usage\nFor invented gout.\n")
    second = invented("Velt", "### Usage\nFor invented gout.\n")
    (mention,) = medicines.mentions([first, second])
    assert [p.key for p in mention.places] == ["intro"]


# -- the request -------------------------------------------------------------------------


def test_times_are_put_in_the_order_of_a_day() -> None:
    assert packlist.parse_times("Bedtime, morning", "--take x") == ("morning", "bedtime")


@pytest.mark.parametrize("value", ["breakfast", "morning,lunch", ""])
def test_an_unknown_or_missing_time_is_a_usage_error(value: str) -> None:
    with pytest.raises(UsageError, match="--take x"):
        packlist.parse_times(value, "--take x")


def test_times_and_notes_are_tied_to_the_medicine_by_any_of_its_names() -> None:
    request = packlist.from_flags(
        ["zorvatin", "klemorex"], ["Klémorex=bedtime"], ["zorvatin=with food"]
    )
    wanted = request.settle([("Zorvatin", {"zorvatin"}), ("Klémorex", {"klemorex", "klémorex"})])
    assert wanted == (
        packlist.Wanted("Zorvatin", (), "with food"),
        packlist.Wanted("Klémorex", ("bedtime",), ""),
    )


def test_a_time_for_a_medicine_not_in_the_pack_is_a_usage_error() -> None:
    request = packlist.from_flags(["zorvatin"], ["aspirin=morning"], [])
    with pytest.raises(UsageError, match="--take aspirin: not a medicine of this pack"):
        request.settle([("Zorvatin", {"zorvatin"})])


def test_a_medicine_list_file_reads_names_times_notes_and_the_packs_name(tmp_path: Path) -> None:
    path = tmp_path / "list.toml"
    path.write_text(
        'name = "Mrs Example"\n[[medicine]]\nname = "zorvatin"\ntake = ["evening", "morning"]\n'
        'note = "with food"\n[[medicine]]\nname = "klemorex"\ntake = "bedtime"\n',
        encoding="utf-8",
    )
    request = packlist.read_file(path)
    assert request.names == ("zorvatin", "klemorex")
    assert request.times == {"zorvatin": ("morning", "evening"), "klemorex": ("bedtime",)}
    assert request.notes == {"zorvatin": "with food"}
    assert request.title == "mrs-example"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[medicine]]\nname = "a"\ntake = ["dawn"]\n', r"list.toml:3: .*'dawn' is not a time"),
        ('[[medicine]]\nname = "a"\ntime = "noon"\n', r"list.toml:3: medicine 1: unknown key"),
        ('medicines = ["a"]\n', r"list.toml:1: unknown key 'medicines'"),
        ('[[medicine]]\nname = "a\n', r"list.toml: not valid TOML"),
    ],
)
def test_a_bad_medicine_list_file_names_the_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "list.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        packlist.read_file(path)


# -- the real collection ------------------------------------------------------------------


def test_real_leaflets_that_name_each_other_are_found(corpus_dir: Path) -> None:
    names = ["clopidogrel", "aspirin", "paracetamol", "ibuprofen", "lactulose"]
    pack = [model.build(sources.read(next(corpus_dir.glob(f"*/{n}.md")))) for n in names]
    found = {(m.source, m.target) for m in medicines.mentions(pack)}
    assert ("Clopidogrel", "Aspirin") in found
    assert ("Paracetamol", "Ibuprofen") in found
    assert not any("Lactulose" in pair for pair in found)
