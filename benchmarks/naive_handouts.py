"""The benchmarks' baseline: handouts as someone would write them in ten minutes.

No sanitizing, no templates, no URL restrictions, naive front-matter stripping,
one serial loop in one interpreter. ``benchmarks/handout.py`` gives it one file,
``benchmarks/handouts.py`` a sample of the collection.

Usage: python naive_handouts.py OUT_DIR SOURCE [SOURCE ...]
writes OUT_DIR/00000.pdf, OUT_DIR/00001.pdf, ... in the order of the sources.
"""

from __future__ import annotations

import sys
from pathlib import Path

import markdown_it
import weasyprint


def main(argv: list[str]) -> None:
    out_dir = Path(argv[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    md = markdown_it.MarkdownIt()
    for index, name in enumerate(argv[1:]):
        text = Path(name).read_text(encoding="utf-8")
        if text.startswith("---"):
            parts = text.split("---", 2)
            body = parts[2] if len(parts) == 3 else text
        else:
            body = text
        html = (
            "<html><head><meta charset='utf-8'><style>"
            "@page { size: A4; margin: 2cm }"
            "body { font-family: 'DejaVu Sans'; font-size: 12pt }"
            "</style></head><body>" + md.render(body) + "</body></html>"
        )
        weasyprint.HTML(string=html).write_pdf(out_dir / f"{index:05d}.pdf")


if __name__ == "__main__":
    main(sys.argv[1:])
