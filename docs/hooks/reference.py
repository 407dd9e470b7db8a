"""MkDocs hook: the Reference pages, made from the code on every build.

``reference/commands.md`` comes from the click commands and ``reference/options.md``
from the option table (:mod:`medpdf.cli.reference`), so they cannot drift from
what ``medpdf --help`` says; they are never written into ``docs/``.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from medpdf.cli import cli
from medpdf.cli.reference import commands_page, options_page

PAGES = {
    "reference/commands.md": lambda: commands_page(cli),
    "reference/options.md": options_page,
}


def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages to the site's files, before the nav is built."""
    for path, make in PAGES.items():
        files.append(File.generated(config, path, content=make()))
    return files
