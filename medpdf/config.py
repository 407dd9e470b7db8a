"""Where things live and which options a build runs with.

The presentation files (``templates/``, ``styles/``, ``assets/``) sit at the
repository root in a checkout and inside the package in a wheel; finding them in
one place keeps every other module free of path guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

PAPER_SIZES = ("a4", "letter")


def _resources_root() -> Path:
    bundled = PACKAGE_DIR / "_resources"
    if (bundled / "templates").is_dir():
        return bundled
    return PACKAGE_DIR.parent


@dataclass(frozen=True)
class Resources:
    """The trusted presentation files; the PDF stage may read these and nothing else."""

    root: Path

    @property
    def templates(self) -> Path:
        """Jinja2 templates."""
        return self.root / "templates"

    @property
    def styles(self) -> Path:
        """Print stylesheets."""
        return self.root / "styles"

    @property
    def assets(self) -> Path:
        """Images and other files templates may reference."""
        return self.root / "assets"

    @property
    def readable_dirs(self) -> tuple[Path, ...]:
        """Folders the restricted URL fetcher may serve files from."""
        return (self.templates, self.styles, self.assets)


DEFAULT_RESOURCES = Resources(_resources_root())


@dataclass(frozen=True)
class Config:
    """Options for one run; every command builds one from its flags."""

    content_dir: Path = Path("content")
    output_dir: Path = Path("output")
    paper: str = "a4"
    lang: str = "en"
    resources: Resources = DEFAULT_RESOURCES

    @property
    def handouts_dir(self) -> Path:
        """Where batch handouts are written."""
        return self.output_dir / "handouts"

    @property
    def booklet_path(self) -> Path:
        """Where the reference booklet is written."""
        return self.output_dir / "booklet.pdf"
