"""Hostile local files: what ``file_path`` may name under the allowed folders, and what is read.

A FIFO, a directory, a device and a socket each end at once with "not a regular file", through
the installed console script (``run``) and through ``modulex-pinterest mcp`` (the ``mcp``
package's client over stdio), against the sandbox. A folder swapped for a symlink to an outside
folder while ``root/album/secret.png`` is opened never leads outside: 20,000 tries of the opener
itself (``localfiles.open_allowed``, what every ``file_path`` goes through), and 300 full
``create_pin_from_file`` actions through the reference host against the sandbox (about one in
seven makes a pin here; the rest are refused), each checked
by the image bytes the sandbox received. The swapping runs in a process of its own, as fast as
it can (``renameat2(RENAME_EXCHANGE)`` where the system has it), so the two interleave on
separate cores; nothing waits for a set time."""

import base64
import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest
from anyio.from_thread import start_blocking_portal
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from conftest import PLUGIN
from modulex_pinterest.plugin.actions import localfiles
from modulex_pinterest.plugin.errors import InputError
from test_cli import CLI, cli, strict_json
from test_mcp import McpSession, server_env, text_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
INSIDE, OUTSIDE = PNG + b"inside", PNG + b"outside"
DEADLINE = 5.0


@pytest.fixture
def specials():
    """A short folder (a socket's path must fit in 108 bytes) holding a FIFO, a directory, a
    socket, a regular PNG and, when this process may make one, a character device (/dev/null's
    numbers); ``specials.names``: the special ones, by kind."""
    folder = tempfile.mkdtemp(prefix="mx-files-")
    names = {"fifo": "pipe.png", "directory": "folder.png", "socket": "sock.png"}
    os.mkfifo(os.path.join(folder, names["fifo"]))
    os.mkdir(os.path.join(folder, names["directory"]))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(folder, names["socket"]))
    listener.listen(1)
    with open(os.path.join(folder, "real.png"), "wb") as f:
        f.write(PNG)
    try:
        os.mknod(os.path.join(folder, "null.png"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        names["device"] = "null.png"
    except (PermissionError, OSError):
        pass  # not root: /dev/zero under --allow-path /dev stands for it below
    try:
        yield type("Specials", (), {"folder": folder, "names": names})
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


def _cases(specials):
    """(kind, file_path): each special file, and /dev/zero and /dev/null under the allowed /dev."""
    cases = [(kind, os.path.join(specials.folder, name)) for kind, name in specials.names.items()]
    return cases + [("device /dev/zero", "/dev/zero"), ("device /dev/null", "/dev/null")]


def test_a_fifo_directory_device_or_socket_ends_at_once_through_the_cli(sandbox, specials):
    board = sandbox.boards[0]["id"]
    for kind, path in _cases(specials):
        inputs = {"board_id": board, "title": kind, "file_path": path}
        started = time.monotonic()
        result = cli(
            "run", "create_pin_from_file", "--input", json.dumps(inputs), "--base-url", sandbox.base_url,
            "--deadline", str(DEADLINE), "--allow-path", specials.folder, "--allow-path", "/dev",
            token=sandbox.access_token, cwd=specials.folder, timeout=60,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        assert result.returncode == 1, (kind, result.stdout, result.stderr)
        assert "not a regular file" in strict_json(result.stdout)["error"], kind
        assert elapsed < DEADLINE, (kind, elapsed)  # the whole process, start included
    assert not [e for e in sandbox.exchanges if e.method == "POST"]  # nothing was sent
    real = {"board_id": board, "title": "real", "file_path": "real.png"}
    result = cli("run", "create_pin_from_file", "--input", json.dumps(real), "--base-url", sandbox.base_url,
                 token=sandbox.access_token, cwd=specials.folder)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_fifo_directory_device_or_socket_ends_at_once_through_mcp(sandbox, specials, tmp_path):
    args = ["mcp", "--base-url", sandbox.base_url, "--deadline", str(DEADLINE)]
    args += ["--allow-path", specials.folder, "--allow-path", "/dev"]
    params = StdioServerParameters(command=CLI, args=args, env=server_env(sandbox.access_token), cwd=str(tmp_path))

    @contextlib.asynccontextmanager
    async def connected(errlog):
        async with stdio_client(params, errlog=errlog) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream) as session:
                yield session

    board = sandbox.boards[0]["id"]
    with open(tmp_path / "stderr", "w") as errlog, start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(connected(errlog)) as session:
            mcp = McpSession(portal, session)
            mcp.initialize()
            for kind, path in _cases(specials):
                started = time.monotonic()
                result = mcp.call_tool("create_pin_from_file", {"board_id": board, "title": kind, "file_path": path})
                elapsed = time.monotonic() - started
                assert result.get("isError") is True and "not a regular file" in text_of(result), (kind, result)
                assert elapsed < DEADLINE, (kind, elapsed)
            # The server still answers (no worker thread left hanging on a FIFO).
            made = mcp.call_tool(
                "create_pin_from_file",
                {"board_id": board, "title": "real", "file_path": os.path.join(specials.folder, "real.png")},
            )
            assert made.get("isError") is not True, text_of(made)


SWAPPER = r"""
import ctypes, os, sys
album, outside = sys.argv[1], sys.argv[2]
link, spare = album + ".link", album + ".spare"
os.symlink(outside, link)
libc = ctypes.CDLL(None, use_errno=True)
exchange = getattr(libc, "renameat2", None)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b = album.encode(), link.encode()
if exchange is not None and exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
    exchange = None  # not offered by this system or file system
print("swapping", "atomically" if exchange else "by three renames", flush=True)
while True:
    if exchange is not None:
        exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
    else:
        os.rename(album, spare); os.rename(link, album); os.rename(spare, link)
"""


@pytest.fixture
def swapped(tmp_path):
    """``root/album/secret.png`` (INSIDE) and ``outside/secret.png`` (OUTSIDE), while a process swaps
    ``root/album`` with a symlink to ``outside`` without pause; yields the root."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "album").mkdir(parents=True)
    outside.mkdir()
    (root / "album" / "secret.png").write_bytes(INSIDE)
    (outside / "secret.png").write_bytes(OUTSIDE)
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(root / "album"), str(outside)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert swapper.stdout.readline().startswith("swapping")  # started, not a set time
        yield root
    finally:
        swapper.kill()  # the process this fixture started, by its pid
        swapper.wait()
        swapper.stdout.close()


def test_a_folder_swapped_for_a_symlink_never_leads_outside_20000_tries_of_the_opener(swapped):
    """The opener itself, 20,000 times: every read is the inside file or a refusal."""
    roots = (swapped.resolve(),)
    path = str(swapped / "album" / "secret.png")
    read = {INSIDE: 0, OUTSIDE: 0}
    refused = {}
    for _ in range(20_000):
        try:
            handle, _size = localfiles.open_allowed("file_path", path, roots)
        except InputError as error:
            reason = str(error).split(": ", 2)[-1]
            refused[reason] = refused.get(reason, 0) + 1
            continue
        with handle:
            data = handle.read()
        read[data] += 1
    assert read[OUTSIDE] == 0, (read, refused)
    # The race was run: some opens found the folder, some the symlink (refused: outside, or replaced).
    assert read[INSIDE] > 0 and sum(refused.values()) > 0, (read, refused)


def test_a_folder_swapped_for_a_symlink_never_leads_outside_300_actions(swapped, host, sandbox):
    """300 create_pin_from_file actions through the host: no pin carries the outside file."""
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    settings = {"base_url": sandbox.base_url, "file_roots": [str(swapped)]}
    inputs = {"board_id": sandbox.boards[0]["id"], "title": "race", "file_path": str(swapped / "album" / "secret.png")}
    made = refused = 0
    while made + refused < 300 or (made == 0 and refused < 3000):  # 300, and at least one pin made
        output = host.run(PLUGIN, "create_pin_from_file", inputs, credentials, settings)
        if output["success"]:
            made += 1
        else:
            assert output["error"].startswith("Invalid input: 'file_path'"), output["error"]
            refused += 1
    sent = [
        base64.b64decode(json.loads(e.body)["media_source"]["data"])
        for e in sandbox.exchanges
        if e.method == "POST" and e.path == "/v5/pins"
    ]
    assert len(sent) == made and OUTSIDE not in sent and set(sent) <= {INSIDE}
    assert made > 0, (made, refused)
