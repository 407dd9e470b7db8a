"""Hostile monographs through the real command line: `check`, `build` and `handout`.

One content folder holds every kind of hostile file from the threat model
(docs/running/threat-model.md): fetching HTML, scripts, template syntax, HTML in the
title, absurd nesting, and files that are not monographs at all. Each must end
as one error line naming the file, or as a PDF that fetched nothing (the
loopback listener saw no request), holds no byte of the secret file, embeds no
file and carries no script or non-web link. One `build` renders the few PDFs.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from conftest import (
    MINIMAL,
    Listener,
    Secret,
    assert_pdf_safe,
    invoke_cli,
    normalise,
    normalised_text,
    squeezed,
    write_monograph,
)

from medpdf.content.sources import MAX_SOURCE_BYTES


def hostile_html(secret: Secret, base: str) -> str:
    """Every way raw HTML, CSS, SVG or a link could fetch, run or attach something."""
    s, h = secret.uri, base
    title = f'Hostilex <b>bold</b> {{{{ 7*7 }}}} </title><link rel="stylesheet" href="{h}/t.css">'
    return f"""---
layout: "{{{{ config }}}}{{% include '/etc/passwd' %}}"
title: '{title}<img src="{s}">'
description: "{{{{ ''.__class__.__mro__ }}}}"
---

# Hostilex

### Generic Name
Hostilex <img src="{s}"> <img src="{h}/generic.png"> <img src="private/secret.css">

### Usage
Text {{{{ 7*7 }}}} and {{% if true %}}JINJA-RAN{{% endif %}} stays literal.

<script>document.write("SCRIPT-RAN")</script>

<link rel="stylesheet" href="{h}/link.css">
<link rel="stylesheet" href="{s}">
<link rel="attachment" href="{s}">
<link rel="attachment" href="{h}/attach.bin">

<style>@import url("{h}/import.css"); @import url("{s}");
p {{ background: url("{h}/bg.png") }}</style>

Inline <style>@import url("{h}/inline-import.css");</style> style
and <span style="background: url('{s}')">span</span>.

<p style="background-image: url('{h}/style-attr.png'); content: url('{s}')">styled paragraph</p>

<object data="{s}" type="text/css"></object>
<object data="{h}/object.bin"></object>
<iframe src="{s}"></iframe>
<iframe src="https://example.invalid/frame.html"></iframe>
<embed src="{s}">
<embed src="{h}/embed.swf">

### Dosage
<svg width="20" height="20"><image href="{h}/svg-image.png" width="9" height="9"/>
<image xlink:href="{s}"/></svg>

<svg width="20" height="20"><use href="{h}/sprite.svg#pill"/><use href="{s}#x"/></svg>

![pill picture]({h}/markdown.png) ![secret picture]({s})

### Side Effects
[javascript link](javascript:alert(1)), [upper](JAVASCRIPT:alert(2)),
[file link]({s}), <a href="javascript:alert(3)">raw js</a>,
<a href="{s}" rel="attachment">raw attachment</a>, <{s}>,
and <a href="vbscript:msgbox(1)">vb</a>.

The [web link](https://example.org/leaflet) stays a link.

### How it Works
<form action="{h}/form"><input name="q" value="x"><button>send</button></form>
<meta http-equiv="refresh" content="0;url={h}/meta"> <base href="{h}/">

### Precautions
<video src="{h}/v.mp4" poster="{s}"></video> <audio src="{h}/a.mp3"></audio>
<math><mi xlink:href="{h}/math">m</mi></math> <img srcset="{h}/set.png 2x" src="data:,">

### FAQs
**Q: Safe?**

A: Sentinel answer text.

**Disclaimer:** Not advice <img src="{h}/disclaimer.png"> [d]({s}) {{{{ 7*7 }}}}.
"""


def deep_markdown() -> str:
    """Thousands of nesting markers of every kind, and very long lines."""
    deep = "\n\n".join(
        [
            ">" * 5000 + " quoted-deep",
            "- " * 5000 + "listed-deep",
            "1. " * 3000 + "numbered-deep",
            "[" * 5000 + "\n\nbracketed-deep",
            "*" * 5000 + "starred-deep" + "*" * 5000,
            "_" * 5000 + "underscored-deep" + "_" * 5000,
            "<sub>" * 3000 + "subbed-deep",
            "x" * 20_000 + " long-line-end",
            "word " * 3000 + "wordy-line-end",
        ]
    )
    return MINIMAL.format(title="Deepnest").replace("Drowsiness.", deep)


#: Files that are not valid monographs, and the one error each must produce.
BROKEN: dict[str, tuple[bytes, str]] = {
    "empty": (b"", r":1: error: missing front matter \(expected '---' block\)"),
    "binary": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        r": error: binary file \(contains NUL bytes\), not a monograph",
    ),
    "latin1": (
        "---\ntitle: Café\n---\n# Café\nText.\n".encode("latin-1"),
        r":2: error: not valid UTF-8 \(byte \d+\)",
    ),
    "broken-yaml": (
        b"---\ntitle: Zentorex: XR\n---\n# Z\nText.\n",
        r":2: error: broken front matter: mapping values are not allowed in this context",
    ),
    "no-front-matter": (
        b"# Zentorex\n### Usage\nText.\n",
        r":1: error: missing front matter \(expected '---' block\)",
    ),
    "no-title": (
        b"---\nlayout: minimal-medicine\n---\n# Z\nText.\n",
        r":1: error: front matter has no 'title'",
    ),
    "yaml-object": (
        b"---\ntitle: !!python/object/apply:os.system ['echo PWNED']\n---\n# Z\nText.\n",
        r":2: error: broken front matter: could not determine a constructor .*",
    ),
    "zz-duplicate": (
        MINIMAL.format(title="QUORVALIN").encode(),
        r": error: duplicate title 'QUORVALIN' \(also content/quorvalin\.md\)",
    ),
    "huge": (
        MINIMAL.format(title="Hugex").encode() + b"filler text. " * (4 * 1024 * 1024 // 13),
        rf": error: file is \d+ bytes; the limit is {MAX_SOURCE_BYTES} bytes",
    ),
}

#: Monographs that must build: (slug, text that must reach the PDF).
BUILT = {
    "hostilex": ["Sentinel answer text.", "pill picture", "web link", "styled paragraph"],
    "deepnest": [
        "quoted-deep",
        "listed-deep",
        "numbered-deep",
        "bracketed-deep",
        "starred-deep",
        "underscored-deep",
        "wordy-line-end",
    ],
    "quorvalin": ["Quorvalin treats an imaginary condition."],
}


@dataclass(frozen=True)
class Workspace:
    root: Path
    listener: Listener
    secret: Secret


@pytest.fixture
def workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listener: Listener, secret: Secret
) -> Workspace:
    monkeypatch.chdir(tmp_path)
    content = tmp_path / "content"
    write_monograph(content, "hostilex", hostile_html(secret, listener.base))
    write_monograph(content, "deepnest", deep_markdown())
    write_monograph(content, "quorvalin", MINIMAL.format(title="Quorvalin"))
    for slug, (data, _) in BROKEN.items():
        (content / f"{slug}.md").write_bytes(data)
    return Workspace(tmp_path, listener, secret)


def error_lines(output: str) -> dict[str, str]:
    """``{slug: line}`` for each error line; fails on a second error for one file."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"^content/([^/:]+)\.md(?::\d+)?: error: ", line)
        if match:
            assert match.group(1) not in found, line
            found[match.group(1)] = line
    return found


def assert_one_error_per_broken_file(output: str) -> None:
    errors = error_lines(output)
    assert sorted(errors) == sorted(BROKEN)
    for slug, (_, pattern) in BROKEN.items():
        assert re.fullmatch(rf"content/{slug}\.md{pattern}", errors[slug]), errors[slug]


@pytest.mark.slow
def test_check_and_build_of_a_hostile_collection(workspace: Workspace) -> None:
    # Reading grades are not the point here: without --max-grade they are one summary line
    # on stderr, not a warning per file.
    checked = invoke_cli("check")
    assert checked.exit_code == 1
    assert_one_error_per_broken_file(checked.stdout)
    warnings = [line for line in checked.stdout.splitlines() if ": warning: " in line]
    assert [w.split(":")[0] for w in warnings] == ["content/deepnest.md"]
    assert "nested more than" in warnings[0]
    files = len(BROKEN) + len(BUILT)
    assert checked.stderr.splitlines()[-1] == (
        f"checked {files} monographs: {len(BROKEN)} errors, 1 warnings"
    )

    built = invoke_cli("build")
    assert built.exit_code == 1
    # The same one-line errors as `check`, and nothing about the hostile files.
    assert_one_error_per_broken_file(built.stdout)
    assert built.stdout.splitlines() == [
        line for line in checked.stdout.splitlines() if ": error: " in line
    ]
    assert f"; {len(BROKEN)} monographs failed" in built.stderr
    assert "refused" not in built.stderr  # the sanitizer left nothing to refuse

    handouts = workspace.root / "output" / "handouts"
    assert sorted(p.stem for p in handouts.glob("*.pdf")) == sorted(BUILT)
    assert workspace.listener.requests == []
    for slug, expected in BUILT.items():
        data = (handouts / f"{slug}.pdf").read_bytes()
        text = normalised_text(data)
        assert_pdf_safe(data, workspace.secret.marker, text)
        for snippet in expected:
            assert normalise(snippet) in text, (slug, snippet)
        for leaked in ("SCRIPT-RAN", "HTTP-REACHED", "PWNED"):
            assert leaked not in text, (slug, leaked)

    hostile = (handouts / "hostilex.pdf").read_bytes()
    text = squeezed(normalised_text(hostile))
    # HTML and template syntax in the title print as written, in the page and the metadata.
    assert squeezed("Hostilex <b>bold</b> {{ 7*7 }} </title><link") in text
    assert squeezed("{{ 7*7 }} and {% if true %}JINJA-RAN{% endif %} stays literal") in text
    with pikepdf.open(io.BytesIO(hostile)) as doc:
        assert str(doc.docinfo["/Title"]).startswith("Hostilex <b>bold</b> {{ 7*7 }}")
        uris = [
            str(annot.A.URI)
            for page in doc.pages
            for annot in page.get("/Annots", [])
            if "/A" in annot
        ]
    # The targets, not the annotations: a link that wraps is one annotation per line.
    assert uris and set(uris) == {"https://example.org/leaflet"}


@pytest.mark.parametrize("slug", sorted(set(BROKEN) - {"zz-duplicate"}))
def test_handout_of_a_broken_file_is_its_one_check_line(workspace: Workspace, slug: str) -> None:
    result = invoke_cli("handout", slug)
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert re.fullmatch(rf"content/{slug}\.md{BROKEN[slug][1]}", line), line
    assert not (workspace.root / "output").exists()
