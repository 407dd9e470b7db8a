"""Glyph coverage: a real glyph for every character a monograph prints.

Pango draws a box for a character that no font it finds covers, and says
nothing. medpdf therefore checks before it renders: ``styles/fonts.css`` names
a font stack per language (``:root`` and ``:lang(...)`` rules); fontconfig
says which file each family is (``fc-list``, exact family names, the regular
face); fontTools reads that file's character map. A character of the source
that no font of its language's stack maps is an error naming the file, the
line and the code point, and builds leave that monograph out.

Reading the character maps of ~20 font files (the CJK collection is 19 MB)
costs a few seconds, so each file's coverage is kept on disk, keyed by the
file's path, face index, size and modification time, under
``$XDG_CACHE_HOME/medpdf/glyph-coverage`` (``~/.cache`` by default). A check
of the 6,286-file collection then looks at each distinct character of a file
once, against in-memory sets.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import tinycss2

from medpdf.errors import Diagnostic, Level

#: ``:lang(zh-Hant)`` in a selector.
_LANG_SELECTOR = re.compile(r":lang\(\s*([A-Za-z0-9-]+)\s*\)")
#: Generic CSS families: fontconfig answers them with any font, so they prove nothing.
_GENERIC = frozenset({"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"})
#: Variation selectors choose a glyph variant; fonts need not map them.
_VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))


def _family_names(tokens: list[tinycss2.ast.Node]) -> tuple[str, ...]:
    """``"DejaVu Sans", Noto Sans, serif`` -> ("DejaVu Sans", "Noto Sans")."""
    names: list[str] = []
    current: list[str] = []
    for token in [*tokens, None]:
        if token is None or (token.type == "literal" and token.value == ","):
            name = " ".join(current).strip()
            if name and name.lower() not in _GENERIC:
                names.append(name)
            current = []
        elif token.type in ("string", "ident"):
            current.append(token.value)
    return tuple(names)


@dataclass(frozen=True)
class FontStacks:
    """The font families of each language, as ``fonts.css`` declares them."""

    #: Stack of text whose language has no rule of its own.
    default: tuple[str, ...]
    #: Lower-cased language range (``zh-hant``) -> stack.
    by_lang: Mapping[str, tuple[str, ...]]

    @classmethod
    def parse(cls, css: str) -> FontStacks:
        """Read the ``:root`` and ``:lang()`` rules that set ``font-family``."""
        default: tuple[str, ...] = ()
        by_lang: dict[str, tuple[str, ...]] = {}
        rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        for rule in rules:
            if rule.type != "qualified-rule":
                continue
            selector = tinycss2.serialize(rule.prelude).strip()
            for declaration in tinycss2.parse_declaration_list(
                rule.content, skip_comments=True, skip_whitespace=True
            ):
                if declaration.type != "declaration" or declaration.lower_name != "font-family":
                    continue
                stack = _family_names(declaration.value)
                if selector in (":root", "html"):
                    default = stack
                for lang in _LANG_SELECTOR.findall(selector):
                    by_lang[lang.lower()] = stack
        return cls(default, by_lang)

    def stack_for(self, lang: str) -> tuple[str, ...]:
        """The stack CSS ``:lang()`` would pick: the longest matching language range."""
        tag = lang.lower()
        while tag:
            if tag in self.by_lang:
                return self.by_lang[tag]
            tag = tag.rpartition("-")[0]
        return self.default


@dataclass(frozen=True)
class Face:
    """One font file (and face index within a collection) fontconfig resolved."""

    family: str
    path: str
    index: int


@functools.cache
def _installed() -> dict[str, list[tuple[str, int, str]]]:
    """``(file, index, style)`` of every installed face, by each of its family names.

    One ``fc-list`` for all families: a call per family cost ~9 ms each, about
    150 ms for the stacks of ``fonts.css`` at every one-shot command.
    """
    if shutil.which("fc-list") is None:
        return {}
    result = subprocess.run(
        ["fc-list", "--format", "%{family}\t%{file}\t%{index}\t%{style[0]}\n"],
        capture_output=True,
        text=True,
        check=False,
    )
    faces: dict[str, list[tuple[str, int, str]]] = {}
    for line in result.stdout.splitlines():
        families, path, index, style = [*line.split("\t"), "", "", "", ""][:4]
        if not path or not index.isdigit():
            continue
        for family in families.split(","):
            faces.setdefault(family.strip(), []).append((path, int(index), style))
    return faces


def _fc_list(family: str) -> list[tuple[str, int, str]]:
    """``(file, index, style)`` of every face of exactly ``family``, from fontconfig."""
    return list(_installed().get(family, []))


@functools.cache
def resolve(family: str) -> Face | None:
    """The regular face of ``family`` as fontconfig knows it; None when not installed.

    The regular face stands for the family: the bold faces of these families
    map the same characters (DejaVu Sans Bold lacks a few rare symbols that
    Pango then takes from the next font of the stack).
    """
    faces = _fc_list(family)
    if not faces:
        return None
    ranked = sorted(faces, key=lambda f: (f[2].lower() not in ("regular", "book"), f[0], f[1]))
    path, index, _ = ranked[0]
    return Face(family, path, index)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "medpdf" / "glyph-coverage"


def _ranges(points: Iterable[int]) -> list[list[int]]:
    """Sorted code points as ``[first, last]`` runs: a CJK font's 44,000 points in ~1,500."""
    runs: list[list[int]] = []
    for point in sorted(points):
        if runs and runs[-1][1] == point - 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return runs


def _read_cmap(face: Face) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # only when the disk cache has no answer

    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        cmap = font.getBestCmap() or {}
        return frozenset(cmap)


@functools.cache
def coverage(face: Face) -> frozenset[int]:
    """The code points ``face`` maps to a glyph, from the disk cache or the font file."""
    stat = Path(face.path).stat()
    key = hashlib.sha256(
        f"{face.path}\0{face.index}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
    ).hexdigest()[:32]
    cached = _cache_dir() / f"{key}.json"
    with contextlib.suppress(OSError, ValueError, TypeError):
        runs = json.loads(cached.read_text(encoding="utf-8"))
        return frozenset(p for first, last in runs for p in range(first, last + 1))
    points = _read_cmap(face)
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(_ranges(points)), encoding="utf-8")
        temporary.replace(cached)
    return points


def _ignorable(char: str) -> bool:
    """Characters Pango never draws a glyph for: controls, format characters, selectors."""
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        return True
    point = ord(char)
    return any(point in block for block in _VARIATION_SELECTORS)


@dataclass(frozen=True)
class GlyphCheck:
    """Which characters each language's stack can draw, and the check itself."""

    stacks: FontStacks
    #: Fingerprint of the stacks and the font files behind them (for cached check results).
    fingerprint: str
    _faces: dict[str, tuple[Face, ...]] = field(default_factory=dict, compare=False, repr=False)
    _ascii: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_stylesheet(cls, path: Path) -> GlyphCheck:
        """The check for the stacks of ``styles/fonts.css``."""
        css = path.read_text(encoding="utf-8")
        stacks = FontStacks.parse(css)
        families = sorted({f for s in (stacks.default, *stacks.by_lang.values()) for f in s})
        found = [(family, resolve(family)) for family in families]
        parts = [css]
        for family, face in found:
            if face is None:
                parts.append(f"{family}: absent")
                continue
            stat = Path(face.path).stat()
            parts.append(f"{family}: {face.path}#{face.index} {stat.st_size} {stat.st_mtime_ns}")
        fingerprint = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return cls(stacks, fingerprint)

    def faces(self, lang: str) -> tuple[Face, ...]:
        """The installed fonts of ``lang``'s stack, in order (absent families skipped)."""
        stack = self.stacks.stack_for(lang)
        key = ",".join(stack)
        if key not in self._faces:
            self._faces[key] = tuple(f for f in (resolve(name) for name in stack) if f)
        return self._faces[key]

    def uncovered(self, text: str, lang: str) -> list[str]:
        """The distinct characters of ``text`` that no font of ``lang``'s stack maps."""
        remaining = {char for char in set(text) if not _ignorable(char)}
        for face in self.faces(lang):
            if not remaining:
                break
            covered = coverage(face)
            remaining = {char for char in remaining if ord(char) not in covered}
        return sorted(remaining)

    def diagnostics(self, path: str, text: str, lang: str) -> list[Diagnostic]:
        """One error per character without a glyph, at the first line it appears on."""
        if text.isascii() and not self._ascii_missing(lang):
            return []
        problems: list[Diagnostic] = []
        for char in sorted(self.uncovered(text, lang), key=text.index):
            line = text.count("\n", 0, text.index(char)) + 1
            name = unicodedata.name(char, "unnamed character")
            problems.append(
                Diagnostic(
                    path,
                    line,
                    Level.ERROR,
                    f"U+{ord(char):04X} ({name}) has no glyph in any font of the '{lang}' "
                    f"font stack; it would print as an empty box",
                )
            )
        return problems

    def _ascii_missing(self, lang: str) -> bool:
        key = f"ascii:{lang}"
        if key not in self._ascii:
            self._ascii[key] = bool(self.uncovered("".join(map(chr, range(0x20, 0x7F))), lang))
        return self._ascii[key]


@functools.cache
def for_styles(styles_dir: Path) -> GlyphCheck:
    """The glyph check of a styles folder, made once per process."""
    return GlyphCheck.from_stylesheet(styles_dir / "fonts.css")
