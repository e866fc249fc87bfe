"""The documentation runs: every code block of README.md and docs/ (the convention is in
CONTRIBUTING.md, "Code blocks in README.md and docs/").

* A fence whose info string is exactly ``python`` or ``bash`` runs, in page order, in a
  temporary copy of the repository (so ``examples/data/...`` works). The blocks of one page
  share state: one Python namespace, one folder for the shell blocks.
* ``python no-run: REASON`` (any code language) is not run; the test is skipped with the
  reason, so ``pytest -rs`` lists every block that does not run and why.
* A ``text output`` block right after a runnable block is what that block prints on stdout.
  ``...`` in it stands for any text (a time, a path); a line of ``...`` alone for any lines.
* A code block that is neither (``py``, ``sh``, ``console``, ``python`` with other words) fails
  the test: say whether it runs.

Run ``pytest tests/test_doc_blocks.py -v -rs`` to see every block found, run and skipped.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"python", "bash"}
CODE_LANGUAGES = {"python", "py", "python3", "pycon", "bash", "sh", "shell", "console",
                  "zsh", "shell-session"}
NO_RUN = re.compile(r"^(\S+)\s+no-run:\s*(\S.*)$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
MIGRATION_PAGE = "docs/migrating.md"
# what only the migration page may speak of: the package odse replaces, and notes that are
# not part of the project
FOREIGN = re.compile(r"(?<!-)\boriginal\b|\bC-[0-9]+\b|decisions\.md|\bthe guide\b|\bguide's\b|"
                     r"\.\./shared|/work/shared", re.IGNORECASE)
SKIP_COPY = shutil.ignore_patterns(".git", ".venv*", "__pycache__", ".pytest_cache",
                                   ".ruff_cache", ".mypy_cache", ".work", "out", "dist",
                                   "build", "*.egg-info", "bench-data")


@dataclass
class Block:
    page: str          # path relative to the repository root
    line: int          # line of the opening fence (1-based)
    info: str          # the fence's info string
    code: str
    output: str | None = None   # the ``text output`` block that follows, if any

    @property
    def language(self) -> str:
        return self.info.split()[0].lower() if self.info.split() else ""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def parse(page: Path) -> list[Block]:
    """Return the fenced blocks of a Markdown page, each ``text output`` joined to its block."""
    lines = page.read_text(encoding="utf-8").splitlines()
    name = page.relative_to(ROOT).as_posix()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3).strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence)
                                      and lines[i].strip().strip(fence[0]) == ""):
            text = lines[i]
            body.append(text[indent:] if text[:indent].strip() == "" else text.lstrip())
            i += 1
        i += 1
        block = Block(name, start + 1, info, "\n".join(body) + "\n")
        if info == "text output":
            if blocks and blocks[-1].info in RUNNABLE and blocks[-1].output is None:
                blocks[-1].output = block.code
                continue
            block.info = "text output (orphan)"
        blocks.append(block)
    return blocks


ALL_BLOCKS = [b for page in PAGES for b in parse(page)]


def code_blocks() -> list[Block]:
    """Blocks in a code language (run, or marked as not meant to run)."""
    out = []
    for b in ALL_BLOCKS:
        lang = b.language
        m = NO_RUN.match(b.info)
        if b.info in RUNNABLE or m or lang in CODE_LANGUAGES or b.info.startswith("text output"):
            out.append(b)
    return out


class PageState:
    """What the blocks of one page share: a folder (a copy of the repository) and a namespace."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.namespace: dict[str, object] = {"__name__": "__doc__"}
        self.failed: str | None = None


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory):
    made: dict[str, PageState] = {}

    def get(page: str) -> PageState:
        if page not in made:
            folder = tmp_path_factory.mktemp("doc") / "repo"
            shutil.copytree(ROOT, folder, ignore=SKIP_COPY, symlinks=True)
            made[page] = PageState(folder)
        return made[page]

    return get


def matches(expected: str, actual: str) -> bool:
    """Compare printed output with the page's, line by line; ``...`` stands for any text."""
    want = [line.rstrip() for line in expected.strip("\n").splitlines()]
    got = [line.rstrip() for line in actual.strip("\n").splitlines()]
    pattern = "".join(r"(?:.*\n)*?" if w.strip() == "..." else
                        ".*?".join(re.escape(part) for part in w.split("...")) + r"\n"
                        for w in want)
    return re.fullmatch(pattern, "\n".join(got) + "\n") is not None


def run_python(block: Block, state: PageState) -> str:
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(state.folder)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(block.code, f"{block.id}", "exec"), state.namespace)
    finally:
        os.chdir(cwd)
    return out.getvalue()


def run_bash(block: Block, state: PageState) -> str:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("ODSE_PROGRESS", None)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=state.folder,
                          env=env, capture_output=True, text=True, timeout=300, check=False,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (f"{block.id}: the shell block exited {done.returncode}:\n"
                                  f"{block.code}\nstdout:\n{done.stdout}\nstderr:\n"
                                  f"{done.stderr}")
    return done.stdout


@pytest.mark.parametrize("block", code_blocks(), ids=lambda b: b.id)
def test_block(block: Block, states) -> None:
    no_run = NO_RUN.match(block.info)
    if no_run:
        pytest.skip(f"{block.id}: {block.info}")
    assert block.info in RUNNABLE, (
        f"{block.id}: the block's info string {block.info!r} neither runs nor says why not; "
        "write ```python or ```bash for a block that runs as written, or "
        "```python no-run: REASON (CONTRIBUTING.md, 'Code blocks in README.md and docs/')")
    state = states(block.page)
    if state.failed:
        pytest.skip(f"an earlier block of the page failed ({state.failed})")
    try:
        printed = run_python(block, state) if block.info == "python" else run_bash(block, state)
    except BaseException:
        state.failed = block.id
        raise
    if block.output is not None:
        assert matches(block.output, printed), (
            f"{block.id} prints something else than the page shows.\nthe page:\n"
            f"{block.output}\nprinted:\n{printed}")


def test_blocks_found() -> None:
    """The parser finds the blocks (a broken fence would silently hide the rest of a page)."""
    runnable = [b for b in code_blocks() if b.info in RUNNABLE]
    assert len(runnable) >= 20, [b.id for b in runnable]
    assert all(p.read_text(encoding="utf-8").count("```") % 2 == 0 for p in PAGES
               if "~~~" not in p.read_text(encoding="utf-8")), "an unclosed fence"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_speaks_of_odse_alone(page: Path) -> None:
    """Only the migration page speaks of the package odse replaces or of the team's notes."""
    name = page.relative_to(ROOT).as_posix()
    if name == MIGRATION_PAGE:
        return
    found = [f"{name}:{n}: {line.strip()}"
             for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
             if FOREIGN.search(line)]
    assert not found, ("these lines speak of something a user of odse never saw; move the "
                       "comparison to docs/migrating.md:\n" + "\n".join(found))
