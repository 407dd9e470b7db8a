"""Product names as the drug they name: strength, dose form and salt words left out.

A record's list names products ("Warfarin Sodium 5 MG Oral Tablet"); a leaflet
names a drug. The pack's prompts and the record's matching both need the drug.
"""

from __future__ import annotations

import re

from medpdf.products.pack.medicines import fold


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words of a product name that are not the drug: dose forms, routes, release.
FORM_WORDS = _word_set(
    """tablet tablets tab tabs capsule capsules cap caps oral solution suspension syrup
    injection injectable cream ointment gel drops drop spray inhaler patch powder granules
    chewable dispersible effervescent film coated delayed extended modified release er xr sr
    mr dr ec soft hard vial ampoule pen prefilled syringe topical ophthalmic nasal rectal
    vaginal sublingual buccal lozenge elixir liquid kit pack"""
)
#: Salt and ester words: "metformin hydrochloride" is metformin for a patient leaflet.
SALT_WORDS = _word_set(
    """hydrochloride hcl dihydrochloride hydrobromide sodium potassium calcium magnesium
    maleate mesylate besylate besilate tartrate bitartrate succinate citrate sulfate sulphate
    phosphate acetate fumarate hemifumarate bromide chloride monohydrate dihydrate trihydrate
    hyclate hemihydrate lactate gluconate valerate propionate dipropionate furoate"""
)
#: Units of a strength ("100 UNT/ML", "49/51 mg"): a part of a name made of them is no drug.
UNIT_WORDS = _word_set(
    """mg mcg ug g kg ml l unt unit units iu meq mmol actuat hr h day mg/ml percent"""
)
BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)")


def name_key(text: str) -> str:
    """A product name as the drug it names: "Zorvatin 20 MG Oral Tablet" → "zorvatin"."""
    words = fold(BRACKETS.sub(" ", text)).split()
    for index, word in enumerate(words[1:], start=1):
        if word[0].isdigit():  # the strength starts: the rest is strength and form
            words = words[:index]
            break
    while len(words) > 1 and words[-1] in FORM_WORDS:
        words.pop()
    return " ".join(words)


def without_salt(key: str) -> str:
    """``key`` without its salt words, unless that leaves nothing ("magnesium sulfate")."""
    kept = [w for w in key.split() if w not in SALT_WORDS]
    return " ".join(kept) if kept else key
