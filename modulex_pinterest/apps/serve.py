"""``modulex-pinterest sandbox``: the embedded Pinterest stand-in, served until stopped.

What it prints, once it is listening: one JSON line (``base_url``,
``access_token``, ``app_id``, ``app_secret``), or with ``--env`` shell
``export`` lines for the same four values (``PINTEREST_BASE_URL``,
``PINTEREST_ACCESS_TOKEN``, ``PINTEREST_APP_ID``, ``PINTEREST_APP_SECRET``).
With ``--background`` it serves from a process of its own and the command
ends as soon as that process listens, adding its PID (``pid``,
``PINTEREST_SANDBOX_PID``), so ``eval "$(modulex-pinterest sandbox --env
--background)"`` needs no waiting.

It listens on loopback unless ``--public`` allows another ``--host``; a
public sandbox serves a fresh random token, never the well-known demo one.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import shlex
import signal
import stat
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TextIO

from .help import BASE_URL_ENV, TOKEN_ENV
from .output import PROG, Failed, UsageError, reader_gone, say

if TYPE_CHECKING:
    from ..sandbox import Sandbox

ENV_NAMES = {
    "base_url": BASE_URL_ENV,
    "access_token": TOKEN_ENV,
    "app_id": "PINTEREST_APP_ID",
    "app_secret": "PINTEREST_APP_SECRET",
    "pid": "PINTEREST_SANDBOX_PID",
}
WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # listening everywhere: reach it on loopback


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(host: str, port: int) -> str:
    """The sandbox's API root as a client on this machine reaches it (a wildcard host: on loopback)."""
    shown = WILDCARDS.get(host, host)
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/v5"


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGTERM ends the sandbox the way Ctrl-C does, so it is stopped cleanly either way."""
    raise KeyboardInterrupt


SIGNAL_CHECK = 0.25  # seconds between the main thread's looks at pending signals


def _serve_until_stopped(sandbox: Sandbox) -> None:
    """Serve until Ctrl-C or SIGTERM. The main thread wakes every ``SIGNAL_CHECK`` seconds
    rather than in ``signal.pause()``: the kernel may hand the signal to one of the server's
    threads, and then ``pause()`` would never return (Python runs handlers on the main thread)."""
    signal.signal(signal.SIGTERM, _interrupt)
    idle = threading.Event()
    try:
        while True:
            idle.wait(SIGNAL_CHECK)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


def _start(sandbox: Sandbox, host: str, port: int) -> None:
    """Listen, or a :class:`UsageError` naming the address and why (a busy port, an unknown host)."""
    try:
        sandbox.start()
    except (OSError, UnicodeError, ValueError) as exc:  # UnicodeError: a host name no DNS label can carry
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UsageError(
            f"cannot serve on {host}:{port}: {why}; choose another --host or --port (--port 0 picks a free one)"
        ) from None


def private_if_file(stream: TextIO) -> None:
    """A secret is about to be printed: when ``stream`` is a regular file (``> env.sh``), make it
    readable by its owner only, whatever the shell's umask made it. Anything else is left alone."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode) and mode & 0o077:
            os.fchmod(fd, stat.S_IMODE(mode) & 0o700)
    except (AttributeError, ValueError, OSError):  # no descriptor, or a file that is not ours to change
        pass


def _print(args: argparse.Namespace, info: dict[str, object]) -> None:
    """The sandbox's address and credentials, in one write: a reader polling the output sees all of it or
    nothing. Written to a file, the file is made private first (it holds a token and the app secret)."""
    private_if_file(sys.stdout)
    if args.env:
        lines = [f"export {ENV_NAMES[key]}={shlex.quote(str(value))}" for key, value in info.items()]
    else:
        lines = [json.dumps(info, allow_nan=False)]
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # nobody reads the address: serve anyway
        reader_gone()


def _child(sandbox: Sandbox, host: str, port: int, report: int) -> int:
    """The background process: listen, tell the parent (``ready PORT`` or ``error WHY`` on ``report``), serve."""
    os.setsid()  # its own session: the shell's job control and terminal signals leave it alone
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # hold none of the command's streams: `$(...)` ends when the parent does
        os.dup2(devnull, fd)
    try:
        _start(sandbox, host, port)
    except UsageError as exc:
        os.write(report, f"error {exc}".encode())
        return 2
    os.write(report, f"ready {sandbox.port}".encode())
    os.close(report)
    _serve_until_stopped(sandbox)
    return 0


def _in_background(sandbox: Sandbox, host: str, port: int) -> tuple[int, int]:
    """Serve from a forked process; (its PID, its port) once it listens, or the :class:`UsageError` it met."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 1
        try:
            code = _child(sandbox, host, port, write_end)
        finally:
            os._exit(code)  # never back into the parent's code: its exit handlers are the parent's
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        status, _, detail = pipe.read().decode(errors="replace").partition(" ")
    if status == "ready":
        return pid, int(detail)
    os.waitpid(pid, 0)
    if status == "error":
        raise UsageError(detail)
    raise Failed("the sandbox's process ended before it was listening")


def _stdout_is_a_pipe() -> bool:
    """Standard output is a pipe or a socket (``$(...)``, ``| ...``): its reader may wait for the end."""
    try:
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (AttributeError, ValueError, OSError):  # no stream, or one without a descriptor
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def cmd_sandbox(args: argparse.Namespace) -> int:
    """Serve the sandbox: in the foreground until Ctrl-C or SIGTERM, or in a process of its own."""
    from ..sandbox import DEMO_TOKEN, Sandbox

    if args.env and not args.background and _stdout_is_a_pipe():
        # `eval "$(... sandbox --env)"` waits for the command to end, and a foreground sandbox never does.
        raise UsageError(
            "--env into a pipe or $(...) without --background would serve forever before the shell could read "
            f'the exports; add --background: eval "$({PROG} sandbox --env --background)"'
        )
    public = not is_loopback_host(args.host)
    if public and not args.public:
        raise UsageError(
            f"--host {args.host} is not a loopback address, so other machines could reach the "
            "sandbox; add --public to allow that"
        )
    if args.background and not hasattr(os, "fork"):
        raise UsageError(
            "--background needs os.fork, which this platform lacks; run the sandbox in a terminal of its own"
        )
    # The demo token and app secret are in every checkout: a sandbox others can reach gets fresh ones.
    app_secret = secrets.token_urlsafe(24) if public else None
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        access_token_ttl=args.token_lifetime,
        rate_limit=args.rate_limit,
        app_secret=app_secret,
    )
    token = sandbox.access_token
    if public:
        token = secrets.token_urlsafe(32)
        sandbox.add_access_token(token)
        sandbox.expire_access_token(DEMO_TOKEN)
    pid = None
    if args.background:
        pid, port = _in_background(sandbox, args.host, args.port)
    else:
        _start(sandbox, args.host, args.port)
        port = sandbox.port
    if public:
        say(
            f"warning: the sandbox listens on {args.host}:{port}, where other machines can reach it (its token "
            "and app secret are fresh ones, not the demo's)"
        )
    info: dict[str, object] = {
        "base_url": base_url(args.host, port),
        "access_token": token,
        "app_id": sandbox.app_id,
        "app_secret": sandbox.app_secret,
    }
    if pid is not None:
        info["pid"] = pid
    _print(args, info)
    if pid is None:
        _serve_until_stopped(sandbox)
    return 0
