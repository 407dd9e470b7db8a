"""The documentation site: it builds strictly, its Reference pages cover every command and
option, and the README stays a short front door whose links and pictures exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import REPO

from medpdf.cli import cli
from medpdf.cli.reference import commands_page, options_page, walk
from medpdf.settings import options

README = REPO / "README.md"
DOCS = REPO / "docs"


def every_command() -> list[tuple[str, click.Command, click.Context]]:
    return [(ctx.command_path, command, ctx) for ctx, command in walk(cli)]


def test_the_commands_page_has_every_command_and_every_flag() -> None:
    page = commands_page(cli)
    paths = [path for path, _, _ in every_command()]
    # The command tree itself, so a command registered elsewhere is not missed.
    assert {"medpdf handout", "medpdf pack", "medpdf print", "medpdf users add"} <= set(paths)
    for path, command, ctx in every_command():
        assert f"`{path}` {{#{path.replace(' ', '-')}}}" in page, path
        for param in command.get_params(ctx):
            for flag in [*param.opts, *param.secondary_opts]:
                if flag.startswith("-"):
                    assert flag in page, f"{path} {flag}"


def test_the_options_page_has_every_option_of_the_table() -> None:
    page = options_page()
    for option in options.OPTIONS:
        assert f"## `{option.name}` {{#{option.name}}}" in page
        if option.flag:
            assert option.flag in page
        if option.toml_name:
            assert f"`{option.toml_name}`" in page
        assert " ".join(option.help.split()) in page


def test_a_new_option_or_command_appears_without_touching_the_docs() -> None:
    new = options.Option(
        "ink_saver",
        options.Boolean(),
        False,
        "Print | light.",
        toml=("output", "ink_saver"),
        flag="--ink-saver",
        commands=frozenset({"handout"}),
    )
    page = options_page((*options.OPTIONS, new))
    assert "## `ink_saver` {#ink_saver}" in page
    row = "| `--ink-saver` / `--no-ink-saver` | `output.ink_saver` | `false` | Print \\| light. |"
    assert row in page

    @click.group()
    def tool() -> None:
        """A tool."""

    @tool.command()
    @click.option("--shade", help="How dark.")
    def paint(shade: str) -> None:
        """Paint it."""

    made = commands_page(tool)
    assert "## `medpdf paint` {#medpdf-paint}" in made
    assert "| `--shade TEXT` | How dark. |" in made


mkdocs = pytest.importorskip("mkdocs", reason="mkdocs is not installed; `make setup` installs it")


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_generated_reference(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    commands = (site / "reference" / "commands.html").read_text(encoding="utf-8")
    for path, _, _ in every_command():
        assert f'id="{path.replace(" ", "-")}"' in commands, path
    built = (site / "reference" / "options.html").read_text(encoding="utf-8")
    for option in options.OPTIONS:
        assert f'id="{option.name}"' in built, option.name
    # Every page under docs/ is in the site (strict mode also refuses one left out of the nav).
    for page in DOCS.rglob("*.md"):
        if "hooks" not in page.parts:
            assert (site / page.relative_to(DOCS).with_suffix(".html")).is_file(), page


def test_the_readme_is_short_and_its_links_and_pictures_exist() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert any(t.endswith(".png") for t in local) and any(t.startswith("docs/") for t in local)
    for target in local:
        assert (REPO / target).is_file(), target
    for picture in [t for t in local if t.endswith(".png")]:
        assert (REPO / picture).stat().st_size < 200_000, picture
