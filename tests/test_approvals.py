"""Approval of editions on the command line: ``medpdf approve``, ``medpdf review``,
``--approved-only`` builds, and the "Reviewed by" footer.

Every test works in its own temporary folder with invented monographs; the
approvals file and the approved editions live in its ``content/``, the record
in its ``output/record``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pdfplumber
import pytest
from conftest import MINIMAL, REPO, invoke_cli, normalise
from waiting import PATIENCE

from medpdf.content import approvals, sources

NOT_A_LEAFLET = MINIMAL.format(title="Melavinus").replace(
    "Melavinus treats an imaginary condition.", "Melavinus (hypothetical) lowers blood pressure."
)


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "content"
    folder.mkdir()
    for title in ("Zentorex", "Quorvalin", "Lorvane"):
        (folder / f"{title.lower()}.md").write_text(MINIMAL.format(title=title), encoding="utf-8")
    (folder / "melavinus.md").write_text(NOT_A_LEAFLET, encoding="utf-8")
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def footer_texts(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [normalise(page.extract_text() or "") for page in pdf.pages]


# --------------------------------------------------------------------------- approve


def test_approve_records_the_edition_who_and_when_with_the_content(content: Path):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = invoke_cli("approve", "zentorex", "Quorvalin", "--by", "A. Pharmacist")
    assert result.exit_code == 0, result.output
    zentorex, quorvalin = sha256(content / "zentorex.md"), sha256(content / "quorvalin.md")
    assert result.stdout.splitlines() == [
        f"approved zentorex (version {zentorex[:12]}) by A. Pharmacist",
        f"approved quorvalin (version {quorvalin[:12]}) by A. Pharmacist",
    ]
    data = tomllib.loads((content / "approvals.toml").read_text(encoding="utf-8"))
    assert set(data) == {"zentorex", "quorvalin"}
    assert data["zentorex"]["edition"] == zentorex
    assert data["zentorex"]["by"] == "A. Pharmacist"
    assert data["zentorex"]["path"] == "zentorex.md"
    assert data["zentorex"]["title"] == "Zentorex"
    at = data["zentorex"]["at"]
    assert before <= at <= dt.datetime.now(dt.UTC)
    # The approved text is kept by its hash, with the content, and is not a monograph.
    kept = content / "_approved" / zentorex[:2] / f"{zentorex}.md"
    assert kept.read_bytes() == (content / "zentorex.md").read_bytes()
    assert all("_approved" not in p.parts for p in sources.discover(content))
    # Nothing half-written is left beside the file.
    assert sorted(p.name for p in content.iterdir() if p.name.startswith(".")) == []


def test_every_approval_goes_into_the_record(content: Path):
    invoke_cli("approve", "zentorex", "--by", "A. Pharmacist")
    edit(content / "zentorex.md", "One tablet daily.", "Two tablets daily.")
    invoke_cli("approve", "zentorex", "--by", "B. Chemist")
    result = invoke_cli("review", "--history")
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("1  ") and "approved  Zentorex [" in lines[0]
    assert lines[0].endswith("by A. Pharmacist  via cli")
    assert lines[1].endswith("by B. Chemist  via cli")
    assert f"[{sha256(content / 'zentorex.md')[:12]}]" in lines[1]


def test_approving_the_same_edition_again_changes_nothing(content: Path):
    invoke_cli("approve", "zentorex", "--by", "A. Pharmacist")
    first = (content / "approvals.toml").read_bytes()
    again = invoke_cli("approve", "zentorex", "--by", "Someone Else")
    assert again.exit_code == 0
    assert "was already approved by A. Pharmacist on" in again.stdout
    assert (content / "approvals.toml").read_bytes() == first


def test_what_is_not_a_leaflet_cannot_be_approved(content: Path):
    result = invoke_cli("approve", "zentorex", "melavinus", "--by", "A. Pharmacist")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("content/melavinus.md:")
    assert ": error: cannot be approved: not a leaflet [hypothetical-product]: " in line
    assert not (content / "approvals.toml").exists()  # not even zentorex: all or nothing


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [
        (["approve", "zentorex"], 2, "Missing option '--by'"),
        (["approve", "zentorex", "--by", "  "], 2, "--by needs the approver's name"),
        (["approve", "zentorex", "--by", "x" * 81], 2, "at most 80 printable characters"),
        (["approve", "zentorx", "--by", "A"], 2, "did you mean: zentorex"),
    ],
)
def test_a_bad_approve_command_is_one_line(content: Path, args, status: int, said: str):
    result = invoke_cli(*args)
    assert result.exit_code == status
    assert said in result.stderr
    assert not (content / "approvals.toml").exists()


def test_a_damaged_approvals_file_is_one_line_naming_it(content: Path):
    (content / "approvals.toml").write_text('[zentorex]\nedition = "abc"\n', encoding="utf-8")
    result = invoke_cli("approve", "quorvalin", "--by", "A. Pharmacist")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "medpdf: error: content/approvals.toml:1: [zentorex]: edition must be the 64 hex "
        "digits of the file's SHA-256"
    )


def test_names_that_need_quoting_and_any_approver_name_survive_the_file(tmp_path: Path):
    when = dt.datetime(2026, 12, 10, 9, 14, 5, tzinfo=dt.UTC)
    made = [
        approvals.Approval("a.b c", "a" * 64, 'Zoë "Doc" O\'Neil \\ 医生', when, "x/a.b c.md", "T"),
        approvals.Approval("plain-slug", "b" * 64, "A. Pharmacist", when),
    ]
    text = approvals.render(made)
    assert "[plain-slug]" in text and '["a.b c"]' in text
    assert list(approvals.parse(text, tmp_path / "approvals.toml").values()) == sorted(
        made, key=lambda a: a.slug
    )


def test_two_processes_approving_at_once_lose_nothing(content: Path):
    for number in range(12):
        title = f"Drug{number:02d}"
        (content / f"drug{number:02d}.md").write_text(MINIMAL.format(title=title), "utf-8")
    script = (
        "import sys; from pathlib import Path; from medpdf.content import approvals, sources\n"
        "folder = Path(sys.argv[1])\n"
        "for slug in sys.argv[2:]:\n"
        "    approvals.approve(folder, [(sources.read(folder / f'{slug}.md'), slug)], slug)\n"
    )
    evens = [f"drug{n:02d}" for n in range(0, 12, 2)]
    odds = [f"drug{n:02d}" for n in range(1, 12, 2)]
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.Popen([sys.executable, "-c", script, str(content), *names], env=env)
        for names in (evens, odds)
    ]
    assert [run.wait(timeout=PATIENCE) for run in runs] == [0, 0]
    found = approvals.load(content).by_slug
    assert set(found) == set(evens) | set(odds)
    assert all(found[slug].by == slug for slug in found)


# --------------------------------------------------------------------------- review


def test_review_lists_what_is_new_or_changed_with_a_word_diff(content: Path):
    invoke_cli("approve", "zentorex", "quorvalin", "--by", "A. Pharmacist")
    edit(content / "zentorex.md", "Avoid alcohol.", "Avoid alcohol and grapefruit juice.")
    edit(content / "zentorex.md", "Drowsiness.", "Headache.")
    result = invoke_cli("review")
    assert result.exit_code == 0
    out = result.stdout.splitlines()
    now = sha256(content / "zentorex.md")[:12]
    assert out[0] == "content/lorvane.md: awaiting review: never approved (version " + (
        sha256(content / "lorvane.md")[:12] + ")"
    )
    assert out[1].startswith(f"content/zentorex.md: awaiting review: version {now} changed since ")
    assert "A. Pharmacist approved version" in out[1]
    # Two changes a few words apart are one hunk, from the line its first word is on.
    dosage = 1 + (content / "zentorex.md").read_text().split("\n").index("One tablet daily.")
    assert out[2] == (
        f"  line {dosage}: One tablet daily. ### Side Effects [-Drowsiness.-] {{+Headache.+}} "
        "### How it Works It binds to a receptor. ### Precautions Avoid [-alcohol.-] "
        "{+alcohol and grapefruit juice.+} ### FAQs **Q: Is this real?**"
    )
    assert out[3].startswith("content/melavinus.md:")
    assert out[3].endswith(": not a leaflet [hypothetical-product]: cannot be approved")
    assert len(out) == 4  # quorvalin is approved and unchanged
    assert result.stderr.splitlines()[-1] == "2 awaiting review (1 changed, 1 new); 1 not a leaflet"


def test_review_works_in_a_fresh_clone_of_the_content(content: Path, tmp_path: Path):
    invoke_cli("approve", "zentorex", "--by", "A. Pharmacist")
    clone = tmp_path / "clone"
    shutil.copytree(content, clone / "content")  # what git would bring: no output/, no record
    edit(clone / "content" / "zentorex.md", "One tablet daily.", "One tablet twice daily.")
    result = invoke_cli("review", "--content", str(clone / "content"), "zentorex")
    assert result.exit_code == 0
    assert "One tablet {+twice+} daily." in result.stdout
    assert not (clone / "output").exists()


def test_a_reflowed_paragraph_is_not_a_change():
    old = "One tablet daily,\nwith food.\n"
    assert approvals.word_diff(old, "One tablet daily, with food.\n") == ()
    [hunk] = approvals.word_diff(old, "One tablet\ndaily, without food.\n")
    assert hunk.plain() == "line 1: One tablet daily, [-with-] {+without+} food."


# --------------------------------------------------------------------------- builds


@pytest.mark.slow
def test_approved_only_builds_leave_out_unapproved_editions_and_say_why(content: Path):
    invoke_cli("approve", "zentorex", "--by", "A. Pharmacist")
    result = invoke_cli("handouts", "-j", "1", "--approved-only")
    assert result.exit_code == 1
    built = sorted(p.name for p in (content.parent / "output" / "handouts").glob("*.pdf"))
    assert built == ["zentorex.pdf"]
    lorvane = sha256(content / "lorvane.md")[:12]
    assert (
        f"content/lorvane.md: error: awaiting review: never approved (version {lorvane}); "
        "left out (approved_only)"
    ) in result.stdout.splitlines()
    assert "left out: content/lorvane.md, content/melavinus.md, content/quorvalin.md" in (
        result.stderr
    )
    # Without the flag every leaflet is built; only the approved one says who reviewed it.
    everything = invoke_cli("handouts", "-j", "1")
    assert everything.exit_code == 1  # melavinus, not a leaflet
    folder = content.parent / "output" / "handouts"
    today = dt.datetime.now(dt.UTC).astimezone().date().isoformat()
    assert f"Reviewed by A. Pharmacist, {today}" in footer_texts(folder / "zentorex.pdf")[0]
    assert "Reviewed by" not in " ".join(footer_texts(folder / "lorvane.pdf"))


@pytest.mark.slow
def test_the_booklet_with_approved_only_holds_only_approved_editions(content: Path):
    invoke_cli("approve", "zentorex", "lorvane", "--by", "A. Pharmacist")
    result = invoke_cli("booklet", "-j", "1", "--approved-only")
    assert "booklet: 2 monographs" in result.stderr
    text = " ".join(footer_texts(content.parent / "output" / "booklet.pdf"))
    assert "Zentorex" in text and "Lorvane" in text and "Quorvalin" not in text


def test_a_handout_with_approved_only_is_refused_then_made_then_refused_again(content: Path):
    def handout() -> object:
        return invoke_cli("handout", "zentorex", "--approved-only", "-o", "z.pdf")

    refused = handout()
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    version = sha256(content / "zentorex.md")[:12]
    assert refused.stderr == (  # type: ignore[attr-defined]
        f"content/zentorex.md: error: awaiting review: never approved (version {version}); "
        "not handed out (approved_only)\n"
    )
    invoke_cli("approve", "zentorex", "--by", "A. Pharmacist")
    made = handout()
    assert made.exit_code == 0  # type: ignore[attr-defined]
    pages = footer_texts(content.parent / "z.pdf")
    assert all("Reviewed by A. Pharmacist, " in page for page in pages)
    edit(content / "zentorex.md", "One tablet daily.", "Two tablets daily.")
    again = handout()
    assert again.exit_code == 1  # type: ignore[attr-defined]
    assert f"changed since A. Pharmacist approved version {version} on " in again.stderr  # type: ignore[attr-defined]


def test_approved_only_is_a_station_setting_of_medpdf_toml(content: Path):
    (content.parent / "medpdf.toml").write_text("[station]\napproved_only = true\n", "utf-8")
    result = invoke_cli("handout", "quorvalin", "-o", "q.pdf")
    assert result.exit_code == 1
    assert "not handed out (approved_only)" in result.stderr
    flag = invoke_cli("handout", "quorvalin", "-o", "q.pdf", "--no-approved-only")
    assert flag.exit_code == 0
    bad = "[station]\napproved_only = 'yes'\n"
    (content.parent / "medpdf.toml").write_text(bad, "utf-8")
    wrong = invoke_cli("handout", "quorvalin")
    assert wrong.exit_code == 2
    assert "station.approved_only: must be true or false" in wrong.stderr


def test_the_approvers_name_is_text_in_the_footer_never_markup(content: Path):
    from medpdf.content import model
    from medpdf.html import templating
    from medpdf.settings import config

    source = sources.read(content / "zentorex.md")
    review = approvals.Review("A. <b>Ph</b> & Co", dt.date(2026, 12, 10))
    html = templating.monograph_html(model.build(source), config.make(), review=review)
    assert "Reviewed by A. &lt;b&gt;Ph&lt;/b&gt; &amp; Co, 2026-12-10" in html
    assert "<b>Ph</b>" not in html
