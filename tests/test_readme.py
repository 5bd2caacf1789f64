"""The README followed literally, as a new user pastes it.

Every shell block marked ``<!-- tested -->`` runs, in the README's order, in
one bash session (``set -euo pipefail``, so any failing command fails the
test) from an empty folder, against the installed console script. ``pip
install`` lines are not run: the suite runs on the package already installed
(a ``pip`` shell function that only says so stands in for it), so run the
suite after installing the checkout. The ``auth login`` block needs a browser:
this test plays it, fetching the authorization URL the command prints (the
sandbox's page approves at once and redirects to the login's loopback
listener), as ``tests/test_oauth.py`` does.
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

README = Path(__file__).resolve().parents[1] / "README.md"
SCRIPTS = sysconfig.get_paths()["scripts"]
TESTED = re.compile(r"<!-- tested -->\s*\n```(?:sh|bash)\n(.*?)```", re.S)
PRELUDE = """set -euo pipefail
pip() { echo "(not run: pip $*; the suite tests the installed package)"; }
"""


def readme_blocks():
    if not README.is_file():
        pytest.skip("no checkout beside the tests (README.md not found)")
    return TESTED.findall(README.read_text(encoding="utf-8"))


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


def test_the_readme_runs_as_written(tmp_path):
    blocks = readme_blocks()
    assert len(blocks) >= 3, "the README lost its <!-- tested --> blocks"
    assert any("sandbox --env" in block for block in blocks) and any("auth login" in block for block in blocks)
    assert any("create_video_pin" in block for block in blocks)
    pids = tmp_path / "sandbox.pids"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    env["PATH"] = SCRIPTS + os.pathsep + env.get("PATH", "")
    work = tmp_path / "work"
    work.mkdir()
    with open(tmp_path / "stderr", "w+") as stderr:
        proc = subprocess.Popen(
            ["bash", "-c", _script(blocks, pids)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=work,
            env=env,
        )
        watchdog = threading.Timer(60, proc.kill)
        watchdog.start()
        out = []
        try:
            for line in proc.stdout:
                out.append(line)
                if line.startswith("http") and "/oauth/?" in line:  # the browser's part of `auth login`
                    page = requests.get(line.strip(), timeout=10)
                    assert page.status_code == 200 and "Authorized" in page.text, page.text
            code = proc.wait(timeout=30)
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            _stop_sandboxes(pids)
        stderr.seek(0)
        errors = stderr.read()
    stdout = "".join(out)
    assert code == 0, f"stdout:\n{stdout[-3000:]}\nstderr:\n{errors[-3000:]}"
    assert "Traceback" not in errors
    assert "The new pin" in stdout  # the demo ran to its end
    assert "modulex-pinterest: using http://127.0.0.1:" in errors  # the sandbox's address was exported and named
    assert '"success": true' in stdout.split("@@ block 3")[-1]  # a run with the stored OAuth credentials
    assert (work / "pinterest.json").is_file()
    media = stdout.split("@@ block 4")[-1]  # the media block: a PNG, a carousel, a video, a refusal
    assert media.count('"success": true') == 3 and "refused: exit 1" in media
    assert "modulex-pinterest: uploading: 1.0 of 1.0 MB (100%)" in errors
    assert "modulex-pinterest: processing media " in errors
