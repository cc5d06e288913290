"""The documentation: code blocks of the user guide parse and the marked ones run; Sphinx builds.

Markers in the Markdown pages (MyST comments, invisible in the built site), on the line just
before a fenced block:

* ``% test: run``    the next ``python`` block runs in the default test run (small data only);
* ``% test: slow``   the next ``python`` block runs only with ``-m slow``;
* ``% test: output`` the next ``text`` block is the printed output of the last block that ran:
  it is compared with what that block printed (whitespace-insensitive; floats within 2 %).

Blocks of one page run in order in one namespace (like a notebook), in a temporary working
directory, with matplotlib's non-interactive backend. Every ``python`` block must parse,
marked or not. The Sphinx build (``-W``: any warning fails) is the slow test.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
# The user-guide pages written for Sphinx; index.md, benchmarks.md and benchmarking.md hold
# shell commands and results rather than Python examples.
PAGES = ["quickstart.md", "tutorial_gene_selection.md", "choosing_alpha.md", "large_data.md",
         "scale_out.md"]

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([^\s`]*)")
_MARKER = re.compile(r"^%\s*test:\s*(run|slow|output)\s*$")


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    language: str
    marker: str | None  # "run", "slow", "output" or None
    code: str


def read_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a MyST page, with the marker comment before each."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    marker = None
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _FENCE.match(line)
        if match is None:
            found = _MARKER.match(line.strip())
            if found:
                marker = found.group(1)
            elif line.strip():
                marker = None
            i += 1
            continue
        fence, language = match.group(1), match.group(2).lower()
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        if language.startswith("{"):  # a MyST directive such as {toctree}: not code
            language = language.strip("{}")
        blocks.append(Block(path.name, start + 1, language, marker, "\n".join(body) + "\n"))
        marker = None
        i += 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in read_blocks(DOCS / page)]


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _normalise(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip())
    return re.sub(r"([\[(]) | ([\])])", r"\1\2", text)


def outputs_match(expected: str, actual: str) -> bool:
    """Same text and integers; floats equal within 2 % (or 1e-3 absolute)."""
    expected, actual = _normalise(expected), _normalise(actual)
    if _NUMBER.sub("#", expected) != _NUMBER.sub("#", actual):
        return False
    for want, got in zip(_NUMBER.findall(expected), _NUMBER.findall(actual), strict=True):
        is_float = any(c in want for c in ".eE")
        if not is_float:
            if want != got:
                return False
        elif not math.isclose(float(want), float(got), rel_tol=0.02, abs_tol=1e-3):
            return False
    return True


def run_page(page: str, markers: set[str], workdir: Path) -> int:
    """Run the marked blocks of ``page`` in order; check the marked outputs. Returns the
    number of blocks run."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict = {"__name__": "__docs__"}
    printed = None
    ran = 0
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        for block in read_blocks(DOCS / page):
            where = f"{page}:{block.line}"
            if block.marker == "output":
                if printed is not None:
                    assert outputs_match(block.code, printed), (
                        f"{where}: the documented output differs from what the code printed:\n"
                        f"--- documented\n{block.code}--- printed\n{printed}")
                continue
            if block.language != "python" or block.marker not in markers:
                printed = None
                continue
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(block.code, where, "exec"), namespace)  # noqa: S102
            printed = buffer.getvalue()
            ran += 1
            plt.close("all")
    finally:
        os.chdir(previous)
    return ran


def test_every_python_block_parses():
    blocks = [b for b in all_blocks() if b.language == "python"]
    assert len(blocks) >= 10
    for block in blocks:
        try:
            ast.parse(block.code, filename=f"{block.page}:{block.line}")
        except SyntaxError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{block.page}:{block.line}: {error}")


def test_markers_are_on_python_and_text_blocks():
    for block in all_blocks():
        if block.marker in ("run", "slow"):
            assert block.language == "python", f"{block.page}:{block.line}"
        if block.marker == "output":
            assert block.language == "text", f"{block.page}:{block.line}"


def test_output_comparison():
    assert outputs_match("[0 1 2]\n0.0702  True", "[ 0  1  2]\n0.07025 True")
    assert not outputs_match("[0 1 2]", "[0 1 3]")
    assert not outputs_match("alpha 0.070", "alpha 0.090")
    assert not outputs_match("True", "False")


def test_api_page_documents_every_public_name():
    import importlib

    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. (?:autoclass|autofunction|py:data):: (\S+)", text,
                                re.MULTILINE))
    for module in ["fastl1", "fastl1.workflow", "fastl1.plotting", "fastl1.datasets"]:
        prefix = "" if module == "fastl1" else module + "."
        for name in importlib.import_module(module).__all__:
            assert prefix + name in documented, f"{module}.{name} is missing from docs/api.rst"


@pytest.mark.parametrize("page", PAGES)
def test_marked_blocks_run(page, tmp_path):
    run_page(page, {"run"}, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_all_marked_blocks_run(page, tmp_path):
    run_page(page, {"run", "slow"}, tmp_path)


@pytest.mark.slow
def test_sphinx_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("myst_parser")
    out = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ["contents", "index", "api", *(Path(p).stem for p in PAGES)]:
        assert (out / f"{page}.html").is_file(), page
    shutil.rmtree(out, ignore_errors=True)
