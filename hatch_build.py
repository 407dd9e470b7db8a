"""Hatchling build hook: put the presentation files and compiled catalogs in the wheel.

A checkout reads ``templates/``, ``styles/``, ``assets/`` and ``locale/`` at the
repository root (``medpdf.settings.config``); a wheel carries them inside the package, under
``medpdf/_resources/``. The ``.mo`` catalogs are not committed (``make catalogs``
compiles them in a checkout), so this hook compiles every
``locale/<catalog>/LC_MESSAGES/medpdf.po`` with Babel when the wheel is built: a
wheel made from a fresh clone speaks every shipped language. A catalog with
errors (a placeholder a translation lost, say) stops the build.

Editable installs get nothing: they read the checkout's own folders.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Where the presentation files live inside the installed package.
TARGET = "medpdf/_resources"
#: Folders copied as they are (templates, print styles and font stacks, the station's scripts).
FOLDERS = ("templates", "styles", "assets")
DOMAIN = "medpdf"


class CatalogError(Exception):
    """A message catalog that cannot be compiled."""


def compile_catalog(po_file: Path, mo_file: Path, catalog_name: str) -> None:
    """Compile one ``.po`` file as ``pybabel compile`` does (fuzzy entries left out)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_file.open("rb") as source:
        catalog = read_po(source, locale=catalog_name, domain=DOMAIN)
    problems = [
        f"{po_file}:{message.lineno}: {error}"
        for message, errors in catalog.check()
        for error in errors
    ]
    if problems:
        raise CatalogError("; ".join(problems))
    mo_file.parent.mkdir(parents=True, exist_ok=True)
    with mo_file.open("wb") as target:
        write_mo(target, catalog)


class ResourcesHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the presentation folders, the ``.po`` sources and their compiled ``.mo`` files."""

    PLUGIN_NAME = "medpdf-resources"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Name every resource file for the wheel; compile the catalogs into a temp folder."""
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        included: dict[str, str] = build_data["force_include"]
        for folder in FOLDERS:
            if not (root / folder).is_dir():
                raise FileNotFoundError(f"{root / folder}: a wheel needs this folder")
            included[str(root / folder)] = f"{TARGET}/{folder}"
        po_files = sorted((root / "locale").glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        if not po_files:
            raise FileNotFoundError(f"{root / 'locale'}: no message catalogs to compile")
        self._compiled = Path(tempfile.mkdtemp(prefix="medpdf-catalogs-"))
        for po_file in po_files:
            relative = po_file.relative_to(root)  # locale/<catalog>/LC_MESSAGES/medpdf.po
            mo_file = self._compiled / relative.with_suffix(".mo")
            compile_catalog(po_file, mo_file, relative.parts[1])
            included[str(po_file)] = f"{TARGET}/{relative.as_posix()}"
            included[str(mo_file)] = f"{TARGET}/{relative.with_suffix('.mo').as_posix()}"
        template = root / "locale" / f"{DOMAIN}.pot"
        if template.is_file():
            included[str(template)] = f"{TARGET}/locale/{template.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the compiled catalogs once the wheel holds them."""
        compiled = getattr(self, "_compiled", None)
        if compiled is not None:
            shutil.rmtree(compiled, ignore_errors=True)
