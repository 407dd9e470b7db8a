"""What a medicine is for, in words a patient understands: the pack's "What it is for".

A monograph's first Usage sentence is often a definition, not a use ("Aspirin
is a nonsteroidal anti-inflammatory drug with multiple uses", "Digoxin is a
cardiac glycoside derived from the foxglove plant"). Printed as "what it is
for", a definition tells a patient nothing. So, in this order:

1. **The front matter's** ``purpose:`` (plain words, at most 90 characters,
   checked when the monograph is read) is printed as written.
2. **A use found in the Usage text**: the first of its opening sentences (and
   of a list its first paragraph introduces) that says what the medicine is
   used for — "X is a … used to treat Y" gives "To treat Y", "for the relief
   of Y" gives "To relieve Y", "Its primary use is to treat Y", "X treats Y".
   Asides in brackets go; medical words a patient may not know become plain
   ones (``medpdf/data/plain_words.toml``: "hypertension" is "high blood
   pressure"). A use too long for the cell is shortened at a clause ("…, a
   condition where …", "… in adults aged …"), never in the middle of a phrase:
   without such a clause it is printed whole, on a third line if need be.
3. **Otherwise nothing** (:attr:`Source.FALLBACK`): the page prints "Ask your
   pharmacist what this is for", never a definition.

English, Spanish, French and Portuguese uses are recognised ("se usa para",
"est utilisé pour", "é usado para"); in another language the first Usage
sentence is printed when it fits the cell.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from medpdf.content import markdown
from medpdf.content.model import Monograph, SectionKind

#: Longest purpose a schedule cell shows, in characters; about two lines of the cell.
PURPOSE_LIMIT = 90
#: A purpose with no clause to shorten it at may take a third line, this much longer.
_THIRD_LINE = 1.45
#: What is left after shortening at a clause is at least this long.
_MIN_CLAUSE = 18
#: Opening sentences and blocks of the Usage looked at for a use.
_SENTENCES, _BLOCKS = 3, 4

# A sentence ends at . ! ? followed by a space and a capital, digit or quote; "e.g. the"
# does not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
_PARENTHESES = re.compile(r"\s*\([^()]*\)|\s*\[[^\[\]]*\]")
# Blocks that label something else ("Generic Name: X" in an intro): not what it is for.
_OTHER_LABEL = re.compile(
    r"^(?:generic names?|brand names?|dosage|side effects?|precautions?|notes?)\s*:", re.I
)
_ADVERB = r"(?:\w+ly\s+|both\s+|also\s+|then\s+|topically\s+|orally\s+)*"
# "(is primarily) used to / for / in / as …", "indicated for", "designed to".
_USED = re.compile(
    r"\b(?:used|prescribed|indicated|designed|employed|utili[sz]ed|recommended|approved)\s+"
    + _ADVERB
    + r"(?P<rest>(?:to|for|in|as)\b.*)",
    re.IGNORECASE,
)
# "X treats …", "It helps to relieve …": a verb of use right after the subject.
_VERB_OF_USE = re.compile(
    r"^(?:it|this|these|{subject})(?:\s+(?!(?:is|are|was|were|has|have|can|may)\b)[\w-]+){0,2}?\s+"
    + _ADVERB
    + r"(?P<verb>treats|prevents|relieves|reduces|lowers|controls|improves|manages|"
    r"alleviates|eases|helps(?: to)?|protects against|provides|supports|promotes|restores|aids|"
    r"stimulates)\s+(?P<rest>.*)",
    re.IGNORECASE,
)
_INFINITIVE = {
    "treats": "treat",
    "prevents": "prevent",
    "relieves": "relieve",
    "reduces": "reduce",
    "lowers": "lower",
    "controls": "control",
    "improves": "improve",
    "manages": "manage",
    "alleviates": "alleviate",
    "eases": "ease",
    "helps": "help",
    "protects against": "protect against",
    "provides": "provide",
    "supports": "support",
    "promotes": "promote",
    "restores": "restore",
    "aids": "aid",
    "stimulates": "stimulate",
}
# "X is a treatment for …", "… is a vaccine against …".
_IS_A_REMEDY = re.compile(
    r"\bis (?:a|an)\s+[\w\s-]{0,40}?\b(?:treatment|medication|medicine|drug|remedy|therapy)\s+"
    r"(?P<rest>for\b.*)",
    re.IGNORECASE,
)
# "not used to …", "should never be used for …".
_NEGATED = re.compile(
    r"(?:\b(?:not|never|no longer)|n['\u2019]t)\s+(?:\w+\s+){0,2}$", re.IGNORECASE
)
_NOUNS = {
    "treatment": "treat",
    "management": "manage",
    "prevention": "prevent",
    "relief": "relieve",
    "control": "control",
    "reduction": "reduce",
    "treating": "treat",
    "managing": "manage",
    "preventing": "prevent",
    "relieving": "relieve",
    "reducing": "reduce",
    "controlling": "control",
    "aiding": "aid",
    "improving": "improve",
    "lowering": "lower",
    "supporting": "support",
    "promoting": "promote",
    "restoring": "restore",
    "alleviating": "alleviate",
    "stimulating": "stimulate",
}
_NOUN = "|".join(_NOUNS)
# "Its primary use is to …", "Its main uses are for …", "uses include the treatment of …".
_USE_IS = re.compile(
    r"\b(?:uses?|applications?)\s+(?:in medicine\s+|in \w+\s+)?(?:is|are|was|were|includes?)\s+"
    + _ADVERB
    + rf"(?P<rest>(?:to|for|in|the|as|{_NOUN})\b.*)",
    re.IGNORECASE,
)
# "for the treatment of X", "in the management of X", "the prevention of X", "in treating X".
_FOR_THE_NOUN = re.compile(
    rf"^(?:(?:for|in|with)\s+)?(?:the\s+)?(?P<noun>{_NOUN})"
    rf"(?:\s+and\s+(?P<second>{_NOUN}))?(?:\s+of)?\s+(?P<rest>.+)",
    re.IGNORECASE,
)
# "in … to treat X" (used in combination with …, in emergencies, …): the use is after "to".
_IN_THEN_TO = re.compile(
    r"^in\b.{0,80}?\bto\s+(?!(?:its|the|a|an|their|his|her|this|these|those|be)\b)"
    r"(?P<rest>[a-z]+\s.+)",
    re.IGNORECASE,
)
# "as an adjunct (therapy) in managing X": an add-on treatment.
_ADJUNCT = re.compile(
    r"^as\s+an?\s+(?:adjunct|adjunctive|add-on|additional|supportive)\s+(?:therapy\s+|treatment\s+)?"
    r"(?P<link>in|to|for)\s+(?P<rest>.+)",
    re.IGNORECASE,
)
# "an adjunct to help surgeons …": the verbs an adjunct's "to" may open (else it is what the
# medicine is added to: "an adjunct to diet", "to anesthesia").
_ADJUNCT_VERB = re.compile(
    r"(?:help|treat|reduce|prevent|improve|manage|relieve|control|enhance|support|aid|lower|"
    r"increase|promote|facilitate|provide|protect|maintain|restore)\b",
    re.IGNORECASE,
)
# "… in managing X", "… for the treatment of X" inside a longer phrase.
_INNER_USE = re.compile(
    rf"\b(?:in|for)\s+(?:the\s+)?(?P<noun>{_NOUN})\s+(?:of\s+)?(?P<rest>.+)", re.IGNORECASE
)
# A use that says nothing: "to treat distinct conditions", "as an adjunctive therapy",
# "to reduce this risk" (what "this" is, the page does not say).
_VAGUE = re.compile(
    r"^(?:to (?:treat|manage|address) (?:two|several|various|distinct|different|multiple|many|"
    r"specific|certain)?\s*(?:conditions|disorders|diseases|illnesses|problems)"
    r"|as an? (?:adjunct|adjunctive|add-on|supportive)(?: therapy| treatment)?"
    r"|as an? [\w\s-]*\b(?:agonist|antagonist|inhibitor|blocker|agent|drug|medication|medicine|"
    r"compound|derivative)s?)$"
    r"|\b(?:this|these)\b",
    re.IGNORECASE,
)
# "as an analgesic for …", "as a supplement to …": what it is used for follows.
_AS_A_FOR = re.compile(r"^as\s+an?\s+(?:[\w-]+\s+){1,4}?(?P<rest>(?:for|to)\s.+)", re.IGNORECASE)
_RELATIVE = re.compile(r"\s+(?:that|which|where|who|whose|when)\b", re.IGNORECASE)
# ", a condition where …": a clause that runs to the next comma; no cut falls inside it.
_OPENERS = re.compile(r",\s*(?:a|an|which|where|who|when|such as|including|meaning)\b", re.I)
# Where a long use may be shortened: before these, the use is already said.
_CLAUSES = re.compile(
    r",\s*(?:a|an|which|where|who|when|such as|including|especially|particularly|like|as well|"
    r"and\s+(?:is|are|it|also|may|can)|or\s+(?:to|for)|often|usually|typically|commonly|"
    r"primarily|mainly|meaning|specifically)\b|;\s|:\s|\s[-\u2013\u2014]\s|"
    r"\s(?:such as|including|especially|particularly|which|where|when|who|whose|that|"
    r"as well as|along with|in (?:adults|children|people|patients|individuals|those|women|men|"
    r"infants|pediatric|paediatric|combination|conjunction|certain|some|cases|situations)|"
    r"aged)\b",
    re.IGNORECASE,
)
# Weaker places to shorten at, only when a use would otherwise run past a third line.
_WEAK_CLAUSES = re.compile(
    r"\s(?:caused by|associated with|due to|resulting from|characteri[sz]ed by|"
    r"accompanied by)\b",
    re.IGNORECASE,
)
# What a use must not end with: "… symptoms, particularly", "… acne in individuals" (whose
# age was in brackets).
_DANGLING = re.compile(
    r"(?:[,;:]?\s*\b(?:particularly|especially|specifically|mainly|primarily|notably|such as|"
    r"including|like|and|or|but|both|in|with|for|of|in (?:individuals|patients|people))|[,;:])\s*$",
    re.IGNORECASE,
)
# "…, also known as an enlarged prostate": a second name, not a second use.
_ALSO_KNOWN = re.compile(
    r",?\s+(?:also|otherwise|commonly|sometimes)\s+(?:known as|called|referred to as)\s+[^,;]+",
    re.IGNORECASE,
)
# Other languages: "se usa para …", "est utilisé pour …", "é usado para …".
_OTHER_LANGUAGES = {
    "es": re.compile(
        r"\bse\s+(?:usa|utiliza|emplea|indica)\s+(?:\w+mente\s+)?(?P<rest>(?:para|en)\b.*)",
        re.IGNORECASE,
    ),
    "fr": re.compile(
        r"\b(?:est|sont)\s+(?:\w+ment\s+)?(?:utilisée?s?|indiquée?s?|employée?s?)\s+"
        r"(?P<rest>(?:pour|dans|contre)\b.*)",
        re.IGNORECASE,
    ),
    "pt": re.compile(
        r"\b(?:é|são)\s+(?:\w+mente\s+)?(?:usad|utilizad|indicad)[oa]s?\s+"
        r"(?P<rest>(?:para|no|na|em)\b.*)",
        re.IGNORECASE,
    ),
}


class Source(enum.Enum):
    """Where a purpose comes from (``check --report`` counts each)."""

    FIELD = "front matter purpose:"
    EXTRACTED = "found in the Usage text"
    FALLBACK = "none found: 'Ask your pharmacist what this is for'"


@dataclass(frozen=True)
class Purpose:
    """What a medicine is for, and where that came from; ``text`` is empty for the fallback."""

    text: str
    source: Source


@cache
def _plain_words(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The language's medical words and their plain words, longest first."""
    path = resources.files("medpdf").joinpath("data/plain_words.toml")
    table: dict[str, str] = tomllib.loads(path.read_text("utf-8")).get(lang, {})
    return tuple(
        (re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE), plain)
        for term, plain in sorted(table.items(), key=lambda item: -len(item[0]))
    )


def plain(text: str, lang: str = "en") -> str:
    """``text`` with the medical words of ``lang`` replaced by plain ones."""
    for pattern, words in _plain_words(lang.split("-")[0].lower()):
        text = pattern.sub(words, text)
    return text


def _blocks(body: str) -> list[str]:
    """Paragraphs and list items of a section body, as plain text, headings left out."""
    found: list[str] = []
    for block in re.split(r"\n\s*\n", body):
        items = re.split(r"\n\s*(?=[*+\u2022-]\s|\d+[.)]\s)", block.strip())
        for item in items:
            lines = [line.strip() for line in item.splitlines() if not line.strip().startswith("#")]
            text = markdown.plain_text(re.sub(r"^(?:[*+\u2022-]|\d+[.)])\s+", "", " ".join(lines)))
            # "Usage:" written as a label at the start of the paragraph (combinations).
            text = re.sub(r"^(?:usage|uses?|indications?)\s*:\s*", "", text, flags=re.I)
            if text and not _OTHER_LABEL.match(text):
                found.append(text)
    return found


def _list_labels(blocks: list[str], joiner: str = ", ") -> str:
    """List items as one phrase: "**Nerve pain:** It can …" gives its label, "Nerve pain"."""
    bare = [_PARENTHESES.sub("", block) for block in blocks[:3]]
    labels = [first_sentence(b.split(":")[0] if ":" in b[:120] else b) for b in bare]
    return joiner.join(label for label in labels if label)


def first_paragraph(body: str) -> str:
    """The first paragraph; one that ends in a colon runs on into the list after it."""
    blocks = _blocks(body)
    if not blocks:
        return ""
    first = blocks[0]
    if first.endswith(":") and len(blocks) > 1:
        first = first.rstrip(": ") + " " + _list_labels(blocks[1:4]) + "."
    return first


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, without its closing full stop."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return sentence.rstrip(" .!?\u3002\uff01\uff1f")


def usage_body(monograph: Monograph) -> str:
    """The text of the first Usage section, or of a component's "Usage:" paragraph."""
    found = monograph.sections_of(SectionKind.USAGE)
    if found:
        return found[0].body
    for section in monograph.sections:
        match = re.search(r"^\**\s*(?:usage|uses?)\s*:?\s*\**\s*:?(.+)$", section.body, re.I | re.M)
        if match:
            rest = section.body[match.start(1) :]
            following = re.search(r"^\*\*[^*\n]{1,40}:?\*\*", rest, re.M)  # the next label
            return rest[: following.start()] if following else rest
    return monograph.intro


def usage_sentence(monograph: Monograph) -> str:
    """The first sentence of the Usage (or of a combination's first "Usage:" paragraph)."""
    return first_sentence(first_paragraph(usage_body(monograph)))


def how_it_works_sentence(monograph: Monograph) -> str:
    """The first sentence of the How it Works section; empty without one."""
    found = monograph.sections_of(SectionKind.HOW_IT_WORKS)
    return first_sentence(first_paragraph(found[0].body)) if found else ""


_LEAD_IN = re.compile(
    r"\b(?:are|is|include|includes|including|such as|like|as follows|for|of|to|in)$", re.I
)


def _candidates(body: str) -> list[str]:
    """The opening sentences of the Usage, a list a paragraph introduces joined to it."""
    blocks = _blocks(body)
    found: list[str] = []
    for index, block in enumerate(blocks[:_BLOCKS]):
        sentences = [s.rstrip(" .!?") for s in _SENTENCE_END.split(block.strip())]
        if block.endswith(":") and index + 1 < len(blocks):
            # "Its primary uses are:" and the list under it, its items apart ("; ").
            labels = _list_labels(blocks[index + 1 :], "; ")
            labels = labels[:1].lower() + labels[1:] if labels[1:2].islower() else labels
            lead = sentences[-1].rstrip(": ")
            # "Its uses are: X" reads "Its uses are X"; "… several worms: X" keeps its colon.
            joiner = " " if _LEAD_IN.search(lead) else ": "
            found += [*sentences[:-1][: _SENTENCES - 1], lead + joiner + labels]
        else:
            found += sentences[:_SENTENCES]
    return found


def _as_use(rest: str) -> str:
    """A use as the page prints it: "to treat Y" is "To treat Y", "for the relief of Y" too."""
    rest = rest.strip(" ,;:")
    if re.match(r"to\s", rest, re.IGNORECASE):
        return "To " + rest[3:].lstrip()
    if adjunct := _ADJUNCT.match(rest):
        # "as an adjunct to diet in managing X": the use is what follows "in managing";
        # "as an adjunct in surgery to reduce X": what follows "to"; "as an adjunct to help
        # surgeons …": the infinitive itself.
        added = adjunct.group("rest")
        if inner := _INNER_USE.search(added):
            return f"To help {_NOUNS[inner.group('noun').lower()]} {inner.group('rest')}"
        if adjunct.group("link").lower() == "to" and _ADJUNCT_VERB.match(added):
            return "To " + added
        if then := re.search(r"\bto\s+(?!(?:its|the|a|an|their|this)\b)([a-z]+\s.+)", added):
            return "To " + then.group(1)
        if noun := _FOR_THE_NOUN.match(added):
            return f"To help {_NOUNS[noun.group('noun').lower()]} {noun.group('rest')}"
        return ""
    if role := _AS_A_FOR.match(rest):  # "as an analgesic for the management of pain"
        return _as_use(role.group("rest"))
    if noun := _FOR_THE_NOUN.match(rest):
        verb = _NOUNS[noun.group("noun").lower()]
        if noun.group("second"):
            verb += " and " + _NOUNS[noun.group("second").lower()]
        return f"To {verb} {noun.group('rest')}"
    if then := _IN_THEN_TO.match(rest):
        return "To " + then.group("rest")
    if re.match(r"(?:for|as|against)\s", rest, re.IGNORECASE):
        return rest[0].upper() + rest[1:]
    return ""  # "used in children", "used with care": not a use


def find_use(sentence: str, subject: str = "") -> str:
    """The use a sentence states ("To treat Y"), or "" when it states none (a definition)."""
    sentence = " ".join(_PARENTHESES.sub("", sentence).split()).rstrip(" .")
    verb_of_use = re.compile(
        _VERB_OF_USE.pattern.replace("{subject}", re.escape(subject.lower()) or "(?!)"),
        re.IGNORECASE,
    )
    if (acting := verb_of_use.match(sentence)) is not None:
        verb = acting.group("verb").lower().removesuffix(" to")
        use = f"To {_INFINITIVE[verb]} {acting.group('rest')}"
        if not _VAGUE.search(use.split("; ")[0]):
            return use
    matches = [m for p in (_USED, _USE_IS, _IS_A_REMEDY) for m in p.finditer(sentence)]
    for match in sorted(matches, key=lambda m: m.start()):  # the first the sentence says
        if _NEGATED.search(sentence[: match.start()]):
            continue
        use = _as_use(match.group("rest"))
        if use and not _VAGUE.search(use.split("; ")[0].rstrip(" .")):
            return use
    return ""


def _cut(text: str, at: int) -> str:
    """``text`` up to ``at``, without a word left hanging ("…, particularly").

    A cut inside a clause opened by a comma (", a condition where …") goes back
    to that comma: the clause goes whole.
    """
    if at < len(text):
        opened = [m.start() for m in _OPENERS.finditer(text, 0, at)]
        if opened and opened[-1] >= _MIN_CLAUSE and "," not in text[opened[-1] + 1 : at]:
            at = opened[-1]
        elif (
            _RELATIVE.match(text, at)
            and (comma := text.rfind(",", 0, at)) >= _MIN_CLAUSE
            and len(text[comma + 1 : at].split()) <= 3
        ):
            at = comma  # "…, conditions that …": a short noun after a comma joins the clause
    kept = text[:at]
    while (dangling := _DANGLING.search(kept)) is not None and dangling.start() >= _MIN_CLAUSE:
        kept = kept[: dangling.start()]
    return kept.rstrip(" ,;:")


def shorten(text: str, limit: int = PURPOSE_LIMIT) -> str:
    """``text`` shortened to a clause that fits ``limit``; whole, on a third line, if none does.

    Never cut in the middle of a phrase: a use either ends where a clause
    begins ("… hypokalemia, a condition …") or is printed whole.
    """
    text = _cut(" ".join(_ALSO_KNOWN.sub("", text).split()), len(text))
    if len(text) <= limit:
        return text
    strong = [m.start() for m in _CLAUSES.finditer(text) if m.start() >= _MIN_CLAUSE]
    if fitting := [cut for cut in strong if cut <= limit]:
        return _cut(text, fitting[-1])
    third = int(limit * _THIRD_LINE)
    if len(text) <= third:
        return text
    weak = [m.start() for m in _WEAK_CLAUSES.finditer(text) if m.start() >= _MIN_CLAUSE]
    if longer := sorted(cut for cut in strong + weak if cut <= third):
        return _cut(text, longer[-1])
    return text


def _other_language(body: str, lang: str, limit: int) -> str:
    """A use in Spanish, French or Portuguese; else the first sentence when it fits the cell."""
    pattern = _OTHER_LANGUAGES.get(lang)
    for sentence in _candidates(body):
        sentence = " ".join(_PARENTHESES.sub("", sentence).split())
        if pattern is not None and (match := pattern.search(sentence)):
            rest = match.group("rest")
            return shorten(rest[0].upper() + rest[1:], limit)
    first = first_sentence(first_paragraph(body))
    if pattern is None and first and len(first) <= limit * _THIRD_LINE:
        return first
    return ""


def purpose_of(monograph: Monograph, limit: int = PURPOSE_LIMIT, lang: str = "en") -> Purpose:
    """What the medicine is for (see the module's doc), and where that came from.

    ``lang`` is the monograph's language when its front matter does not say.
    """
    if monograph.purpose:
        return Purpose(monograph.purpose, Source.FIELD)
    language = (monograph.lang or lang).split("-")[0].lower()
    body = usage_body(monograph)
    if language != "en":
        found = _other_language(body, language, limit)
        return Purpose(found, Source.EXTRACTED) if found else Purpose("", Source.FALLBACK)
    subject = monograph.title.split("+")[0].split()[0] if monograph.title.split() else ""
    for sentence in _candidates(body):
        use = find_use(sentence, subject)
        if use:
            # The first use a list gives (items are joined by "; "), or a clause's first part.
            return Purpose(shorten(plain(use.split("; ")[0]), limit), Source.EXTRACTED)
    return Purpose("", Source.FALLBACK)


def purpose(monograph: Monograph, limit: int = PURPOSE_LIMIT, lang: str = "en") -> str:
    """The purpose's text; empty when the page should print "Ask your pharmacist"."""
    return purpose_of(monograph, limit, lang).text


def report(monographs: Iterable[Monograph], lang: str = "en") -> str:
    """The ``check --report`` section: where each monograph's "What it is for" comes from."""
    counts = dict.fromkeys(Source, 0)
    for monograph in monographs:
        counts[purpose_of(monograph, lang=lang).source] += 1
    total = sum(counts.values())
    if not total:
        return '"What it is for" on the medication pack\'s page 1: no monographs\n'
    lines = [f'"What it is for" on the medication pack\'s page 1, of {total:,} monographs:']
    lines += [f"  {counts[source]:>6,} {source.value}" for source in Source]
    return "\n".join(lines) + "\n"
