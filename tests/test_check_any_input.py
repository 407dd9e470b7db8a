"""`medpdf check` must answer any file with one-line diagnostics, never a traceback."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpdf.cli import cli

LINE = re.compile(r"^[^\n]+?(?::\d+)?: (error|warning): \S.*$")
SUMMARY = re.compile(r"^checked 1 monographs: (\d+) errors, (\d+) warnings$")

FRONT = st.sampled_from(
    ["", "---\n", "---\ntitle: X\n---\n", "---\ntitle: [unclosed\n---\n", "---\n---\n"]
)
MARKDOWN_BITS = st.sampled_from(
    [
        "# T\n", "### Usage\n", "### Dosage:\n", "### Generic Name: X\n", "> ", "- ", "1. ",
        "[", "](", "**Disclaimer:** ", "<sub>", "<script>", "{{ 7*7 }}", "\n", "\u2028",
        "\x00", "\t", "```\n", "---\n", "text ", "≥ ₃ µ ",
    ]
)  # fmt: skip


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"
        content.mkdir()
        (content / "fuzz.md").write_bytes(data)
        result = CliRunner().invoke(cli, ["check", "--content", str(content)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for line in result.stdout.splitlines():
        assert LINE.match(line), line
    assert SUMMARY.match(result.stderr.splitlines()[-1]), result.stderr


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_check_survives_any_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRONT, st.lists(MARKDOWN_BITS, max_size=60), st.text(max_size=80))
def test_check_survives_monograph_like_text(front: str, bits: list[str], noise: str) -> None:
    _check((front + "".join(bits) + noise).encode("utf-8", "surrogatepass"))
