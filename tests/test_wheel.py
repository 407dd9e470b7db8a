"""A wheel carries everything the checkout has: code, templates, styles, assets, catalogs.

The wheel is built from a copy of the files git tracks (no ``make catalogs``
run in it, and a ``.gitignore`` with the common Python template's unanchored
``build/`` and ``*.mo`` lines), installed into a fresh venv, and used from a
folder outside the repository to make a Spanish handout and a Spanish booklet.

Dependencies: the fresh venv has no system site-packages; medpdf itself is
installed into it from the wheel, with ``--no-deps``. Its dependencies are
those of the test's own environment, reached through a ``.pth`` file that adds
that environment's site-packages *after* the venv's own. Installing them again
would take minutes (PyICU compiles against the system ICU) and need the
network; reusing them keeps the test near 20 s and offline. A ``.pth`` line
adds a folder to ``sys.path`` but does not run the ``.pth`` files in it, so
the development environment's editable install (a path to the checkout) stays
out: the test asserts that ``medpdf`` is imported from the venv and that no
path of the checkout is on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pdfplumber
import pytest
from babel.messages.pofile import read_po
from conftest import REPO, invoke_cli, normalised_page_texts

from medpdf import i18n

pytestmark = [pytest.mark.slow, pytest.mark.wheel]

FIXTURES = REPO / "tests" / "fixtures" / "languages"
#: Lines of the common Python .gitignore template that once emptied a wheel.
GITIGNORE_TRAPS = "\n# As in the common Python template:\nbuild/\ndist/\n*.mo\n*.egg-info/\n"
#: Folders whose tracked files the wheel must hold under medpdf/_resources/.
RESOURCE_FOLDERS = ("templates", "styles", "assets", "locale")
#: A fixed print date, so both sides of a comparison print the same words.
EPOCH = "1796083200"  # 2026-12-01


def run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, its output kept as text."""
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def spanish(message: str) -> str:
    """The Spanish catalog's translation of ``message`` (read from the .po source)."""
    with (REPO / "locale" / "es" / "LC_MESSAGES" / "medpdf.po").open("rb") as handle:
        found = read_po(handle).get(message)
    assert found is not None and found.string, message
    return str(found.string)


def tracked_files() -> list[str]:
    """The repository's files as git tracks them (as a fresh clone has them)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: no list of tracked files")
    return [name for name in listed.stdout.decode().split("\0") if name]


def require_build_backend() -> None:
    """The build requirements must be installed here: the wheel is built without downloads."""
    from packaging.requirements import Requirement

    wanted = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    for line in wanted:
        requirement = Requirement(line)
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            pytest.skip(f"{requirement.name} is not installed (pip install -e '.[dev]')")
        assert requirement.specifier.contains(version, prereleases=True), (line, version)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that points Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, "PYTHONNOUSERSITE": "1", **extra}


@dataclass(frozen=True)
class Probe:
    """What the venv's Python imports: medpdf's module, its resources, ``sys.path``."""

    file: Path
    root: Path
    path: list[Path]
    resources: set[str]
    code: set[str]


@dataclass
class Installed:
    """A venv with the wheel installed, and a work folder outside the repository."""

    venv: Path
    work: Path
    wheel: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def medpdf(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(
            [self.venv / "bin" / "medpdf", *args], self.work, clean_env(SOURCE_DATE_EPOCH=EPOCH)
        )

    def probe(self) -> Probe:
        """Where the venv's Python finds medpdf and its resources, and what it installed."""
        script = textwrap.dedent(
            """
            import json, sys, medpdf, medpdf.settings.config as c
            root, package = c.DEFAULT_RESOURCES.root, c.PACKAGE_DIR
            files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
            code = sorted(str(p.relative_to(package.parent)) for p in package.rglob("*")
                          if p.is_file() and p.suffix != ".pyc" and not p.is_relative_to(root))
            print(json.dumps({"file": medpdf.__file__, "root": str(root), "path": sys.path,
                              "resources": files, "code": code}))
            """
        )
        found = json.loads(checked(run([self.python, "-c", script], self.work, clean_env())).stdout)
        return Probe(
            Path(found["file"]),
            Path(found["root"]),
            [Path(p).resolve() for p in found["path"] if p],
            set(found["resources"]),
            set(found["code"]),
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    files = tracked_files()
    require_build_backend()
    base = tmp_path_factory.mktemp("wheel")
    timings: dict[str, float] = {}
    started = time.perf_counter()

    source = base / "clone"
    for name in files:
        origin = REPO / name
        if not origin.exists() and not origin.is_symlink():
            continue  # deleted in the working tree, not yet committed
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, source / name, follow_symlinks=False)
    with (source / ".gitignore").open("a", encoding="utf-8") as handle:
        handle.write(GITIGNORE_TRAPS)
    assert not list(source.glob("locale/*/LC_MESSAGES/*.mo")), "the copy must hold no .mo files"

    dist = base / "dist"
    env = clean_env()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    checked(
        run(
            [*pip, "wheel", "--no-build-isolation", "--no-deps", "--no-index", "-w", dist, source],
            base,
            env,
        )
    )
    timings["build wheel"] = time.perf_counter() - started
    (wheel,) = dist.glob("medpdf-*.whl")

    venv = base / "venv"
    checked(run([sys.executable, "-m", "venv", "--without-pip", venv], base, env))
    checked(
        run(
            [
                *pip,
                "--python",
                venv / "bin" / "python",
                "install",
                "--no-deps",
                "--no-index",
                wheel,
            ],
            base,
            env,
        )
    )
    purelib = run(
        [
            venv / "bin" / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        base,
        env,
    )
    dependencies = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(checked(purelib).stdout.strip()) / "zz_medpdf_test_dependencies.pth").write_text(
        "".join(f"{p}\n" for p in dependencies), encoding="utf-8"
    )
    timings["venv and install"] = time.perf_counter() - started - timings["build wheel"]

    work = base / "work"
    (work / "content").mkdir(parents=True)
    for name in ("ibuprofen.md", "ibuprofen.es.md"):
        shutil.copy2(FIXTURES / name, work / "content" / name)
    yield Installed(venv, work, wheel, timings)


def font_styles(path: Path) -> set[tuple[str, int]]:
    """(font name without its subset tag, size in pt) of every character in the PDF."""
    with pdfplumber.open(path) as doc:
        return {
            (c["fontname"].split("+")[-1], round(c["size"]))
            for page in doc.pages
            for c in page.chars
        }


def test_a_wheel_from_a_fresh_clone_prints_spanish_with_every_template_style_and_font(
    installed: Installed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One test, so that parallel runs build the wheel once."""
    # The wheel itself: every tracked resource, a compiled catalog per language, every file of
    # the package (a data file added beside the code must be added to the wheel's include).
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    tracked = tracked_files()
    resources = [n for n in tracked if n.split("/")[0] in RESOURCE_FOLDERS]
    assert [n for n in resources if f"medpdf/_resources/{n}" not in names] == []
    catalogs = [n[: -len(".po")] + ".mo" for n in resources if n.endswith(".po")]
    assert {n.split("/")[1] for n in catalogs} == set(i18n.SHIPPED)
    assert [n for n in catalogs if f"medpdf/_resources/{n}" not in names] == []
    code = [n for n in tracked if n.startswith("medpdf/")]
    assert [n for n in code if n not in names] == []

    # The venv imports medpdf from the wheel, never from the checkout.
    found = installed.probe()
    venv = installed.venv.resolve()
    assert found.file.resolve().is_relative_to(venv)
    assert found.root.resolve().is_relative_to(venv)
    # The dependencies come from this environment, which may itself live in the checkout
    # (`make` puts .venv there); nothing else of the checkout may be on the path.
    lent = Path(sys.prefix).resolve()
    assert [p for p in found.path if p.is_relative_to(REPO) and not p.is_relative_to(lent)] == []
    assert [n for n in resources + catalogs if n not in found.resources] == []
    assert [n for n in code if n not in found.code] == []

    # A Spanish handout and a Spanish booklet, made from outside the repository.
    started = time.perf_counter()
    handout = installed.work / "ibuprofeno.pdf"
    made = checked(
        installed.medpdf("handout", "ibuprofeno", "--content", "content", "-o", str(handout))
    )
    assert made.stderr == "", made.stderr  # no refused stylesheet, font or image
    booklet = installed.work / "manual.pdf"
    made = checked(
        installed.medpdf("booklet", "--content", "content", "--lang", "es", "-o", str(booklet))
    )
    assert "1 monographs" in made.stderr and "0 monographs left out" in made.stderr, made.stderr
    installed.timings["handout and booklet"] = time.perf_counter() - started

    pages = normalised_page_texts(handout)
    assert spanish("Patient information") in pages[0]
    assert spanish("Page %(page)s of %(pages)s") % {"page": 1, "pages": len(pages)} in pages[-1]
    assert "Patient information" not in " ".join(pages)
    assert "Ibuprofeno" in pages[0]
    text = " ".join(normalised_page_texts(booklet))
    for message in ("Drug reference booklet", "Contents"):
        assert spanish(message) in text
    assert "Contents" not in text and "Page 1 of" not in text

    # The same styles and font stacks as the checkout: every (font, size) matches.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    content = str(installed.work / "content")
    here = tmp_path / "checkout.pdf"
    invoke_cli("handout", "ibuprofeno", "--content", content, "-o", str(here))
    assert font_styles(handout) == font_styles(here)
    here_booklet = tmp_path / "checkout-booklet.pdf"
    invoke_cli("booklet", "--content", content, "--lang", "es", "-o", str(here_booklet))
    assert font_styles(booklet) == font_styles(here_booklet)
    assert len(normalised_page_texts(booklet)) == len(normalised_page_texts(here_booklet))

    # Last, as it breaks the installation: a catalog gone is one line, never English words.
    compiled = i18n.catalog_file(found.root / "locale", "es")
    compiled.unlink()
    target = installed.work / "missing.pdf"
    made = installed.medpdf("handout", "ibuprofeno", "--content", "content", "-o", str(target))
    assert made.returncode == 1
    assert made.stderr.splitlines() == [
        f"medpdf: error: no compiled message catalog for Spanish (es): looked for {compiled}; "
        "in a checkout run `make catalogs`, else reinstall medpdf"
    ]
    assert not target.exists()
    print("wheel test timings:", {k: f"{v:.1f} s" for k, v in installed.timings.items()})
