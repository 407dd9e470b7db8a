"""Content rules: text a clinic must never hand out as it is, found by phrase.

The collection is AI-assisted, and some monographs carry the assistant's own
voice ("I cannot provide information on a combination of ...") or call their
product hypothetical; others say the medicine is no longer made. The phrases
live in one data file per language (``medpdf/data/content_rules/<lang>.toml``,
read with tomllib) so that an editor can tune them without touching code; this
module only applies them. Two kinds:

* *not a leaflet* (an error): builds leave the monograph out, the station
  shows it as unavailable, and ``medpdf approve`` refuses it;
* *discontinued* (a warning): the handout carries a banner on page 1 and the
  booklet entry a note.

``check`` (through :mod:`medpdf.build.catalog`) runs the rules over each
source's text after its front matter, so every hit has a line; the render
path asks :func:`says_discontinued` of the parsed monograph, over the same
text reassembled from its parts (tests check on the corpus that the two agree).
A monograph in a language without a rules file is checked by none.
"""

from __future__ import annotations

import enum
import functools
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medpdf.errors import Diagnostic, Level
from medpdf.model import Monograph, components_of
from medpdf.sources import Source

#: The rules files, one per language: ``<primary language subtag>.toml``.
RULES_DIR = Path(__file__).resolve().parent / "data" / "content_rules"

#: Stands for the monograph's own medicine in a pattern.
DRUG = "{drug}"

#: Written over each of the monograph's own names before matching: the first character
#: of the name, then the rest, as many as the name is long, so that ``{drug}`` is one
#: short alternative and offsets stay those of the text (lines and excerpts come from the
#: original). Private-use characters: no monograph uses them, no pattern matches them by
#: accident. Only the first is where a match may start: one mark for a whole name let the
#: engine try a match at every character of a 100-character combination title.
_MASK = "\ue000"
_MASK_REST = "\ue001"

#: Characters of an excerpt quoted in a diagnostic.
EXCERPT = 70

#: A pattern is skipped at once on a text without one of its needed words only when it
#: needs one of this few (each is a search of the whole text).
MAX_NEEDED = 4


class Kind(enum.Enum):
    """What a hit means for the monograph."""

    NOT_A_LEAFLET = "not-a-leaflet"
    DISCONTINUED = "discontinued"

    @property
    def level(self) -> Level:
        """Not a leaflet is an error (left out of everything); discontinued a warning."""
        return Level.ERROR if self is Kind.NOT_A_LEAFLET else Level.WARNING

    @property
    def label(self) -> str:
        """How ``check`` names the kind: ``not a leaflet``, ``discontinued``."""
        return self.value.replace("-", " ")


@dataclass(frozen=True)
class Rule:
    """One named rule of a language's file: its kind, what it means, its phrases."""

    name: str
    kind: Kind
    message: str
    patterns: tuple[str, ...]
    #: A hit whose sentence matches one of these does not count.
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subject:
    """What ``{drug}`` stands for besides the monograph's own names."""

    #: Words for the medicine in a sentence about it: "it", "this medication".
    words: tuple[str, ...] = ()
    #: What may follow the name before the verb: "(Vioxx)", "tablets".
    after: str = ""

    def pattern(self) -> str:
        """``{drug}`` as a regular expression over lowered, masked text."""
        return f"(?:(?:{'|'.join(self.alternatives())}){self.after})"

    def alternatives(self) -> tuple[str, ...]:
        """Each thing ``{drug}`` may be on its own: the masked names, then each word."""
        return (f"{_MASK}{_MASK_REST}*", *(f"(?:{word})" for word in self.words))


@dataclass(frozen=True)
class RuleSet:
    """Every rule of one language, and the words that stand for the monograph's medicine."""

    lang: str
    path: Path
    rules: tuple[Rule, ...]
    subject: Subject


@dataclass(frozen=True)
class Hit:
    """One place where a rule matched: which rule, which line, the words that matched."""

    rule: Rule
    line: int
    excerpt: str

    @property
    def kind(self) -> Kind:
        """The rule's kind."""
        return self.rule.kind


class RulesError(ValueError):
    """A rules file that cannot be used: bad TOML, an unknown kind, a pattern that fails."""


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RulesError(f"{where}: must be a list of strings")
    return tuple(value)


def parse(text: str, lang: str, path: Path) -> RuleSet:
    """A rules file's text as a :class:`RuleSet`; every pattern is compiled once to check it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("subject", {})
    after = table.get("after", "")
    if not isinstance(after, str):
        raise RulesError(f"{path}: subject.after: must be a string")
    subject = Subject(_strings(table.get("words", []), f"{path}: subject.words"), after)
    rules: list[Rule] = []
    for number, raw in enumerate(data.get("rule", []), 1):
        where = f"{path}: rule {number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise RulesError(f"{where}: needs a name")
        where = f"{path}: rule '{raw['name']}'"
        try:
            kind = Kind(raw.get("kind"))
        except ValueError:
            choices = " or ".join(f'"{k.value}"' for k in Kind)
            raise RulesError(f"{where}: kind must be {choices}") from None
        rule = Rule(
            raw["name"],
            kind,
            str(raw.get("message", raw["name"])),
            _strings(raw.get("patterns", []), f"{where}: patterns"),
            _strings(raw.get("unless", []), f"{where}: unless"),
        )
        for pattern in (*rule.patterns, *rule.unless):
            try:
                re.compile(_expand(pattern, subject))
            except re.error as exc:
                raise RulesError(f"{where}: pattern {pattern!r}: {exc}") from None
        rules.append(rule)
    return RuleSet(lang, path, tuple(rules), subject)


def rules_for(lang: str) -> RuleSet | None:
    """The rules of a language (its primary subtag: ``en-GB`` reads ``en.toml``); None if none."""
    primary = lang.split("-")[0].split("_")[0].lower()
    return _rules_file(primary) if primary.isalpha() else None


@functools.cache
def _rules_file(primary: str) -> RuleSet | None:
    """A language's rules file, read and checked once per process."""
    path = RULES_DIR / f"{primary}.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return parse(text, primary, path)


def languages() -> tuple[str, ...]:
    """The languages that have a rules file."""
    return tuple(sorted(p.stem for p in RULES_DIR.glob("*.toml")))


# -- matching ---------------------------------------------------------------------------


def _expand(pattern: str, subject: Subject) -> str:
    """``{drug}`` as the masked names or one of the subject words."""
    return pattern.replace(DRUG, subject.pattern()) if DRUG in pattern else pattern


def _lowered_pattern(pattern: str) -> str:
    """The pattern with its letters in lower case, escapes (``\\S``, ``\\b``) left alone.

    Text is lowered once and matched without ``re.IGNORECASE``: a case-blind pattern
    cannot use the regex engine's literal-prefix search and took 4x as long (5.9 ms
    against 1.4 ms for the 31 patterns of en.toml on a 4 kB monograph).
    """
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern[index] == "\\":
            out.append(pattern[index : index + 2])
            index += 2
        else:
            out.append(pattern[index].lower())
            index += 1
    return "".join(out)


_QUANTIFIERS = frozenset("?*+{")
_LETTERS = re.compile(r"[a-z]+")


def _leading_word(branch: str) -> str:
    """The letters a branch must start with ("" if it starts with anything else)."""
    match = _LETTERS.match(branch)
    if match is None:
        return ""
    word = match.group(0)
    follows = branch[match.end() : match.end() + 1]
    return word[:-1] if follows in _QUANTIFIERS else word


def _split_top(group: str) -> list[str] | None:
    """The alternatives of a group's body, or None when it holds a nested group or class."""
    if any(c in group for c in "()[]"):
        return None
    branches, current, index = [], "", 0
    while index < len(group):
        char = group[index]
        if char == "\\":
            current += group[index : index + 2]
            index += 2
            continue
        if char == "|":
            branches.append(current)
            current = ""
        else:
            current += char
        index += 1
    return [*branches, current]


def required_words(pattern: str) -> tuple[frozenset[str], ...]:
    """Sets of words a match must contain one of (each set is needed); () when unknown.

    A conservative reading of the pattern's top level only: a run of letters not
    made optional, or a group ``(?:a|b|c)`` not made optional whose every
    alternative starts with letters. A pattern with a top-level ``|`` gives ().
    Used to skip a pattern at once on a text without those words, which keeps
    patterns that start with ``{drug}`` (a set of common letters) cheap.
    """
    needed: list[frozenset[str]] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
        elif char == "[":
            index = _class_end(pattern, index) + 1
        elif char == "|":
            return ()
        elif char == "(":
            end = _group_end(pattern, index)
            if end is None:
                return ()
            body = pattern[index + 1 : end]
            if pattern[end + 1 : end + 2] not in _QUANTIFIERS and body.startswith("?:"):
                branches = _split_top(body[2:])
                words = [_leading_word(b) for b in branches] if branches else []
                if words and all(len(w) >= 3 for w in words):
                    needed.append(frozenset(words))
            index = end + 1
        elif (match := _LETTERS.match(pattern, index)) is not None:
            word = _leading_word(pattern[index:])
            if len(word) >= 4:
                needed.append(frozenset([word]))
            index = match.end()
        else:
            index += 1
    return tuple(needed)


def _class_end(pattern: str, start: int) -> int:
    """Index of the ``]`` that closes the character class opened at ``start``."""
    index = start + 1
    if pattern[index : index + 1] == "^":
        index += 1
    if pattern[index : index + 1] == "]":  # a first "]" is a character of the class
        index += 1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index
        index += 1
    return len(pattern)


def _group_end(pattern: str, start: int) -> int | None:
    """Index of the parenthesis that closes the group opened at ``start``."""
    depth = 0
    index = start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(pattern, index) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    pattern: re.Pattern[str]
    #: The pattern began with ``\\b``: checked by hand, so that the engine can search fast.
    boundary: bool
    #: A match contains one of these words (None: nothing known); the most telling of
    #: :func:`required_words`, so a text without them costs a few substring searches.
    needs: frozenset[str] | None
    unless: tuple[re.Pattern[str], ...]


def _compile(pattern: str, subject: Subject) -> re.Pattern[str]:
    """An ``unless`` pattern, lowered (it is only ever tried on the sentence of a hit)."""
    return re.compile(_lowered_pattern(_expand(pattern, subject)))


@functools.cache
def _compiled(rules: RuleSet) -> tuple[_Compiled, ...]:
    """Every pattern of every rule, compiled once, with the words it needs."""
    found = []
    for rule in rules.rules:
        unless = tuple(_compile(p, rules.subject) for p in rule.unless)
        for pattern in rule.patterns:
            needed = required_words(_lowered_pattern(pattern).replace(DRUG, "(?:x)"))
            # Each word is a search of the whole text: a set of many words costs more than
            # the pattern's own search when that starts with a literal ("i cannot ...").
            # The fewest words, then the longest shortest word; none beyond a few.
            few = [ws for ws in needed if len(ws) <= MAX_NEEDED]
            best = min(few, key=lambda ws: (len(ws), -min(map(len, ws))), default=None)
            for variant in _variants(pattern, rules.subject):
                boundary = variant.startswith("\\b")
                compiled = re.compile(variant.removeprefix("\\b"))
                found.append(_Compiled(rule, compiled, boundary, best, unless))
    return tuple(found)


def _variants(pattern: str, subject: Subject) -> list[str]:
    """The pattern, lowered; one per subject alternative when it starts with ``{drug}``.

    A pattern that starts with a literal is searched for by the regex engine's fast
    literal scan; one that starts with ``{drug}`` (the mask, "it", "this ...") would be
    tried at every "i" and "t" of the text. Split, each variant starts with a literal:
    the four discontinued patterns that start so took 1.2 of the 1.6 ms the English
    rules took per monograph.
    """
    lowered = _lowered_pattern(pattern)
    lead = "\\b" if lowered.startswith("\\b") else ""
    if not lowered.removeprefix(lead).startswith(DRUG):
        return [_lowered_pattern(_expand(pattern, subject))]
    rest = lowered.removeprefix(lead).removeprefix(DRUG)
    return [
        lead
        + _lowered_pattern(f"(?:{alternative}{subject.after})")
        + _lowered_pattern(_expand(rest, subject))
        for alternative in subject.alternatives()
    ]


def _lowered(text: str) -> str:
    """``text`` in lower case and without emphasis stars, one character for one.

    Offsets stay those of ``text``; "is **no longer available**" reads as words.
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered.replace("*", " ")


def _masked(lowered: str, names: Iterable[str]) -> str:
    """``lowered`` with each of the monograph's names, as a whole word, written over by masks.

    Longest name first ("vitamin b12" before "vitamin b"); a plain search per name
    rather than a pattern of all of them, which would be compiled for every monograph
    (0.6 of the 1.4 ms the rules took per monograph).
    """
    usable = sorted({" ".join(n.lower().split()) for n in names}, key=len, reverse=True)
    text = lowered
    for name in usable:
        if len(name) < 3:
            continue
        start = text.find(name)
        while start >= 0:
            end = start + len(name)
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if not _is_word(before) and not _is_word(after):
                text = text[:start] + _MASK + _MASK_REST * (len(name) - 1) + text[end:]
            start = text.find(name, end)
    return text


#: Where a sentence ends: a full stop, question or exclamation mark before a space, or a
#: line break (a heading or list item ends with its line).
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence (or line) around ``text[start:end]``."""
    before = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    after = _SENTENCE_END.search(text, end)
    return text[before : after.start() if after else len(text)]


def _excerpt(text: str, start: int, end: int) -> str:
    words = " ".join(text[start:end].split())
    return words if len(words) <= EXCERPT else words[: EXCERPT - 1] + "…"


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _matches(compiled: _Compiled, text: str, present: dict[str, bool]) -> Iterator[tuple[int, int]]:
    """Spans where one compiled pattern matches ``text`` (lowered and masked).

    ``present`` remembers which needed words ``text`` holds, for the other patterns.
    """
    if compiled.needs is not None:
        for word in compiled.needs:
            if (found := present.get(word)) is None:
                found = present[word] = word in text
            if found:
                break
        else:
            return
    position = 0
    while (match := compiled.pattern.search(text, position)) is not None:
        start, end = match.span()
        if compiled.boundary and start > 0 and _is_word(text[start - 1]):
            position = start + 1  # not at a word's start: look again from the next character
            continue
        yield start, end
        position = max(end, start + 1)


def find(
    text: str, names: Iterable[str], rules: RuleSet | None, first_line: int = 1
) -> tuple[Hit, ...]:
    """Every hit of ``rules`` in ``text``, in order of rule, then position.

    ``names`` are the monograph's own names (what ``{drug}`` stands for);
    ``first_line`` is the line of the file where ``text`` starts.
    """
    if rules is None:
        return ()
    masked = _masked(_lowered(text), names)
    spans: list[tuple[int, int, int, Rule]] = []
    present: dict[str, bool] = {}
    for compiled in _compiled(rules):
        for start, end in _matches(compiled, masked, present):
            if compiled.unless:
                sentence = _sentence(masked, start, end)
                if any(p.search(sentence) for p in compiled.unless):
                    continue
            spans.append((rules.rules.index(compiled.rule), start, end, compiled.rule))
    spans.sort(key=lambda span: span[:2])
    hits: list[Hit] = []
    reached: dict[int, int] = {}  # rule -> end of its last hit: two patterns, one phrase
    for number, start, end, rule in spans:
        if start < reached.get(number, -1):
            continue
        reached[number] = end
        line = first_line + text.count("\n", 0, start)
        hits.append(Hit(rule, line, _excerpt(text, start, end)))
    return tuple(hits)


def names_of(monograph: Monograph) -> tuple[str, ...]:
    """The names that stand for a monograph's medicine: its title, generic name, components."""
    found = [monograph.title, *components_of(monograph.title)]
    if generic := monograph.generic_name:  # parsed from Markdown at each call: once
        found.append(generic)
    # "Lanoteplase (Recombinant)" is also "lanoteplase" in its own text.
    bare = [_PARENTHESES.sub(" ", name) for name in found]
    return tuple(dict.fromkeys(n for n in (*found, *bare) if n.strip()))


_PARENTHESES = re.compile(r"\s*\([^()]*\)")


#: The line that opens and closes front matter (as python-frontmatter's YAML handler sees it).
_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)


def _body(text: str) -> tuple[str, int]:
    """The text after the front matter of a file that parsed, and the line it starts on."""
    found = _BOUNDARY.finditer(text)
    first, second = next(found, None), next(found, None)
    if first is None or second is None:
        return text, 1
    return text[second.end() :], text.count("\n", 0, second.end()) + 1


def check(source: Source, monograph: Monograph, lang: str) -> list[Diagnostic]:
    """``check``'s lines for one monograph: one per rule that matched."""
    return diagnostics(source.display_path, source_hits(source.text, monograph, lang))


def source_hits(text: str, monograph: Monograph, lang: str) -> tuple[Hit, ...]:
    """Every hit in a monograph file's text after its front matter, with the file's lines."""
    body, first_line = _body(text)
    return find(body, names_of(monograph), rules_for(lang), first_line)


def monograph_hits(monograph: Monograph, lang: str) -> tuple[Hit, ...]:
    """Every hit in a parsed monograph (title, intro, sections, disclaimer), for the render path."""
    text = monograph_text(
        monograph.title,
        monograph.intro,
        ((s.heading, s.body) for s in monograph.sections),
        monograph.disclaimer,
    )
    return find(text, names_of(monograph), rules_for(lang))


def says_discontinued(monograph: Monograph, lang: str) -> bool:
    """True when the monograph says its medicine is no longer made (the handout's banner)."""
    return any(h.kind is Kind.DISCONTINUED for h in monograph_hits(monograph, lang))


# -- what check and the render path ask ------------------------------------------------


def diagnostics(path: str, hits: Iterable[Hit]) -> list[Diagnostic]:
    """One ``check`` line per rule that matched: its first line, the words, the other lines.

    One line per rule rather than per hit: Alefacept says it is no longer made
    eight times, and eight lines would bury the files that need a look.
    ``check --report`` lists every hit.
    """
    by_rule: dict[str, list[Hit]] = {}
    for hit in hits:
        by_rule.setdefault(hit.rule.name, []).append(hit)
    found = []
    for rule_hits in by_rule.values():
        first = rule_hits[0]
        rule = first.rule
        others = sorted({h.line for h in rule_hits[1:]} - {first.line})
        also = f"; also line{'s' if len(others) > 1 else ''} " if others else ""
        also += ", ".join(str(n) for n in others[:10]) + (" ..." if len(others) > 10 else "")
        consequence = (
            "; left out of every build and the station"
            if rule.kind is Kind.NOT_A_LEAFLET
            else "; its handout says so on page 1"
        )
        message = (
            f"{rule.kind.label} [{rule.name}]: {rule.message} "
            f"(“{first.excerpt}”){also}{consequence}"
        )
        found.append(Diagnostic(path, first.line, rule.kind.level, message))
    return found


def monograph_text(
    title: str,
    intro: str,
    sections: Iterable[tuple[str, str]],
    disclaimer: str | None,
) -> str:
    """A parsed monograph's words in the order of its file, for :func:`says_discontinued`."""
    parts = [f"# {title}", intro]
    for heading, body in sections:
        parts += [f"### {heading}", body]
    if disclaimer:
        parts.append(disclaimer)
    return "\n\n".join(parts)


def kinds_in(hits: Iterable[Hit]) -> frozenset[Kind]:
    """The kinds among some hits."""
    return frozenset(hit.kind for hit in hits)


# -- check --report ---------------------------------------------------------------------

#: A content-rule line of ``check`` (what :func:`diagnostics` writes), read back for the report.
_LINE = re.compile(
    r"^(?P<kind>not a leaflet|discontinued) \[(?P<rule>[^\]]+)\]: .*?\(“(?P<excerpt>.*)”\)"
    r"(?:; also lines? (?P<also>[0-9, .]+))?;"
)


@dataclass(frozen=True)
class Finding:
    """One content-rule line of ``check``, read back: file, first line, rule, the other lines."""

    path: str
    line: int | None
    kind: Kind
    rule: str
    excerpt: str
    also: str


def findings(found: Iterable[Diagnostic]) -> list[Finding]:
    """The content-rule lines among ``check``'s diagnostics (the parse cache keeps only text)."""
    kinds = {kind.label: kind for kind in Kind}
    result = []
    for diagnostic in found:
        match = _LINE.match(diagnostic.message)
        if match is not None:
            result.append(
                Finding(
                    diagnostic.path,
                    diagnostic.line,
                    kinds[match.group("kind")],
                    match.group("rule"),
                    match.group("excerpt"),
                    (match.group("also") or "").strip(" ."),
                )
            )
    return result


def report(found: Iterable[Diagnostic]) -> str:
    """The ``check --report`` section: monographs per kind and rule, then every one of them."""
    listed = findings(found)
    lines = [
        "content rules ("
        + ", ".join(f"{lang}.toml" for lang in languages())
        + f" in {RULES_DIR.parent.parent.name}/{RULES_DIR.parent.name}/{RULES_DIR.name}): "
        f"{len({f.path for f in listed})} monographs"
    ]
    for kind in Kind:
        of_kind = [f for f in listed if f.kind is kind]
        consequence = (
            "left out of every build and the station"
            if kind is Kind.NOT_A_LEAFLET
            else "a banner on the handout's page 1"
        )
        lines.append(f"  {kind.label}: {len({f.path for f in of_kind})} monographs ({consequence})")
        per_rule: dict[str, set[str]] = {}
        for finding in of_kind:
            per_rule.setdefault(finding.rule, set()).add(finding.path)
        lines.extend(f"    {rule:<28} {len(paths)}" for rule, paths in sorted(per_rule.items()))
    for kind in Kind:
        of_kind = [f for f in listed if f.kind is kind]
        if of_kind:
            lines.append(f"{kind.label}:")
        for f in sorted(of_kind, key=lambda f: (f.path, f.line or 0)):
            where = f.path if f.line is None else f"{f.path}:{f.line}"
            also = f" (also {f.also})" if f.also else ""
            lines.append(f"  {where}  {f.rule}  “{f.excerpt}”{also}")
    return "\n".join(lines) + "\n"
