"""The real collection: check all of it, render a deterministic sample.

Everything here goes through the ``corpus_dir`` fixture, so a fresh clone
without ``../shared/corpus`` skips these tests. Budget: about a minute on two
cores (one ``check`` run, one collection scan, ~30 handouts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner, Result
from conftest import normalise

from medpdf.cli import cli
from medpdf.content import collection as scanning
from medpdf.content import model, sources
from medpdf.products.handouts import render_one
from medpdf.run.contract import RunContext
from medpdf.settings import config

pytestmark = pytest.mark.corpus

MM = 72 / 25.4
HEADER_BAND = 22 * MM  # @page margins in styles/handout.css
FOOTER_BAND = 24 * MM
FOOTER_PHRASE = "not medical advice"
SAMPLE_STEP = 200
PLUS_TITLES = 4

SUMMARY = re.compile(r"checked (\d+) monographs: (\d+) errors, (\d+) warnings")
GRADE_SUMMARY = re.compile(
    r"reading grade: [\d,]+ of [\d,]+ monographs are above grade 8 "
    r"\(Flesch-Kincaid, median \d+\.\d\); --max-grade N or \[check\] max_grade warns for each, "
    r"--report shows the distribution"
)
DIAGNOSTIC = re.compile(r"^\S.*?(:\d+)?: (error|warning): \S.*$")


def no_space(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def corpus_paths(corpus_dir: Path) -> list[Path]:
    return sources.discover(corpus_dir)


@dataclass(frozen=True)
class Checked:
    result: Result
    collection: scanning.Collection


@pytest.fixture(scope="module")
def checked(corpus_dir: Path) -> Checked:
    """Run ``medpdf check`` once and keep the collection it scanned.

    Scanning the corpus takes ~10 s; the CLI's own ``collection.scan`` call is
    observed instead of repeated (and repeated if it was not made).
    """
    loaded: list[scanning.Collection] = []
    real = scanning.scan

    def observe(
        content_dir: Path, store: object = None, rules: object = None
    ) -> scanning.Collection:
        found = real(content_dir, store, rules)  # type: ignore[arg-type]
        loaded.append(found)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scanning, "scan", observe)
        result = CliRunner().invoke(cli, ["check", "--content", str(corpus_dir)])
    collection = loaded[-1] if loaded else real(corpus_dir)
    return Checked(result, collection)


@pytest.fixture(scope="module")
def collection(checked: Checked) -> scanning.Collection:
    return checked.collection


def test_check_whole_corpus(checked: Checked, corpus_paths: list[Path]) -> None:
    result = checked.result
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1), result.output[-2000:]

    summaries = SUMMARY.findall(result.stderr)
    assert len(summaries) == 1, result.stderr[-2000:]
    checked, errors, warnings = (int(n) for n in summaries[0])
    assert 6200 <= checked < 6300
    assert checked == len(corpus_paths)
    # Exit status follows the error count (no --strict).
    assert result.exit_code == (1 if errors else 0)
    # Without --max-grade or [check] max_grade, reading grades are one summary line.
    grade_lines = [line for line in result.stderr.splitlines() if line.startswith("reading grade")]
    assert len(grade_lines) == 1, result.stderr[-2000:]
    assert GRADE_SUMMARY.fullmatch(grade_lines[0]), grade_lines[0]

    lines = result.stdout.splitlines()
    assert len(lines) == errors + warnings
    assert not [line for line in lines if ": warning: reading grade " in line]
    malformed = [line for line in lines if not DIAGNOSTIC.match(line)]
    assert not malformed, malformed[:10]
    assert sum(": error: " in line for line in lines) == errors


def test_every_file_parses(collection: scanning.Collection, corpus_paths: list[Path]) -> None:
    assert collection.files_seen == len(corpus_paths)
    crashes = [d.format() for d in collection.diagnostics if "cannot parse" in d.message]
    assert not crashes, crashes[:10]
    # Nearly everything becomes a monograph; the rest are reported errors.
    dropped = collection.files_seen - len(collection.monographs)
    assert dropped == len({d.path for d in collection.errors})
    assert len(collection.monographs) > 0.95 * collection.files_seen


def sample_paths(paths: list[Path], collection: scanning.Collection) -> list[Path]:
    """Every SAMPLE_STEP-th path, the largest file and a few '+' combinations."""
    chosen = paths[::SAMPLE_STEP]
    chosen.append(max(paths, key=lambda p: (p.stat().st_size, p.as_posix())))
    plus = sorted((m for m in collection.monographs if "+" in m.title), key=lambda m: m.source_path)
    assert len(plus) >= PLUS_TITLES
    step = len(plus) // PLUS_TITLES
    by_display = {sources.display_path(p): p for p in paths}
    chosen += [by_display[m.source_path] for m in plus[::step][:PLUS_TITLES]]
    return list(dict.fromkeys(chosen))  # keep order, drop repeats


def check_pdf(path: Path, title: str) -> list[str]:
    problems: list[str] = []
    with pdfplumber.open(path) as doc:
        pages = doc.pages
        if not pages:
            return ["no pages"]
        first = pages[0]
        body = first.crop((0, HEADER_BAND, first.width, first.height - FOOTER_BAND))
        if no_space(title) not in no_space(body.extract_text() or ""):
            problems.append(f"title {title!r} not on page 1")
        total = len(pages)
        fonts = {char["fontname"] for page in pages for char in page.chars}
        if foreign := sorted(f for f in fonts if "DejaVu" not in f):
            problems.append(f"fonts other than DejaVu: {foreign}")
        for number, page in enumerate(pages, 1):
            footer = page.crop((0, page.height - FOOTER_BAND, page.width, page.height))
            footer_text = footer.extract_text() or ""
            if FOOTER_PHRASE not in normalise(footer_text):
                problems.append(f"page {number}: no footer disclaimer in {footer_text!r}")
            if f"Page {number} of {total}" not in footer_text:
                problems.append(f"page {number}: no 'Page {number} of {total}'")
    return problems


def test_sample_renders(
    corpus_paths: list[Path], collection: scanning.Collection, tmp_path: Path
) -> None:
    sample = sample_paths(corpus_paths, collection)
    assert 25 <= len(sample) <= 45
    context = RunContext.of(config.make(content_dir=tmp_path, output_dir=tmp_path / "output"))
    failures: dict[str, list[str]] = {}
    for path in sample:
        source = sources.read(path)
        monograph = model.build(source)
        target = tmp_path / f"{monograph.slug}.pdf"
        try:
            result = render_one(source, context, target, cached=False)
        except Exception as exc:
            failures[monograph.source_path] = [f"render failed: {exc!r}"]
            continue
        problems = check_pdf(target, monograph.title)
        if result.refused_urls:
            problems.append(f"refused URLs: {result.refused_urls}")
        if problems:
            failures[monograph.source_path] = problems
        target.unlink()
    assert not failures, failures


def test_handout_font_covers_every_character_of_the_corpus(corpus_paths: list[Path]) -> None:
    # fontconfig would silently substitute another face for a missing glyph;
    # the handout font must make that unnecessary for the whole collection.
    import subprocess

    from fontTools.ttLib import TTFont

    used: set[str] = set()
    for path in corpus_paths:
        used.update(path.read_text(encoding="utf-8"))
    printable = {c for c in used if c.isprintable() and not c.isspace()}
    for style in ("DejaVu Sans", "DejaVu Sans:bold", "DejaVu Sans:oblique"):
        font_file = subprocess.run(
            ["fc-match", "-f", "%{file}", style], capture_output=True, text=True, check=True
        ).stdout
        assert "DejaVuSans" in font_file, (style, font_file)
        cmap = TTFont(font_file).getBestCmap()
        missing = sorted(c for c in printable if ord(c) not in cmap)
        assert not missing, (style, missing)


def test_content_rules_over_the_corpus(checked: Checked, collection: scanning.Collection) -> None:
    """Counts per rule of ``check`` over the corpus (printed), and the banner agreeing with it.

    The issue counted, with a plain text search over letters a-u, 64 first-person refusals,
    109 hypothetical or unrecognised products and 168 discontinued medicines; the rules
    count files, read in context (see the closing note of the issue for why they differ).
    """
    from medpdf.content import content_rules

    found = content_rules.findings(
        d for d in collection.diagnostics if d.message.startswith(("not a leaflet", "discont"))
    )
    per_rule: dict[str, set[str]] = {}
    for finding in found:
        per_rule.setdefault(finding.rule, set()).add(finding.path)
    kinds = {kind: {f.path for f in found if f.kind is kind} for kind in content_rules.Kind}
    assistant = set().union(*(p for r, p in per_rule.items() if r.startswith("assistant-")))
    product = per_rule.get("hypothetical-product", set()) | per_rule.get(
        "unrecognised-product", set()
    )
    print("\ncontent rules over the corpus (monographs):")
    for rule, paths in sorted(per_rule.items()):
        print(f"  {rule:<26} {len(paths)}")
    print(f"  assistant voice (any)      {len(assistant)}   (issue: 64 refusals)")
    print(f"  hypothetical/unrecognised  {len(product)}   (issue: 109)")
    print(
        f"  discontinued               {len(kinds[content_rules.Kind.DISCONTINUED])}   (issue: 168)"
    )
    print(f"  not a leaflet (any)        {len(kinds[content_rules.Kind.NOT_A_LEAFLET])}")
    assert 55 <= len(per_rule["assistant-refusal"]) <= 90
    assert 80 <= len(product) <= 130
    assert 150 <= len(kinds[content_rules.Kind.DISCONTINUED]) <= 260
    # Not a leaflet is an error: none of them is in the catalog.
    kept = {m.source_path for m in collection.monographs}
    assert not kinds[content_rules.Kind.NOT_A_LEAFLET] & kept
    # The handout's banner (read from the parsed monograph) agrees with check (read from the
    # file) for every monograph kept: flagged ones have it, the others do not.
    discontinued = kinds[content_rules.Kind.DISCONTINUED]
    disagree = [
        m.source_path
        for m in collection.monographs
        if content_rules.says_discontinued(m, m.lang or "en") != (m.source_path in discontinued)
    ]
    assert not disagree, disagree[:10]
    assert checked.result.stdout.count("warning: discontinued [discontinued]") == len(discontinued)
