"""Issue 26, the sandbox and ``auth login`` points, through the installed console script.

Point 1: the sandbox takes Pinterest's documented image size (a 5 MB JPEG from a
file), and a 413 says the body's size, the limit and what to do. Point 3: ``auth
login`` keeps stdout for the result JSON (the URL and the wait go to stderr), and
takes the redirected URL pasted back. Point 7: ``--app-secret VALUE`` is refused
and never echoed. Point 8: ``sandbox --env`` in a pipe without ``--background``
ends at once. Point 13: an app id the sandbox does not know is refused at once.
Point 15: files holding a secret are private (0600).
"""

import json
import os
import signal
import socket
import stat
import subprocess
import sys

import pytest
import requests

from modulex_pinterest.sandbox.server import MAX_BODY
from test_cli import CLI, cli, run_on_sandbox, strict_json

JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def _jpeg(size: int) -> bytes:
    """``size`` bytes that start and end as a JPEG does (the magic bytes are what is checked)."""
    body = bytes(range(256)) * (size // 256 + 1)
    return JPEG_HEAD + body[: size - len(JPEG_HEAD) - 2] + b"\xff\xd9"


# ----- point 1: the sandbox's limits are Pinterest's ---------------------------------------------


def test_a_5_mb_jpeg_from_a_file_becomes_a_pin_on_the_sandbox(sandbox, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(_jpeg(5 * 1024 * 1024))
    inputs = {"board_id": sandbox.boards[0]["id"], "title": "Holiday", "file_path": str(photos / "holiday.jpg")}
    result = run_on_sandbox(sandbox, "create_pin_from_file", inputs, tmp_path, "--allow-path", str(photos))
    assert result.returncode == 0, result.stderr
    pin = strict_json(result.stdout)
    assert pin["success"] is True and pin["pin"]["id"]
    sent = [e for e in sandbox.exchanges if e.method == "POST" and e.path == "/v5/pins"]
    assert len(sent) == 1 and sent[0].status == 201 and len(sent[0].body) > 5 * 1024 * 1024 * 4 // 3


@pytest.mark.no_contract  # a body that is not JSON, on purpose
def test_the_sandbox_body_limits_follow_pinterests_media_limits(sandbox, http):
    # A new pin may carry five 20 MB images as base64 (a carousel): the 5 MB JPEG test; every other body stays small.
    response = http.post(
        f"{sandbox.base_url}/boards", data=b"x" * (MAX_BODY + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["message"] == (
        f"Request body too large: {MAX_BODY + 1} bytes, and POST /v5/boards takes at most {MAX_BODY} bytes."
    )


def test_a_413_names_the_body_size_the_limit_and_a_next_step(sandbox, tmp_path):
    (tmp_path / "big.jpg").write_bytes(_jpeg(200_000))
    body = {"code": 413, "message": "Request body too large (max 65536 bytes)."}
    sandbox.inject_fault("status", status=413, body=body, method="POST", path_prefix="/v5/pins")
    inputs = {"board_id": sandbox.boards[0]["id"], "title": "Big", "file_path": "big.jpg"}
    result = run_on_sandbox(sandbox, "create_pin_from_file", inputs, tmp_path)
    assert result.returncode == 1, result.stderr
    error = strict_json(result.stdout)["error"]
    sent = next(e for e in sandbox.exchanges if e.path == "/v5/pins")
    assert f"the request body was {len(sent.body)} bytes" in error  # the size
    assert "max 65536 bytes" in error and "images up to 20 MB" in error  # the server's limit and Pinterest's
    assert "send a smaller file or a public image URL" in error and "raise its limit" in error  # what to do
    assert not error.startswith(("Pinterest", "Unexpected response from Pinterest"))


# ----- point 3: auth login keeps stdout for the result, and works without a browser here -------------


def _secret_file(tmp_path, secret):
    path = tmp_path / "app-secret.txt"
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return path


def _login_args(tmp_path, sandbox, *more, app_id=None):
    return [
        CLI, "auth", "login", "--app-id", app_id or sandbox.app_id,
        "--app-secret-file", str(_secret_file(tmp_path, sandbox.app_secret)),
        "--credentials", str(tmp_path / "credentials.json"), "--base-url", sandbox.base_url,
        "--port", "0", "--wait", "60", *more,
    ]  # fmt: skip


def _env(**more):
    """The test's environment without PINTEREST_*/MODULEX_* variables, nor a browser or a display."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PINTEREST_", "MODULEX_")) and k not in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY")
    }
    return {**keep, **more}


def _said_until_url(stderr):
    """The lines the login says on stderr, up to and including the authorization URL."""
    said = []
    for line in stderr:
        said.append(line)
        if line.startswith("http"):
            return said
    raise AssertionError("no URL on stderr: " + "".join(said))


def _finish(proc, stdout_path):
    rest = proc.stderr.read()
    assert proc.wait(timeout=30) == 0, rest
    return strict_json(stdout_path.read_text()), rest


def test_login_with_stdout_in_a_file_says_the_url_and_the_wait_on_stderr(tmp_path, sandbox):
    out = tmp_path / "out.json"
    with open(out, "w") as stdout:
        proc = subprocess.Popen(
            _login_args(tmp_path, sandbox), stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
            text=True, cwd=tmp_path, env=_env(),
        )  # fmt: skip
    said = _said_until_url(proc.stderr)
    url = said[-1].strip()
    assert url.startswith(sandbox.root_url + "/oauth/?") and out.read_text() == ""  # nothing on stdout yet
    more = [proc.stderr.readline(), proc.stderr.readline()]  # what to do without a browser here, then the wait
    assert "No browser on this machine? Open the URL on any machine" in more[0]
    assert "ssh -L" in more[0] and "paste it here" not in more[0]  # stdin is no terminal: nothing to paste into
    assert more[1].startswith("Waiting up to 60 s for the redirect to http://127.0.0.1:")
    assert requests.get(url, timeout=10).status_code == 200  # the browser: the sandbox's page, then the redirect
    result, rest = _finish(proc, out)
    assert result["success"] is True and set(result) == {"success", "credentials", "expires_at"}
    assert "opening it in your browser" not in "".join(said + more) + rest  # no display, no $BROWSER: none opened
    stored = json.loads((tmp_path / "credentials.json").read_text())
    assert stored["refresh_token"] and stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600


def test_on_a_headless_machine_the_redirected_address_can_be_pasted(tmp_path, sandbox):
    """The browser runs elsewhere and cannot reach this machine's loopback: the address it ended on
    (the sandbox's redirect, never followed here) is pasted at the terminal instead."""
    terminal, device = os.openpty()
    out = tmp_path / "out.json"
    with open(out, "w") as stdout:
        proc = subprocess.Popen(
            _login_args(tmp_path, sandbox), stdin=device, stdout=stdout, stderr=subprocess.PIPE,
            text=True, cwd=tmp_path, env=_env(),
        )  # fmt: skip
    os.close(device)
    try:
        url = _said_until_url(proc.stderr)[-1].strip()
        assert "copy the whole address from its address bar and paste it here" in proc.stderr.readline()
        page = requests.get(url, timeout=10, allow_redirects=False)  # the browser on another machine
        redirected = page.headers["Location"]
        assert page.status_code == 302 and redirected.startswith("http://127.0.0.1:") and "code=" in redirected
        stale = redirected.replace("state=", "state=x")  # another login's address: refused, the wait goes on
        os.write(terminal, f"{stale}\n".encode())
        while "does not match" not in proc.stderr.readline():
            pass
        os.write(terminal, f"  {redirected}  \n".encode())
        result, _ = _finish(proc, out)
    finally:
        os.close(terminal)
        if proc.poll() is None:
            proc.kill()
    assert result["success"] is True
    assert json.loads((tmp_path / "credentials.json").read_text())["app_id"] == sandbox.app_id
    # The code came by hand: nothing ever reached the loopback listener, which the sandbox never calls.
    assert [e.path for e in sandbox.exchanges] == ["/oauth/", "/oauth/", "/v5/oauth/token"]


def _browser(tmp_path):
    """A stand-in for a browser ($BROWSER): notes that it was asked, then follows the URL as a browser would."""
    script = tmp_path / "browser"
    script.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys, requests\n"
        f"pathlib.Path({str(tmp_path / 'opened')!r}).write_text(sys.argv[1])\n"
        "requests.get(sys.argv[1], timeout=10)\n"
    )
    script.chmod(0o700)
    return script


def test_login_opens_the_browser_when_there_is_one(tmp_path, sandbox):
    out = tmp_path / "out.json"
    with open(out, "w") as stdout:
        proc = subprocess.Popen(
            _login_args(tmp_path, sandbox), stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
            text=True, cwd=tmp_path, env=_env(BROWSER=str(_browser(tmp_path))),
        )  # fmt: skip
    url = _said_until_url(proc.stderr)[-1].strip()
    assert "(opening it in your browser; --no-browser not to)" in proc.stderr.readline()
    result, _ = _finish(proc, out)  # the browser alone completed the flow
    assert result["success"] is True and (tmp_path / "opened").read_text() == url


def test_no_browser_opens_none(tmp_path, sandbox):
    out = tmp_path / "out.json"
    with open(out, "w") as stdout:
        proc = subprocess.Popen(
            _login_args(tmp_path, sandbox, "--no-browser"), stdin=subprocess.DEVNULL, stdout=stdout,
            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_env(BROWSER=str(_browser(tmp_path))),
        )  # fmt: skip
    url = _said_until_url(proc.stderr)[-1].strip()
    assert "No browser on this machine?" in proc.stderr.readline()  # straight to the help: no browser line
    assert requests.get(url, timeout=10).status_code == 200
    result, rest = _finish(proc, out)
    assert result["success"] is True and "opening it in your browser" not in rest
    assert not (tmp_path / "opened").exists()


# ----- point 7: --app-secret is refused, and a secret is never repeated -------------------------------

SECRET = "sup3r-s3cret-app-value"


@pytest.mark.parametrize(
    "flags",
    [
        ("--app-secret", SECRET),
        (f"--app-secret={SECRET}",),
        ("--app-secret-file", SECRET),  # the secret itself given as the file: not a readable file
        ("--app-secret-file", f"/nonexistent/{SECRET}"),
    ],
)
def test_a_secret_on_the_command_line_is_refused_and_never_repeated(tmp_path, sandbox, flags):
    result = cli(
        "auth", "login", "--app-id", sandbox.app_id, *flags, "--credentials", str(tmp_path / "c.json"),
        "--base-url", sandbox.base_url, "--port", "0", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1
    assert SECRET not in result.stderr and "Traceback" not in result.stderr
    if flags[0].startswith("--app-secret-file"):
        assert "the file given to --app-secret-file cannot be read: No such file or directory" in result.stderr
    else:
        assert "argument --app-secret:" in result.stderr and "--app-secret-file FILE" in result.stderr
        assert "PINTEREST_APP_SECRET" in result.stderr
    assert sandbox.exchanges == [] and not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    "flags",
    [("--app-secret-fil", SECRET), (f"--app-secret-fil={SECRET}",), (SECRET,), ("--app-secret-file", "a.txt", SECRET)],
)
def test_a_value_after_an_unknown_argument_is_counted_not_repeated(tmp_path, sandbox, flags):
    result = cli(
        "auth", "login", "--app-id", sandbox.app_id, "--credentials", str(tmp_path / "c.json"), *flags, cwd=tmp_path
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1
    assert SECRET not in result.stderr and "unrecognized arguments:" in result.stderr
    assert "1 value (not repeated: values may be secrets)" in result.stderr
    if flags[0].split("=")[0] == "--app-secret-fil":
        assert "--app-secret-fil and" in result.stderr and "did you mean --app-secret-file?" in result.stderr
    assert sandbox.exchanges == [] and not (tmp_path / "c.json").exists()


def test_the_app_secret_may_come_from_the_environment_and_a_loose_file_is_warned_of(tmp_path, sandbox):
    args = ["auth", "login", "--app-id", sandbox.app_id, "--credentials", str(tmp_path / "c.json"), "--wait", "0.1"]
    args += ["--base-url", sandbox.base_url, "--port", "0"]
    missing = cli(*args, cwd=tmp_path)
    assert missing.returncode == 2 and "no app secret: pass --app-secret-file FILE" in missing.stderr
    from_env = cli(*args, cwd=tmp_path, env={"PINTEREST_APP_SECRET": sandbox.app_secret})
    assert from_env.returncode == 1 and "no answer from the browser in 0.1 s" in from_env.stderr  # it got as far
    loose = tmp_path / "loose.txt"
    loose.write_text(sandbox.app_secret)
    loose.chmod(0o644)
    warned = cli(*args, "--app-secret-file", str(loose), cwd=tmp_path)
    assert f"warning: the app secret file {loose} can be read by other users" in warned.stderr
    assert "chmod 600" in warned.stderr and sandbox.app_secret not in warned.stderr + from_env.stderr


# ----- point 8: sandbox --env into a pipe needs --background --------------------------------------


def test_sandbox_env_in_a_pipe_without_background_ends_at_once_with_a_hint(tmp_path):
    script = 'exports=$(modulex-pinterest sandbox --env); echo "exit $? [$exports]"'
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env=_env(PATH=os.path.dirname(CLI) + os.pathsep + os.environ["PATH"]),
    )  # fmt: skip
    assert result.stdout == "exit 2 []\n"
    assert result.stderr == (
        "modulex-pinterest: error: --env into a pipe or $(...) without --background would serve forever before "
        'the shell could read the exports; add --background: eval "$(modulex-pinterest sandbox --env --background)"\n'
    )


# ----- point 13: an app id the sandbox does not know fails at once --------------------------------


def test_login_refuses_at_once_an_app_id_the_sandbox_does_not_know_and_names_the_one_it_knows(tmp_path, sandbox):
    """The sandbox's page would refuse it in the browser, out of the terminal's sight; the login asks
    the page first (HEAD, no code issued) and stops at once, naming the app id the sandbox knows."""
    result = subprocess.run(
        _login_args(tmp_path, sandbox, app_id="42"), capture_output=True, text=True, cwd=tmp_path, env=_env(),
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr == (
        f"modulex-pinterest: error: the authorization page at {sandbox.root_url}/oauth/ refuses this login's "
        f"request (HTTP 400); if {sandbox.base_url} is the embedded sandbox, it knows app id {sandbox.app_id} "
        f"only: pass --app-id {sandbox.app_id}\n"
    )
    assert [(e.method, e.path, e.status) for e in sandbox.exchanges] == [("HEAD", "/oauth/", 400)]
    assert not (tmp_path / "credentials.json").exists()


def test_login_against_a_stopped_sandbox_fails_at_once(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # nothing listens there once closed
    result = cli(
        "auth", "login", "--app-id", "1", "--app-secret-file", str(_secret_file(tmp_path, "s")),
        "--credentials", str(tmp_path / "c.json"), "--base-url", f"http://127.0.0.1:{port}/v5", "--port", "0",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "modulex-pinterest: error: login failed: cannot reach the authorization page at "
        f"http://127.0.0.1:{port}/oauth/ (Connection refused): is the server running?\n"
    )


# ----- point 15: files holding a secret are private -------------------------------------------------


def test_sandbox_exports_written_to_a_file_are_readable_by_their_owner_only(tmp_path):
    exports = tmp_path / "sandbox.env"
    old = os.umask(0o022)  # a usual umask: the shell creates the file world-readable
    try:
        with open(exports, "w") as stdout:
            result = subprocess.run(
                [CLI, "sandbox", "--env", "--background"], stdout=stdout, stderr=subprocess.PIPE, text=True,
                cwd=tmp_path, env=_env(), timeout=60,
            )  # fmt: skip
    finally:
        os.umask(old)
    text = exports.read_text()
    pid = int(text.split("PINTEREST_SANDBOX_PID=")[1].split()[0])
    try:
        assert result.returncode == 0, result.stderr
        assert "PINTEREST_APP_SECRET=" in text and stat.S_IMODE(exports.stat().st_mode) == 0o600
    finally:
        os.kill(pid, signal.SIGTERM)


def test_a_new_key_written_to_a_file_is_readable_by_its_owner_only(tmp_path):
    pytest.importorskip("cryptography", reason="auth new-key needs the crypto extra")
    key = tmp_path / "key"
    old = os.umask(0o022)
    try:
        with open(key, "w") as stdout:
            result = subprocess.run([CLI, "auth", "new-key"], stdout=stdout, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.umask(old)
    assert result.returncode == 0 and len(key.read_text().strip()) == 44
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
