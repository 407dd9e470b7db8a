"""Prompts by drug class and name, and shared active ingredients, on invented monographs.

Each matching rule of :mod:`medpdf.products.pack.interactions`,
:mod:`medpdf.products.pack.drug_classes` and
:mod:`medpdf.content.synonyms` is tried against a small invented class table, so the
rules are tested apart from the shipped facts; the shipped table itself is checked
for consistency (every pair names known classes, every class has a printed label).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medpdf.content import model, sources
from medpdf.content import synonyms as ingredients
from medpdf.html import templating
from medpdf.products.pack import drug_classes, interactions
from medpdf.products.pack.interactions import Medicine
from medpdf.settings.config import DEFAULT_RESOURCES

NAMES = ingredients.names_from(
    {
        "synonyms": [["pallidone", "palidonum"], ["potassium", "potassium chloride"]],
        "combinations": {"co-pallex": ["pallidone", "orbix"]},
        "salts": {"words": ["hydrochloride", "sodium", "chloride"], "kept_whole": ["sodium"]},
        "names": {"too_general": ["potassium"]},
    }
)
TABLE = drug_classes.table_from(
    {
        "class": [
            {
                "key": "anticoagulant",
                "members": ["zorvatin", "velt"],
                "phrases": ["anticoagulant", "blood thinner"],
                "defined_by": ["anticoagulant"],
                "duplicate": True,
            },
            {
                "key": "antiplatelet",
                "members": ["aggrex"],
                "phrases": ["antiplatelet", "blood thinner"],
                "defined_by": ["antiplatelet"],
            },
            {
                "key": "nsaid",
                "members": ["klemorex"],
                "phrases": ["NSAID", "non-steroidal anti-inflammatory"],
                "defined_by": ["NSAID", "non-steroidal anti-inflammatory"],
                "duplicate": True,
            },
            {"key": "ssri", "members": ["quessarine"], "phrases": ["SSRI"], "defined_by": ["SSRI"]},
            {"key": "triptan", "members": ["velotriptan"], "phrases": ["triptan"]},
            {
                "key": "opioid",
                "members": ["morvane"],
                "phrases": ["opioid"],
                "defined_by": ["opioid"],
            },
        ],
        "pair": [
            {"a": ["anticoagulant"], "b": ["nsaid", "antiplatelet"]},
            {"a": ["ssri"], "b": ["triptan"]},
        ],
    },
    NAMES,
)


def invented(title: str, body: str = "", **front: str) -> model.Monograph:
    body = body or f"### Usage\n{title} is an invented remedy.\n"
    extra = "".join(f"{key}: {value}\n" for key, value in front.items())
    text = f"---\nlayout: minimal-medicine\ntitle: {title}\n{extra}---\n\n# {title}\n{body}\n"
    slug = title.lower().replace(" ", "-").replace("+", "")
    path = Path(f"/nonexistent/{slug}.md")
    return model.build(sources.Source(path, path.name, path.stem, text, "0" * 64))


def findings(*pack: model.Monograph | Medicine) -> interactions.Findings:
    medicines = [m if isinstance(m, Medicine) else Medicine(m) for m in pack]
    return interactions.findings(medicines, TABLE, NAMES)


def member(monograph: model.Monograph) -> drug_classes.Membership:
    return drug_classes.membership([monograph], TABLE, NAMES)


ZORVATIN = invented("Zorvatin", "### Usage\nZorvatin is used to prevent invented clots.\n")
KLEMOREX = invented("Klemorex", "### Usage\nKlemorex is used for invented aches.\n")


# -- class phrases -----------------------------------------------------------------------


def test_a_class_phrase_in_one_leaflet_prompts_for_a_member_of_that_class() -> None:
    fendral = invented("Fendral", "### Precautions\nDo not take it with blood thinners.\n")
    (prompt,) = findings(fendral, ZORVATIN).prompts
    (said,) = prompt.said
    assert (prompt.first, prompt.second) == (0, 1)
    assert (said.source, said.named, said.phrases) == (0, False, ("blood thinners",))
    assert [p.key for p in said.places] == ["precautions"]
    assert prompt.first_classes == prompt.second_classes == ()  # no pair of the table


def test_class_phrases_match_any_case_plural_and_hyphen_or_space() -> None:
    fendral = invented("Fendral", "### Precautions\nAvoid NON STEROIDAL Anti-Inflammatory drugs.\n")
    (prompt,) = findings(fendral, KLEMOREX).prompts
    assert prompt.said[0].phrases == ("NON STEROIDAL Anti-Inflammatory",)


def test_a_phrase_inside_a_longer_word_or_after_non_is_not_the_class() -> None:
    fendral = invented(
        "Fendral", "### Precautions\nIt is a non-NSAID pain reliever; antiplateletlike words.\n"
    )
    assert findings(fendral, KLEMOREX, invented("Aggrex")).prompts == ()


def test_a_member_is_known_by_its_own_definition_when_no_list_names_it() -> None:
    tobrin = invented(
        "Tobrin", "### Usage\nTobrin is a non-steroidal anti-inflammatory drug used for aches.\n"
    )
    assert member(tobrin) == drug_classes.Membership(frozenset(), frozenset({"nsaid"}))
    (prompt,) = findings(ZORVATIN, tobrin).prompts  # the table pairs anticoagulant + NSAID
    assert (prompt.first_classes, prompt.second_classes, prompt.said) == (
        ("anticoagulant",),
        ("nsaid",),
        (),
    )


def test_the_how_it_works_sentence_defines_a_member_too() -> None:
    tobrin = invented(
        "Tobrin",
        "### Usage\nTobrin is used for aches.\n\n### How it Works\nTobrin is an NSAID (COX).\n",
    )
    assert member(tobrin).by_text == {"nsaid"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Tobrin is used in people who also take NSAIDs.",  # after "used": not what it is
        "Unlike NSAIDs, Tobrin is a gentle remedy for aches.",  # before the verb
        "Tobrin is not an NSAID.",
        "Tobrin is a non-opioid remedy for aches.",
        "Tobrin is an opioid antagonist that reverses an overdose.",
        "Tobrin is a remedy. It is an NSAID.",  # the second sentence
    ],
)
def test_class_words_outside_the_definition_do_not_make_a_member(sentence: str) -> None:
    assert member(invented("Tobrin", f"### Usage\n{sentence}\n")).classes == frozenset()


def test_a_members_name_in_the_list_is_found_in_a_combination_and_with_a_salt() -> None:
    assert member(invented("Zorvatin Hydrochloride")).by_name == {"anticoagulant"}
    assert member(invented("Orbix + Klemorex")).by_name == {"nsaid"}


def test_words_for_a_class_the_leaflet_belongs_to_are_not_a_mention_of_another_member() -> None:
    zorvatin = invented("Zorvatin", "### Precautions\nDo not take other anticoagulants.\n")
    (prompt,) = findings(zorvatin, invented("Velt")).prompts
    # Two anticoagulants: the table's "duplicate" says so, not Zorvatin's own class word.
    assert prompt.said == ()
    assert (prompt.first_classes, prompt.second_classes) == (("anticoagulant",), ("anticoagulant",))


def test_the_leaflets_own_definition_is_not_a_mention() -> None:
    tobrin = invented(
        "Tobrin", "### Usage\nTobrin is a blood thinner (anticoagulant) that prevents clots.\n"
    )
    (prompt,) = findings(tobrin, invented("Aggrex")).prompts  # anticoagulant + antiplatelet
    assert prompt.said == ()  # "blood thinner" there describes Tobrin itself


# -- pairs of the table, names, and one line per pair -------------------------------------------


def test_a_pair_of_the_table_prompts_where_neither_leaflet_mentions_the_other() -> None:
    (prompt,) = findings(invented("Quessarine"), invented("Velotriptan")).prompts
    assert (prompt.first_classes, prompt.second_classes, prompt.said) == (
        ("ssri",),
        ("triptan",),
        (),
    )


def test_both_directions_are_one_prompt_saying_where_each_leaflet_says_it() -> None:
    fendral = invented("Fendral", "### Precautions\nNot with Orbix.\n")
    orbix = invented("Orbix", "### How it Works\nFendral makes it stronger.\n")
    (prompt,) = findings(fendral, orbix).prompts
    assert [(s.source, s.named, [p.key for p in s.places]) for s in prompt.said] == [
        (0, True, ["precautions"]),
        (1, True, ["how_it_works"]),
    ]


def test_a_name_is_said_rather_than_the_class_words_of_the_same_leaflet() -> None:
    fendral = invented("Fendral", "### Precautions\nNot with blood thinners such as Zorvatin.\n")
    (prompt,) = findings(fendral, ZORVATIN).prompts
    (said,) = prompt.said
    assert (said.named, said.phrases) == (True, ())


def test_a_synonym_is_a_name_but_a_general_word_is_not() -> None:
    fendral = invented("Fendral", "### Precautions\nNot with palidonum. High potassium levels.\n")
    found = findings(fendral, invented("Pallidone"), invented("Potassium Chloride"))
    assert [(p.first, p.second) for p in found.prompts] == [(0, 1)]


def test_unrelated_medicines_get_no_prompt() -> None:
    pack = [invented(t, f"### Usage\n{t} is used for invented itches.\n") for t in "ABC"]
    assert findings(*pack) == interactions.Findings()


# -- shared ingredients ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "shown"),
    [
        ("Pallidone", "Pallidone + Quessar", "pallidone"),  # a component
        ("Palidonum Hydrochloride", "Pallidone", "pallidone (palidonum hydrochloride)"),
        ("Co-pallex", "Orbix", "orbix"),  # a British "co-" name
        ("Potassium Chloride", "Orbix + Potassium Chloride", "potassium"),
    ],
)
def test_two_medicines_with_one_ingredient_are_a_warning(
    first: str, second: str, shown: str
) -> None:
    (shared,) = findings(invented(first), invented(second)).shared
    assert (shared.medicines, shared.ingredients) == ((0, 1), (shown,))


def test_the_generic_name_and_a_translations_original_tell_the_ingredient() -> None:
    generic = invented("Brand X", "### Generic Name\nPallidone\n")
    spanish = Medicine(
        invented("Palidona", "### Usos\nPara el asma.\n", lang="es", translation_of="pallidone"),
        invented("Pallidone"),
    )
    found = findings(generic, spanish, invented("Quessar + Pallidone"))
    assert [s.medicines for s in found.shared] == [(0, 1, 2)]


def test_medicines_sharing_the_same_ingredients_are_one_warning() -> None:
    found = findings(
        invented("Orbix + Pallidone"),
        invented("Pallidone"),
        invented("Pallidone + Orbix + Quessar"),
        invented("Quessar"),
    )
    assert [(s.medicines, s.ingredients) for s in found.shared] == [
        ((0, 1, 2), ("pallidone",)),
        ((0, 2), ("orbix",)),
        ((2, 3), ("quessar",)),
    ]


def test_a_translation_belongs_to_its_originals_classes() -> None:
    spanish = Medicine(invented("Zorvatina", lang="es", translation_of="zorvatin"), ZORVATIN)
    (prompt,) = findings(spanish, KLEMOREX).prompts
    assert (prompt.first_classes, prompt.second_classes) == (("anticoagulant",), ("nsaid",))


def test_sharing_an_ingredient_is_said_once_not_also_as_the_same_class_twice() -> None:
    found = findings(KLEMOREX, invented("Klemorex + Orbix"))
    assert [s.ingredients for s in found.shared] == [("klemorex",)]
    assert found.prompts == ()


def test_salts_come_off_only_while_a_name_is_left() -> None:
    assert NAMES.key("Sodium Chloride") == "sodium chloride"  # "sodium" alone is no ingredient
    assert NAMES.key("Klemorex Sodium") == "klemorex"
    assert NAMES.keys("Co-Pallex") == ("pallidone", "orbix")


# -- the shipped table --------------------------------------------------------------------


def test_a_pair_naming_an_unknown_class_is_refused() -> None:
    with pytest.raises(drug_classes.TableError, match="not in the table: nsaids"):
        drug_classes.table_from(
            {"class": [{"key": "nsaid"}], "pair": [{"a": ["nsaid"], "b": ["nsaids"]}]}, NAMES
        )


def test_every_shipped_class_has_members_phrases_and_a_printed_label() -> None:
    shipped = drug_classes.table()
    env = templating.environment(DEFAULT_RESOURCES.templates)
    labels = env.get_template("_drug_classes.html.j2").module.class_labels  # type: ignore[attr-defined]
    for drug_class in shipped.classes:
        assert drug_class.members and drug_class.phrases, drug_class.key
        assert drug_class.named or drug_class.key in labels, drug_class.key
    assert set(labels) <= {c.key for c in shipped.classes}
    assert len(shipped.classes) >= 25 and len(shipped.pairs) >= 40


@pytest.mark.parametrize(
    ("title", "classes"),
    [
        ("Acetaminophen", set()),
        ("Warfarin Sodium", {"anticoagulant"}),
        ("Aspirin", {"antiplatelet", "nsaid"}),
        ("Salbutamol", set()),
        ("Lisinopril + Hydrochlorothiazide", {"ace_inhibitor", "thiazide"}),
        ("Co-codamol", {"opioid"}),
        ("Thyroxine", {"thyroid"}),
        ("Potassium Citrate", {"potassium"}),
    ],
)
def test_the_shipped_table_knows_common_medicines_by_any_name(
    title: str, classes: set[str]
) -> None:
    assert drug_classes.membership([invented(title)]).by_name == classes


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("anticoagulant", "nsaid"),
        ("anticoagulant", "antiplatelet"),
        ("ssri", "triptan"),
        ("snri", "maoi"),
        ("ace_inhibitor", "potassium_sparing"),
        ("arb", "potassium"),
        ("opioid", "benzodiazepine"),
        ("statin", "macrolide"),
        ("azole", "statin"),
        ("nsaid", "nsaid"),
    ],
)
def test_the_shipped_table_pairs_the_standard_classes(first: str, second: str) -> None:
    assert drug_classes.table().paired(first, second)
    assert drug_classes.table().paired(second, first)


def test_a_medicine_known_by_name_alone_counts_by_its_drug_not_its_strength() -> None:
    record = interactions.named_only("Warfarin Sodium 5 MG Oral Tablet")
    assert record.monograph.title == "warfarin sodium"
    aspirin = invented("Aspirin", "### Usage\nAspirin is used for pain.\n")
    (prompt,) = interactions.findings([Medicine(aspirin), record]).prompts
    assert (prompt.first_classes, prompt.second_classes) == (
        ("antiplatelet", "nsaid"),
        ("anticoagulant",),
    )
    combination = interactions.named_only("Paracetamol + Codeine 500 mg / 30 mg Tablet")
    (shared,) = interactions.findings([combination, Medicine(invented("Co-codamol"))]).shared
    assert shared.ingredients == ("paracetamol", "codeine")
