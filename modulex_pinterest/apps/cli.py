"""The ``modulex-pinterest`` command: the plugin driven through the reference host.

Exit codes: 0 when the action succeeded, 1 when it returned ``success: false``
(or an output strict JSON cannot carry), 2 for a usage error (unknown action,
unreadable input).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from ..contract import Credentials
from ..host import Host, HostError, StoreError, open_store

if TYPE_CHECKING:
    from ..host.redis_store import RedisStore
    from ..host.stores import CredentialsFile

    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]

Command = Callable[[argparse.Namespace, Host], int]
"""A subcommand's function (``args.func``): its exit code."""

PLUGIN = "pinterest"
TOKEN_ENV = "PINTEREST_ACCESS_TOKEN"
BASE_URL_ENV = "PINTEREST_BASE_URL"


class UsageError(Exception):
    """A mistake in how the command was called (exit 2), unlike an action that failed (exit 1)."""


class OutputError(Exception):
    """An output that strict JSON cannot carry (exit 1): nothing is printed rather than invalid JSON."""


def _print_json(value: Any) -> None:
    """Print ``value`` as strict JSON (RFC 8259: no NaN or Infinity), or nothing and :class:`OutputError`."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        raise OutputError("the output holds a value strict JSON cannot carry (NaN or Infinity, say); "
                          "nothing was printed") from None
    print(text)


def _refuse_constant(name: str) -> NoReturn:
    """``json.loads``'s ``parse_constant``: NaN and Infinity are not JSON (RFC 8259)."""
    raise ValueError(f"{name} is not a JSON value")


def _read_input(text: str | None) -> Any:
    """``--input`` as JSON text, ``@file.json`` or ``-`` for standard input."""
    if text is None:
        return {}
    try:
        if text == "-":
            text = sys.stdin.read()
        elif text.startswith("@"):
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read input: {exc.strerror}: {exc.filename}") from None
    except UnicodeDecodeError:
        raise UsageError("cannot read input: it is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise UsageError(f"input is not valid JSON: {exc}") from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise UsageError("input is not usable: it is nested too deeply") from None


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The host settings given on the command line (or in the environment); unset ones are left to the plugin."""
    settings: dict[str, Any] = {}
    base_url = getattr(args, "base_url", None) or os.environ.get(BASE_URL_ENV)
    if base_url:
        settings["base_url"] = base_url
    for name in ("timeout", "deadline", "max_retries", "rate_limit"):
        if getattr(args, name, None) is not None:
            settings[name] = getattr(args, name)
    return settings


def _credentials(args: argparse.Namespace) -> Credentials | None:
    """The token in the environment; ``None`` with ``--credentials`` (the host reads the store on each call)."""
    if getattr(args, "store", None) is not None:
        return None
    token = os.environ.get(TOKEN_ENV)
    return {"mode": "access_token", "access_token": token} if token else {}


def _open_store(spec: str, must_exist: bool = True) -> CredentialsFile | RedisStore:
    """``--credentials``: a file path or a redis:// URL, read once here so a typo is a usage error."""
    try:
        store = open_store(spec)
        if must_exist and store.read() is None:
            raise UsageError(f"no credentials stored at {store!r}: write them with "
                             "`modulex-pinterest auth login` or `auth import`")
    except (StoreError, ValueError) as exc:  # ValueError: a malformed redis:// URL
        raise UsageError(str(exc)) from None
    return store


def _host(args: argparse.Namespace) -> Host:
    """The reference host; with a Redis store, the rate budget lives in the same Redis."""
    store: CredentialsFile | RedisStore | None = getattr(args, "store", None)
    budget = store.rate_budget() if store is not None and hasattr(store, "rate_budget") else None
    return Host(budget=budget)


def cmd_actions(args: argparse.Namespace, host: Host) -> int:
    _print_json([{key: entry[key] for key in ("name", "title", "description")}
                 for entry in host.manifest(PLUGIN)["actions"]])
    return 0


def cmd_describe(args: argparse.Namespace, host: Host) -> int:
    _print_json(host.action(PLUGIN, args.action))
    return 0


def cmd_run(args: argparse.Namespace, host: Host) -> int:
    output = host.run(PLUGIN, args.action, _read_input(args.input), _credentials(args), _settings(args),
                      store=args.store)
    _print_json(output)
    return 0 if output.get("success") else 1


def cmd_check(args: argparse.Namespace, host: Host) -> int:
    result = host.check(PLUGIN, _credentials(args), _settings(args), store=args.store)
    _print_json(result)
    return 0 if result.get("success") else 1


def cmd_auth_login(args: argparse.Namespace, host: Host) -> int:
    from .login import LoginError, login, unwritable

    try:
        with open(args.app_secret_file, encoding="utf-8") as handle:
            app_secret = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the app secret file {args.app_secret_file}: "
                         f"{getattr(exc, 'strerror', None) or 'it is not UTF-8 text'}") from None
    oauth = next(m for m in host.manifest(PLUGIN)["credentials"] if m["mode"] == "oauth2")
    store = args.store
    if problem := unwritable(store):  # before the browser step: a code whose tokens cannot be stored is lost
        raise UsageError(problem)
    try:
        credentials = login(oauth, args.app_id, app_secret, store,
                            lambda app, code, uri: host.exchange_code(PLUGIN, app, code, uri, _settings(args)),
                            base_url=args.base_url, authorization_url=args.authorization_url, port=args.port,
                            wait=args.wait,
                            say=lambda line: print(line, flush=True))
    except LoginError as exc:
        print(f"modulex-pinterest: login failed: {exc}", file=sys.stderr)
        return 1
    _print_json({"success": True, "credentials": store.grant_id, "expires_at": credentials.get("expires_at")})
    return 0


def cmd_auth_refresh(args: argparse.Namespace, host: Host) -> int:
    result = host.refresh(PLUGIN, args.store, _settings(args))
    _print_json(dict(result, credentials=args.store.grant_id))
    return 0 if result.get("success") else 1


def cmd_auth_import(args: argparse.Namespace, host: Host) -> int:
    """Copy a credentials file into any store (a file or Redis), e.g. to share one grant between machines."""
    source = _open_store(args.file)
    try:
        args.store.save(source.read())
    except (StoreError, OSError) as exc:  # OSError: the file store's lock file could not be made
        raise UsageError(str(exc)) from None
    _print_json({"success": True, "credentials": args.store.grant_id})
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGTERM ends ``sandbox`` the way Ctrl-C does, so the sandbox is stopped cleanly either way."""
    raise KeyboardInterrupt


def cmd_options(args: argparse.Namespace, host: Host) -> int:
    result = host.options(PLUGIN, args.action, args.field, _read_input(args.input), _credentials(args),
                          _settings(args), bookmark=args.bookmark, store=args.store)
    _print_json(result)
    return 0 if result.get("success") else 1


def cmd_tools(args: argparse.Namespace, host: Host) -> int:
    from .agent_tools import tool_definitions

    _print_json(tool_definitions(host.manifest(PLUGIN), args.format))
    return 0


def cmd_mcp(args: argparse.Namespace, host: Host) -> int:
    from .mcp_server import MissingExtra, serve

    try:
        serve(host, PLUGIN, lambda: _credentials(args), _settings(args), store=args.store)
    except MissingExtra as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_sandbox(args: argparse.Namespace, host: Host) -> int:
    from ..sandbox import Sandbox

    sandbox = Sandbox(host=args.host, port=args.port, access_token_ttl=args.token_lifetime,
                      rate_limit=args.rate_limit)
    sandbox.start()
    print(json.dumps({"base_url": sandbox.base_url, "access_token": sandbox.access_token,
                      "app_id": sandbox.app_id, "app_secret": sandbox.app_secret}, allow_nan=False), flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def cmd_demo(args: argparse.Namespace, host: Host) -> int:
    from .demo import run_demo

    return run_demo(host, PLUGIN, as_json=args.json)


CREDENTIALS_HELP = ("a credentials JSON file, or redis://HOST:PORT/DB?key=KEY (pip install "
                    "'modulex-pinterest[redis]'); kept current as OAuth tokens rotate, shared safely by many processes")


def _describe_sandbox_when_asked(parser: argparse.ArgumentParser) -> None:
    """Name the sandbox's OAuth app in ``sandbox --help`` without importing the
    sandbox for every other command (it costs a start-up its users don't need)."""
    format_help = parser.format_help

    def with_app() -> str:
        from ..sandbox import demo_app

        app = demo_app()
        parser.description = ("Serve the embedded Pinterest sandbox until interrupted. Its first output line is "
                              "JSON with base_url, access_token and the OAuth app it knows "
                              f"(app id {app['app_id']}, app secret {app['app_secret']}) for `auth login`.")
        return format_help()

    # Replaced on this one parser object, so only `sandbox --help` pays for the import.
    parser.format_help = with_app  # type: ignore[method-assign]


def _port(text: str) -> int:
    """``--port``: a TCP port number, 0 to 65535."""
    if not (text.isascii() and text.isdigit() and 0 <= int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port number (0 to 65535): {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    """``--wait``: a number of seconds, more than 0 and at most a day."""
    if not (text.isascii() and text.replace(".", "", 1).isdigit() and 0 < float(text) <= 86400):
        raise argparse.ArgumentTypeError(f"not a number of seconds from 0 to 86400: {text!r}")
    return float(text)


def _with_connection(parser: argparse.ArgumentParser, credentials: bool = True) -> argparse.ArgumentParser:
    """Add the options of a command that calls Pinterest. ``credentials=False`` for the
    ``auth`` commands, which declare ``--credentials`` themselves (required: where to write)."""
    parser.add_argument("--base-url", help=f"Pinterest API base URL (default from plugin.yaml; env {BASE_URL_ENV}); "
                                           "the OAuth token URL is {base-url}/oauth/token")
    parser.add_argument("--timeout", type=float, help="read timeout in seconds (connect timeout is at most 5 s)")
    parser.add_argument("--deadline", type=float, metavar="SECONDS",
                        help="seconds an action may take in all: retries, waits for the rate budget and a token "
                             "refresh included (default: the plugin's, 120 s)")
    parser.add_argument("--max-retries", type=int, help="retries for reads and never-sent creates (default 3)")
    parser.add_argument("--rate-limit", type=float, metavar="N",
                        help="requests per second per grant, shared by every process using the same credentials "
                             "(default: plugin.yaml's, Pinterest's published per-user limit)")
    if credentials:
        parser.add_argument("--credentials", metavar="FILE|URL", help=CREDENTIALS_HELP + f"; default: {TOKEN_ENV}")
    return parser


def _add_action_commands(sub: Subcommands) -> None:
    """``actions``, ``describe``, ``run``, ``check``, ``options``: what a workflow node does."""
    sub.add_parser("actions", help="list the actions as JSON").set_defaults(func=cmd_actions)
    p = sub.add_parser("describe", help="an action's manifest entry with its input and output schemas")
    p.add_argument("action")
    p.set_defaults(func=cmd_describe)
    p = _with_connection(sub.add_parser("run", help=f"run one action (token from {TOKEN_ENV})"))
    p.add_argument("action")
    p.add_argument("--input", help="inputs as JSON, @file.json, or - for stdin (default {})")
    p.set_defaults(func=cmd_run)
    p = _with_connection(sub.add_parser("check", help=f"test the credentials in {TOKEN_ENV}"))
    p.set_defaults(func=cmd_check)
    p = _with_connection(sub.add_parser("options", help="a picker's choices for one input field of an action"))
    p.add_argument("action")
    p.add_argument("field")
    p.add_argument("--input", help="the values chosen so far, as JSON, @file.json or - (default {})")
    p.add_argument("--bookmark", help="the next page of choices")
    p.set_defaults(func=cmd_options)


def _add_agent_commands(sub: Subcommands) -> None:
    """``tools``, ``mcp``: the actions offered to AI agents."""
    p = sub.add_parser("tools", help="the actions as tool definitions for AI agents")
    p.add_argument("--format", choices=["mcp", "openai"], default="mcp")
    p.set_defaults(func=cmd_tools)
    p = _with_connection(sub.add_parser("mcp", help="serve the actions as an MCP server over stdio "
                                                     "(needs: pip install 'modulex-pinterest[mcp]')"))
    p.set_defaults(func=cmd_mcp)


def _add_auth_commands(sub: Subcommands) -> None:
    """``auth login``, ``auth refresh``, ``auth import``: putting OAuth 2.0 credentials in a store."""
    auth = sub.add_parser("auth", help="OAuth 2.0: authorize the app, refresh tokens")
    auth_sub = auth.add_subparsers(dest="auth_command", required=True, metavar="COMMAND")
    p = _with_connection(auth_sub.add_parser("login", help="authorize the app in a browser; store the tokens"), False)
    p.add_argument("--app-id", required=True)
    p.add_argument("--app-secret-file", required=True, metavar="FILE", help="a file holding the app secret")
    p.add_argument("--credentials", required=True, metavar="FILE|URL", help="where to store the credentials: "
                                                                             + CREDENTIALS_HELP)
    p.add_argument("--authorization-url", help="default: the manifest's, or the sandbox's with a loopback --base-url")
    p.add_argument("--port", type=_port, default=8085, help="loopback port for the redirect (default 8085; 0: any)")
    p.add_argument("--wait", type=_seconds, default=300.0, metavar="SECONDS",
                   help="how long to wait for the browser (default 300, at most 86400)")
    p.set_defaults(func=cmd_auth_login)
    p = _with_connection(auth_sub.add_parser("refresh", help="refresh stored OAuth tokens now (e.g. on a schedule)"),
                         False)
    p.add_argument("--credentials", required=True, metavar="FILE|URL", help=CREDENTIALS_HELP)
    p.set_defaults(func=cmd_auth_refresh)
    p = auth_sub.add_parser("import", help="copy a credentials file into a store (a file or Redis)")
    p.add_argument("file", metavar="FILE", help="a credentials JSON file")
    p.add_argument("--credentials", required=True, metavar="FILE|URL", help="the store to write: " + CREDENTIALS_HELP)
    p.set_defaults(func=cmd_auth_import)


def _add_sandbox_commands(sub: Subcommands) -> None:
    """``sandbox``, ``demo``: the embedded Pinterest stand-in, to try the plugin without an account."""
    p = sub.add_parser("sandbox", help="serve the embedded Pinterest sandbox until interrupted")
    _describe_sandbox_when_asked(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--token-lifetime", type=int, default=2592000, metavar="SECONDS",
                   help="lifetime of the access tokens its token endpoint issues (default 30 days)")
    p.add_argument("--rate-limit", type=float, metavar="N",
                   help="answer 429 past N requests per second per user, as Pinterest does (default: no limit)")
    p.set_defaults(func=cmd_sandbox)
    p = sub.add_parser("demo", help="run a sample workflow against the embedded sandbox")
    p.add_argument("--json", action="store_true", help="print each node's raw output as JSON lines")
    p.set_defaults(func=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand's function is its ``func`` default."""
    parser = argparse.ArgumentParser(prog="modulex-pinterest", description=(__doc__ or "").partition("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_action_commands(sub)
    _add_agent_commands(sub)
    _add_auth_commands(sub)
    _add_sandbox_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None, host: Host | None = None) -> int:
    """Run one command; its exit code. A usage error or a request the host cannot route
    (:class:`HostError`: unknown action, say) is one line on stderr and exit 2, not a traceback;
    an output strict JSON cannot carry is one line on stderr and exit 1. ``host``: the host to
    use (one with other plugins registered, say) instead of the reference host with discovery."""
    args = build_parser().parse_args(argv)
    command: Command = args.func
    try:
        args.store = None
        if getattr(args, "credentials", None):
            args.store = _open_store(args.credentials, must_exist=command not in (cmd_auth_login, cmd_auth_import))
        return command(args, host if host is not None else _host(args))
    except (UsageError, HostError) as exc:
        print(f"modulex-pinterest: error: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"modulex-pinterest: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing left to say
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    sys.exit(main())
