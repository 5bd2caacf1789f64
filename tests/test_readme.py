"""The README and the docs followed literally, as a new user pastes them.

Every shell block marked ``<!-- tested -->`` runs: each file's blocks in the
file's order, in one bash session per file (``set -euo pipefail``, so any
failing command fails the test), from an empty folder, against the installed
console script. ``pip install`` lines are not run: the suite runs on the
package already installed (a ``pip`` shell function that only says so stands
in for it), so run the suite after installing the checkout. The README's
``python3 -m venv .venv && . .venv/bin/activate`` does run: the console script
is still found on ``PATH`` behind the new venv's ``bin``. The ``auth login``
block needs a browser: this test plays it, fetching the authorization URL the
command prints (the sandbox's page approves at once and redirects to the
login's loopback listener), as ``tests/test_oauth.py`` does.

Marked Python blocks are run by ``tests/test_docs.py``. The blocks are read by
``tests/readme_blocks.py``, as ``.ci/readme`` reads them to follow the whole
README from a fresh clone.
"""

import os
import re
import signal
import subprocess
import sysconfig
import threading
from pathlib import Path

import pytest
import requests

from readme_blocks import blocks, marked_shell_blocks

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SCRIPTS = sysconfig.get_paths()["scripts"]
PRELUDE = """set -euo pipefail
pip() { echo "(not run: pip $*; the suite tests the installed package)"; }
"""
# Where the tested blocks must be, and a command each file's blocks must hold: moving or
# dropping one fails here, not silently.
EXPECTED = {
    "README.md": ["python3 -m venv .venv", "modulex-pinterest demo", "sandbox --env"],
    "docs/configuration.md": ["auth login", "sandbox --env"],
    "docs/media.md": ["create_video_pin", "sandbox --env"],
    "docs/triggers.md": ["poll new_pin", "sandbox --env"],
}


def documents():
    """README.md and docs/*.md, as names relative to the checkout (those that exist)."""
    names = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))
    return [name for name in names if (ROOT / name).is_file()]


def marked_blocks(name):
    path = ROOT / name
    if not path.is_file():
        pytest.skip(f"no checkout beside the tests ({name} not found)")
    return marked_shell_blocks(path)


def _script(blocks, pids):
    """The blocks in order; after each, the sandbox's PID (if any) noted, so the test can stop it if a block fails."""
    parts = [PRELUDE]
    for number, block in enumerate(blocks, 1):
        parts += [f"echo '@@ block {number}'", block, f'printf "%s\\n" "${{PINTEREST_SANDBOX_PID:-}}" >> {pids}']
    return "\n".join(parts) + "\n"


def _stop_sandboxes(pids):
    """Stop any sandbox the blocks started and left running (the last block stops it when all goes well)."""
    if not pids.exists():
        return
    for pid in {int(line) for line in pids.read_text().split() if line.isdigit()}:
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"modulex-pinterest" not in cmdline.read_bytes():
            continue  # the PID was reused by another program: not ours to stop
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _run(blocks, tmp_path):
    """Run the blocks in one bash session from an empty folder: (stdout, stderr, the folder)."""
    pids = tmp_path / "sandbox.pids"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_", "VIRTUAL_ENV"))}
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):  # `auth login` opens no browser: the test is the browser
        env.pop(name, None)
    env["PATH"] = SCRIPTS + os.pathsep + env.get("PATH", "")
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(
        ["bash", "-c", _script(blocks, pids)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=work,
        env=env,
    )
    said, pages = [], []

    def browse():  # `auth login` says its URL on stderr: the browser's part is done here
        for line in proc.stderr:
            said.append(line)
            if line.startswith("http") and "/oauth/?" in line:
                page = requests.get(line.strip(), timeout=10)
                pages.append((page.status_code, page.text))

    reader = threading.Thread(target=browse, daemon=True)
    reader.start()
    watchdog = threading.Timer(90, proc.kill)
    watchdog.start()
    try:
        out = list(proc.stdout)
        code = proc.wait(timeout=30)
        reader.join(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _stop_sandboxes(pids)
    errors = "".join(said)
    assert all(status == 200 and "Authorized" in text for status, text in pages), pages
    stdout = "".join(out)
    assert code == 0, f"stdout:\n{stdout[-3000:]}\nstderr:\n{errors[-3000:]}"
    assert "Traceback" not in errors
    return stdout, errors, work


def _compact(stdout):
    """The output with the JSON's layout taken out (indented on a terminal, compact in a pipe)."""
    return re.sub(r"(?<=[:,\[{])\s+|\s+(?=[\]}])", "", stdout)


def _check_readme(stdout, errors, work):
    assert "The new pin" in stdout  # the demo ran to its end
    assert "modulex-pinterest: using http://127.0.0.1:" in errors  # the sandbox's address was exported and named
    assert '"success":true' in _compact(stdout.split("@@ block 2")[-1])  # the CLI's runs against the sandbox


def _check_login(stdout, errors, work):
    assert "modulex-pinterest: using http://127.0.0.1:" in errors
    assert '"success":true' in _compact(stdout)  # a run with the stored OAuth credentials
    assert (work / "pinterest.json").is_file()


def _check_media(stdout, errors, work):
    # a PNG, a carousel, a video, a refusal
    assert _compact(stdout).count('"success":true') == 3 and "refused: exit 1" in stdout
    assert "modulex-pinterest: uploading: 1.0 of 1.0 MB (100%)" in errors
    assert "modulex-pinterest: processing media " in errors


def _check_triggers(stdout, errors, work):
    stdout = _compact(stdout)
    assert stdout.count('"events":[]') == 1  # the first poll primes
    assert '"title":"Fresh"' in stdout.rsplit('"events":[', 1)[-1]  # the second reports the new pin
    assert (work / "new-pins.json").is_file()


CHECKS = {
    "README.md": _check_readme,
    "docs/configuration.md": _check_login,
    "docs/media.md": _check_media,
    "docs/triggers.md": _check_triggers,
}


def test_the_tested_blocks_are_where_they_belong():
    for name, commands in EXPECTED.items():
        text = "\n".join(marked_blocks(name))
        for command in commands:
            assert command in text, f"{name} lost its <!-- tested --> block with {command!r}"


@pytest.mark.parametrize("name", sorted(set(EXPECTED) | {n for n in documents() if marked_blocks(n)}))
def test_the_docs_run_as_written(name, tmp_path):
    blocks = marked_blocks(name)
    if not blocks:
        pytest.skip(f"{name} has no <!-- tested --> shell blocks")
    stdout, errors, work = _run(blocks, tmp_path)
    CHECKS.get(name, lambda *_: None)(stdout, errors, work)


def test_ci_readme_knows_how_to_follow_every_block_of_the_readme():
    """``.ci/readme`` follows the README's blocks by their section and fails on one it does not know:
    a block added to the README without saying there how to follow it fails here first, in seconds."""
    script = ROOT / ".ci" / "readme"
    if not script.is_file():
        pytest.skip("no checkout beside the tests")
    known = set(re.findall(r"\b([a-z0-9-]+\.(?:sh|python|json))\b", script.read_text()))
    unknown = [b.file_name for b in blocks(README) if b.language != "text" and f"{b.slug}.{b.language}" not in known]
    assert unknown == [], f"README blocks .ci/readme does not know how to follow: {unknown}"
