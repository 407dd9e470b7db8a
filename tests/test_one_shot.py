"""What keeps a one-shot ``medpdf handout`` quick, and proof that each shortcut changes nothing.

The command's time goes mostly to starting a process: importing WeasyPrint and
medpdf, compiling templates, hashing the presentation files. These tests check
the shortcuts (:mod:`medpdf.pdf.libraries`, the PDF/UA declaration in the XMP,
the lazy presentation fingerprint, the compiled-template cache, lazy imports)
against what they replace.
"""

from __future__ import annotations

import ctypes.util
import io
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import pytest
from conftest import MINIMAL, write_monograph

from medpdf.content import sources
from medpdf.html import templating
from medpdf.pdf import archival, libraries
from medpdf.products import handouts
from medpdf.run import cache, contract
from medpdf.settings import config

LDCONFIG_SAMPLE = (
    b"3 libs found in cache `/etc/ld.so.cache'\n"
    b"\tlibgobject-2.0.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libgobject-2.0.so.0\n"
    b"\tlibharfbuzz-subset.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libharfbuzz-subset.so.0\n"
    b"\tlibharfbuzz.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libharfbuzz.so.0\n"
)


# --------------------------------------------------------------------------- library lookup


def test_lookup_answers_sonames_as_find_library_does() -> None:
    find = libraries.lookup_in(LDCONFIG_SAMPLE)
    assert find("gobject-2.0") == "libgobject-2.0.so.0"
    assert find("harfbuzz") == "libharfbuzz.so.0"  # not libharfbuzz-subset
    assert find("harfbuzz-subset") == "libharfbuzz-subset.so.0"
    # The Windows and macOS spellings WeasyPrint tries first are simply not there.
    assert find("libgobject-2.0-0") is None
    assert find("gobject-2.0-0") is None
    assert find("pango-1.0") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig is glibc's")
def test_lookup_agrees_with_ctypes_on_this_machine() -> None:
    """For libraries the linker cache lists, the answer is what ctypes itself finds."""
    cache_text = libraries._linker_cache()
    if cache_text is None:
        pytest.skip("no ldconfig here")
    find = libraries.lookup_in(cache_text)
    for name in ("gobject-2.0", "pango-1.0", "harfbuzz", "fontconfig", "m"):
        assert find(name) == ctypes.util.find_library(name), name


def test_lookup_is_replaced_only_inside_the_block() -> None:
    original = ctypes.util.find_library
    with pytest.raises(RuntimeError), libraries.linker_cache_lookup():
        if sys.platform.startswith("linux") and libraries._linker_cache() is not None:
            assert ctypes.util.find_library is not original
        raise RuntimeError("the import failed")
    assert ctypes.util.find_library is original


PROBE_IMPORT = textwrap.dedent(
    """
    import ctypes.util, json, subprocess, sys
    original = ctypes.util.find_library
    started = []
    real_init = subprocess.Popen.__init__
    def recording_init(self, args, *rest, **options):
        started.append(args[0] if isinstance(args, (list, tuple)) else args)
        real_init(self, args, *rest, **options)
    subprocess.Popen.__init__ = recording_init
    import medpdf.pdf.typeset
    from weasyprint.text import ffi
    print(json.dumps({
        "started": [str(s) for s in started],
        "restored": ctypes.util.find_library is original,
        "pango": ffi.pango is not None and ffi.harfbuzz is not None,
    }))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig is glibc's")
def test_importing_weasyprint_runs_ldconfig_once_and_no_compiler() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE_IMPORT], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["pango"] and found["restored"]
    programs = [Path(program).name for program in found["started"]]
    # Without the lookup: ldconfig, gcc and ld for each of about 22 names.
    assert programs == ["ldconfig"], programs


# --------------------------------------------------------------------------- PDF/UA in the XMP

WEASYPRINT_RDF = (
    b'<rdf:RDF xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" '
    b'xmlns:pdf="http://ns.adobe.com/pdf/1.3/" '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" pdfaid:part="2" pdfaid:conformance="A" />'
    b'<rdf:Description rdf:about="" pdf:Producer="WeasyPrint 70.0" />'
    b"</rdf:RDF>"
)


def test_pdfua_is_declared_beside_pdfa() -> None:
    declared = archival.declare_accessible(WEASYPRINT_RDF)
    root = ElementTree.fromstring(declared)
    first, second = list(root)
    assert first.get("{http://www.aiim.org/pdfua/ns/id/}part") == "1"
    assert first.get("{http://www.aiim.org/pdfa/ns/id/}part") == "2"
    assert "{http://www.aiim.org/pdfua/ns/id/}part" not in second.attrib
    assert b"pdfuaid:part" in declared and not declared.startswith(b"<?xml")


def test_pdfua_needs_a_pdfa_declaration() -> None:
    with pytest.raises(ValueError, match="no PDF/A part"):
        archival.declare_accessible(
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
        )


def test_a_handout_is_the_same_bytes_twice_and_declares_both(tmp_path: Path) -> None:
    path = write_monograph(tmp_path / "content", "zentorex", MINIMAL.format(title="Zentorex"))
    settings = config.make(content_dir=tmp_path / "content", output_dir=tmp_path / "output")
    job = handouts.HandoutJob(
        sources.read(path), contract.RunContext.of(settings), tmp_path / "x.pdf"
    )
    first, second = handouts.handout_pdf(job), handouts.handout_pdf(job)
    assert first.data == second.data  # the record's archive stores each PDF by its hash
    with pikepdf.open(io.BytesIO(first.data)) as pdf:
        meta = pdf.open_metadata()
        assert str(meta.get("pdfuaid:part")) == "1"
        assert str(meta.get("pdfaid:part")) == "2"
        assert str(meta.get("pdfaid:conformance")) == "A"
        assert "/StructTreeRoot" in pdf.Root


# --------------------------------------------------------------------------- presentation hash


def test_presentation_is_hashed_on_first_use_and_travels_with_the_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    def counted(resources: config.Resources) -> str:
        calls.append(resources)
        return "f" * 64

    monkeypatch.setattr(contract, "presentation_fingerprint", counted)
    context = contract.RunContext.of(config.make(content_dir=tmp_path))
    assert calls == []  # a handout written outside the cache never asks
    key = context.fingerprint
    assert len(calls) == 1 and context.presentation == "f" * 64
    sent = pickle.loads(pickle.dumps(context))  # what a worker receives
    assert sent.presentation == "f" * 64 and sent.fingerprint == key
    assert len(calls) == 1
    unused = pickle.loads(pickle.dumps(contract.RunContext.of(config.make(content_dir=tmp_path))))
    assert unused.known_presentation == "f" * 64 and len(calls) == 2  # hashed before it left


def test_the_real_fingerprint_is_the_same_whenever_it_is_taken(tmp_path: Path) -> None:
    settings = config.make(content_dir=tmp_path)
    early = contract.RunContext.of(settings)
    assert early.presentation == cache.presentation_fingerprint(settings.resources)
    assert contract.RunContext(settings, early.presentation).fingerprint == early.fingerprint


# --------------------------------------------------------------------------- compiled templates


def test_compiled_templates_are_kept_and_an_edit_is_seen(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    # Templates are read beside their catalogs: a folder without them is an incomplete install.
    (tmp_path / "locale").symlink_to(config.DEFAULT_RESOURCES.locale)
    probe = templates / "probe.html.j2"
    probe.write_text("first {{ word }}\n", encoding="utf-8")
    templating.environment.cache_clear()  # as a new process starts
    env = templating.environment(templates)
    store = env.bytecode_cache
    if store is None:
        pytest.skip("no private folder for compiled templates on this machine")
    assert env.get_template("probe.html.j2").render(word="draft") == "first draft\n"
    assert store.directory and any(Path(store.directory).glob("medpdf-*.cache"))

    probe.write_text("second {{ word }}\n", encoding="utf-8")
    templating.environment.cache_clear()
    again = templating.environment(templates)
    assert again.get_template("probe.html.j2").render(word="draft") == "second draft\n"
    templating.environment.cache_clear()


# --------------------------------------------------------------------------- what a handout imports

IMPORTS_OF_A_HANDOUT = textwrap.dedent(
    """
    import json, sys
    from medpdf.cli import main
    sys.argv = ["medpdf", "handout", "zentorex", "--content", sys.argv[1], "-o", sys.argv[2]]
    try:
        main()
    except SystemExit as exit:
        assert not exit.code, exit.code
    heavy = ["pikepdf", "pebble", "segno", "importlib.metadata", "medpdf.accounts",
             "medpdf.printing", "medpdf.record", "medpdf.pdf.assemble", "medpdf.pdf.structure"]
    print(json.dumps([name for name in heavy if name in sys.modules]))
    """
)


def test_a_one_shot_handout_imports_only_what_it_uses(tmp_path: Path) -> None:
    write_monograph(tmp_path / "content", "zentorex", MINIMAL.format(title="Zentorex"))
    target = tmp_path / "zentorex.pdf"
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF_A_HANDOUT, str(tmp_path / "content"), str(target)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    assert target.read_bytes().startswith(b"%PDF-")
