"""The fenced code blocks of the README and the docs, as a reader meets them: the one reader of them.

Each block comes with its place (its number in the file, the heading it is
under), its language and whether it is marked ``<!-- tested -->`` (the marker
on the line before the fence, blank lines allowed between). A ``#`` line
inside a block is code, not a heading. ``tests/test_readme.py`` runs the
marked shell blocks through it, and ``.ci/readme`` runs the README's blocks
from a fresh clone, each by its section, through its command line::

    python3 tests/readme_blocks.py README.md DIR

which writes each block to ``DIR/NN-SECTION.LANGUAGE`` (``02-try-it.sh``,
``05-python-through-the-reference-host.python``; ``text`` when the fence names
no language) and prints the file names. Standard library only: ``.ci/readme``
runs it before any venv exists.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = "<!-- tested -->"
SHELL = ("sh", "bash")


@dataclass(frozen=True)
class Block:
    number: int  # 1, 2, ... in the file's order
    section: str  # the nearest heading above it, without its #s
    language: str  # as the fence names it: "sh", "python", "json"; "text" when it names none
    tested: bool  # marked <!-- tested -->
    code: str

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-") or "top"

    @property
    def file_name(self) -> str:
        return f"{self.number:02d}-{self.slug}.{self.language}"


def blocks(path: Path | str = README) -> list[Block]:
    """The fenced blocks of a Markdown file, in order."""
    found: list[Block] = []
    section, marked, fence, lines = "", False, None, []
    for line in Path(path).read_text(encoding="utf-8").splitlines(keepends=True):
        stripped = line.strip()
        if fence is not None:
            if stripped == "```":
                found.append(Block(len(found) + 1, section, fence[0] or "text", fence[1], "".join(lines)))
                fence, lines, marked = None, [], False
            else:
                lines.append(line)
        elif line.startswith("```"):
            fence = (line[3:].strip(), marked)
        elif stripped:
            if line.startswith("#"):
                section = line.lstrip("#").strip()
            marked = stripped == MARKER
    if fence is not None:
        raise ValueError(f"{path}: the block after {section!r} is never closed")
    return found


def marked_shell_blocks(path: Path | str) -> list[str]:
    """The code of the shell blocks marked ``<!-- tested -->``, in order."""
    return [block.code for block in blocks(path) if block.tested and block.language in SHELL]


def modulex_check(path: Path | str = README) -> str:
    """The README's ModuleX check: the commands of its "The ModuleX runtime" shell block after ``pip install``."""
    (block,) = [b for b in blocks(path) if b.section == "The ModuleX runtime" and b.language in SHELL]
    commands = [line for line in block.code.splitlines() if line.strip() and not line.startswith("pip ")]
    if not commands:
        raise ValueError(f"{path}: the ModuleX runtime's block has no command besides pip install")
    return "\n".join(commands) + "\n"


def run_modulex_check(cwd: Path | str) -> subprocess.CompletedProcess[str]:
    """The README's ModuleX check run as written, in bash, with this interpreter's venv first on PATH
    (as when it is activated), from ``cwd`` (an unrelated folder: the installed package, not the checkout's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        ["bash", "-c", modulex_check()], capture_output=True, text=True, timeout=120, cwd=cwd, env=env, check=False
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 tests/readme_blocks.py FILE.md DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for block in blocks(argv[0]):
        (out / block.file_name).write_text(block.code, encoding="utf-8")
        print(block.file_name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
