"""The ``modulex-pinterest`` command line: its commands, options and help.

Each command's parser names its handler (``args.handler``: ``"run"``,
``"auth login"``, ...), which :mod:`.cli` runs; a parser that needs a
subcommand (the top one, ``auth``) has ``handler`` ``None`` and its
``help_parser``, printed when none is given. Every mistake argparse finds is
one line on standard error and exit 2.
"""

from __future__ import annotations

import argparse
import math
import os
import textwrap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from .. import __version__
from ..host.declared import declared_default, declared_settings
from .flags import MEDIA_FLAGS, destructive_actions, flag
from .help import BASE_URL_ENV, COMMAND_HELP, SANDBOX_DESCRIPTION, TOKEN_ENV, WIDTH
from .output import OUTPUT_FORMATS, PROG

if TYPE_CHECKING:
    Subcommands = argparse._SubParsersAction["Parser"]

CREDENTIALS_HELP = (
    "a credentials JSON file, or redis://HOST:PORT/DB?key=KEY (pip install "
    "'modulex-pinterest[redis]'); kept current as OAuth tokens rotate, shared safely by many processes"
)
ALLOW_PATH_CWD = (
    "also let the media actions read local files under DIR (file_path, video_path, cover_image_path); "
    "the current directory is always allowed"
)
ALLOW_PATH_ONLY = (
    "let the tools read local files under DIR (file_path, video_path, cover_image_path); default: none, "
    "every local path is refused (not even the current directory: a client may start the server anywhere)"
)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose mistakes are one line on standard error (exit 2), pointing at ``--help``.
    Options are matched whole, never by a prefix: ``--app-secret VALUE`` must not pass for ``--app-secret-file``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (they are wrapped here), and each option's default
    shown when it has one and its help does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            not action.option_strings
            or "default" in text
            or action.default is None
            or action.default is False
            or action.default == argparse.SUPPRESS
        ):
            return text
        return f"{text} (default: %(default)s)"


def _paragraph(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH)


def _command(sub: Subcommands, name: str, handler: str | None = None) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary (in the command list), a one-paragraph
    description, an example and its exit codes (the epilog) under ``--help``, from :mod:`.help`."""
    text = COMMAND_HELP[handler or name]
    epilog = "example:\n" + textwrap.indent(text.example.strip(), "  ") + "\n\n" + _paragraph(text.exits)
    parser = sub.add_parser(
        name, help=text.summary, description=_paragraph(text.description), epilog=epilog, formatter_class=Formatter
    )
    parser.set_defaults(handler=handler or name, command_parser=parser)  # command_parser: its usage errors
    return parser


def port(text: str) -> int:
    """``--port``: a TCP port number, 0 to 65535."""
    if not (text.isascii() and text.isdigit() and 0 <= int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port number (0 to 65535): {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """``--wait``: a number of seconds, more than 0 and at most a day."""
    if not (text.isascii() and text.replace(".", "", 1).isdigit() and 0 < float(text) <= 86400):
        raise argparse.ArgumentTypeError(f"not a number of seconds from 0 to 86400: {text!r}")
    return float(text)


def positive(text: str) -> float:
    """The sandbox's ``--rate-limit``: a positive, finite number."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return value


FLAG_TYPES: dict[str, Callable[[str], Any]] = {"number": float, "integer": int, "string": str}


def _flag_type(entry: Mapping[str, Any]) -> tuple[Callable[[str], Any], str]:
    """A declared setting's flag: what parses its value (its first type a flag can take), and its metavar."""
    types = [entry["type"]] if isinstance(entry["type"], str) else entry["type"]
    kind = next(kind for kind in types if kind in FLAG_TYPES)
    if kind == "string":
        return str, "URL" if entry["name"].endswith("url") else "VALUE"
    return FLAG_TYPES[kind], "SECONDS" if entry.get("unit") == "seconds" else "N"


def _shown_default(manifest: Mapping[str, Any], entry: Mapping[str, Any]) -> str:
    """The ``(default: ...)`` of a setting's help: the plugin applies it when the flag is not given."""
    default = declared_default(manifest, entry)
    if entry["name"] == "base_url":  # the command line's own fallback comes first
        return f"(default: ${BASE_URL_ENV}, else {default})"
    if default is None:
        return ""
    shown = f"[{', '.join(f'{n:g}' for n in default)}]" if isinstance(default, list) else f"{default:g}"
    unit = {"seconds": " s", None: ""}.get(entry.get("unit"), f" {entry.get('unit')}")
    return f"(default: the plugin's, {shown}{unit})"


def _with_connection(
    parser: argparse.ArgumentParser, manifest: Mapping[str, Any], auth: bool = False
) -> argparse.ArgumentParser:
    """Add the options of a command that calls Pinterest: a flag for each setting the plugin's
    ``manifest`` declares for the command line (its description the help), and ``--credentials``.
    The ``auth`` commands (``auth=True``) declare ``--credentials`` themselves (required: where to
    write), and send only token requests."""
    for entry in declared_settings(manifest, "cli"):
        parse, metavar = _flag_type(entry)
        text = entry["description"]
        parser.add_argument(
            flag(entry["name"]),
            type=parse,
            metavar=metavar,
            help=f"{text[:1].lower()}{text[1:]} {_shown_default(manifest, entry)}".strip(),
        )
    if not auth:
        parser.add_argument("--credentials", metavar="FILE|URL", help=CREDENTIALS_HELP + f" (default: ${TOKEN_ENV})")
    return parser


def directory(text: str) -> str:
    """``--allow-path``: an existing directory."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"not a directory: {text!r}")
    return text


def _with_media(parser: argparse.ArgumentParser, cwd: bool) -> argparse.ArgumentParser:
    """Add what the media actions may read: local files (``file_roots``; with ``cwd``, the
    current directory too) and downloads from non-public addresses (``allow_private_network``)."""
    parser.set_defaults(allow_cwd=cwd)
    parser.add_argument(
        MEDIA_FLAGS["file_roots"],
        action="append",
        type=directory,
        metavar="DIR",
        help=(ALLOW_PATH_CWD if cwd else ALLOW_PATH_ONLY) + "; repeatable",
    )
    parser.add_argument(
        MEDIA_FLAGS["allow_private_network"],
        action="store_true",
        help="let video_url be downloaded from loopback, private or link-local addresses (a local server, "
        "the sandbox); default: refused. Image URLs only passed on to Pinterest are never fetched",
    )
    return parser


def _add_action_commands(sub: Subcommands, manifest: Mapping[str, Any]) -> None:
    """``actions``, ``describe``, ``run``, ``check``, ``options``, ``poll``: what a workflow node does."""
    _command(sub, "actions")
    p = _command(sub, "describe")
    p.add_argument("action", help="an action's name (see `actions`), or a trigger's (new_pin, new_board)")
    p = _with_media(_with_connection(_command(sub, "run"), manifest), cwd=True)
    p.add_argument("action", help="an action's name (see `actions`)")
    p.add_argument(
        "--input",
        metavar="JSON|@FILE|-",
        help="the inputs as JSON, @file.json, or - for stdin; a UTF-8 BOM is ignored (default: {})",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="report pages, waits, upload and video processing on stderr, one line each (default: when "
        "stderr is a terminal)",
    )
    p.add_argument(
        "--chart",
        metavar="FILE",
        help="also draw the output's daily series (the analytics actions) to FILE.png or FILE.svg, one line per "
        "metric (pip install 'modulex-pinterest[charts]')",
    )
    p.add_argument(
        "--output",
        choices=OUTPUT_FORMATS,
        default="json",
        help="json: the output object, indented on a terminal, on one line when piped; jsonl: a list's items "
        "one per line (anything else on one line); table: columns for people, fitted to the terminal",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="show each HTTP exchange on stderr: method, path and query, status, time, request id (tokens, "
        "secrets and codes are never shown)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help=f"for an action that deletes ({', '.join(destructive_actions(manifest)) or 'none'}): check the "
        "inputs and the credentials' presence, say what would be sent, and send nothing",
    )
    _with_connection(_command(sub, "check"), manifest)
    p = _with_connection(_command(sub, "options"), manifest)
    p.add_argument("action", help="an action's name (see `actions`), or a trigger's (new_pin, new_board)")
    p.add_argument("field", help="one of its input fields that has a picker")
    p.add_argument("--input", metavar="JSON|@FILE|-", help="the values chosen so far (default: {})")
    p.add_argument("--bookmark", help="the bookmark of the previous answer, for the next page of choices")
    p = _with_connection(_command(sub, "poll"), manifest)
    p.add_argument("trigger", help="a trigger's name: new_pin, new_board")
    p.add_argument("--input", metavar="JSON|@FILE|-", help="the trigger's inputs (default: {})")
    p.add_argument(
        "--state",
        required=True,
        metavar="FILE",
        help="the trigger's state: read if it exists (else the first poll, which primes), replaced after "
        "a successful poll",
    )


def _add_agent_commands(sub: Subcommands, manifest: Mapping[str, Any]) -> None:
    """``tools``, ``mcp``: the actions offered to AI agents."""
    p = _command(sub, "tools")
    p.add_argument("--format", choices=["mcp", "openai"], default="mcp", help="the definitions' dialect")
    _with_media(_with_connection(_command(sub, "mcp"), manifest), cwd=False)


APP_SECRET_ENV = "PINTEREST_APP_SECRET"
NO_SECRET_FLAG = (
    "a secret on the command line is visible to every user of this machine (ps) and kept in the shell's "
    f"history, so it is not taken: put it in a file only you can read and pass --app-secret-file FILE "
    f"((umask 077; cat > app-secret.txt)), or set {APP_SECRET_ENV}"
)


class _RefuseSecret(argparse.Action):
    """``--app-secret``: refused, its value (a secret) never repeated."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, *_: object) -> None:
        raise argparse.ArgumentError(self, NO_SECRET_FLAG)


def _add_auth_commands(sub: Subcommands, manifest: Mapping[str, Any]) -> None:
    """``auth login``, ``auth refresh``, ``auth import``: putting OAuth 2.0 credentials in a store."""
    auth = sub.add_parser(
        "auth",
        help="OAuth 2.0: authorize the app, refresh tokens, import credentials",
        description=_paragraph(
            "OAuth 2.0 credentials in a store (a file or a Redis key): get "
            "them with `login`, refresh them with `refresh`, copy them with "
            "`import`."
        ),
        epilog=f"example:\n  {PROG} auth login --help",
        formatter_class=Formatter,
    )
    auth.set_defaults(handler=None, help_parser=auth)
    auth_sub = auth.add_subparsers(dest="auth_command", metavar="COMMAND", parser_class=Parser)
    p = _with_connection(
        _command(auth_sub, "login", handler="auth login"),
        manifest,
        auth=True,
    )
    p.add_argument("--app-id", required=True, help="the app's id, from Pinterest's developer portal")
    p.add_argument(
        "--app-secret-file",
        metavar="FILE",
        help=f"a file holding the app secret, readable by you only (default: ${APP_SECRET_ENV})",
    )
    p.add_argument("--app-secret", nargs="?", action=_RefuseSecret, help=argparse.SUPPRESS)
    p.add_argument(
        "--credentials", required=True, metavar="FILE|URL", help="where to store the credentials: " + CREDENTIALS_HELP
    )
    p.add_argument(
        "--authorization-url",
        metavar="URL",
        help="where the browser goes (default: the manifest's, or the sandbox's with a loopback --base-url)",
    )
    p.add_argument("--port", type=port, default=8085, help="loopback port for the redirect; 0: any free one")
    p.add_argument(
        "--wait", type=seconds, default=300.0, metavar="SECONDS", help="how long to wait for the browser, at most 86400"
    )
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser (by default one is opened when this machine has one); the URL is printed "
        "on stderr either way",
    )
    p = _with_connection(
        _command(auth_sub, "refresh", handler="auth refresh"),
        manifest,
        auth=True,
    )
    p.add_argument("--credentials", required=True, metavar="FILE|URL", help=CREDENTIALS_HELP)
    p = _command(auth_sub, "import", handler="auth import")
    p.add_argument("file", metavar="FILE", help="a credentials JSON file")
    p.add_argument("--credentials", required=True, metavar="FILE|URL", help="the store to write: " + CREDENTIALS_HELP)
    p = _command(auth_sub, "encrypt", handler="auth encrypt")
    p.add_argument("--credentials", required=True, metavar="FILE|URL", help="the store to seal: " + CREDENTIALS_HELP)
    _command(auth_sub, "new-key", handler="auth new-key")


def _describe_sandbox_when_asked(parser: argparse.ArgumentParser) -> None:
    """Name the sandbox's OAuth app in ``sandbox --help`` without importing the
    sandbox for every other command (it costs a start-up its users don't need)."""
    format_help = parser.format_help

    def with_app() -> str:
        from ..sandbox import demo_app

        parser.description = _paragraph(SANDBOX_DESCRIPTION.format(**demo_app()))
        return format_help()

    # Replaced on this one parser object, so only `sandbox --help` pays for the import.
    parser.format_help = with_app  # type: ignore[method-assign]


def _add_sandbox_commands(sub: Subcommands) -> None:
    """``sandbox``, ``demo``: the embedded Pinterest stand-in, to try the plugin without an account."""
    p = _command(sub, "sandbox")
    _describe_sandbox_when_asked(p)
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on; not loopback needs --public")
    p.add_argument("--port", type=port, default=0, help="the port to listen on; 0 picks a free one")
    p.add_argument(
        "--public",
        action="store_true",
        help="allow a --host other than loopback: a fresh random token is served, not the demo one",
    )
    p.add_argument(
        "--env", action="store_true", help="print `export PINTEREST_...=...` lines for a shell instead of the JSON line"
    )
    p.add_argument(
        "--background",
        action="store_true",
        help="serve from a process of its own; print its address (and its PID) once ready, then end",
    )
    p.add_argument(
        "--token-lifetime",
        type=int,
        default=2592000,
        metavar="SECONDS",
        help="lifetime of the access tokens its token endpoint issues; 2592000 is 30 days",
    )
    p.add_argument(
        "--rate-limit",
        type=positive,
        metavar="N",
        help="answer 429 past N requests per second per app, as Pinterest does (default: no limit)",
    )
    p = _command(sub, "demo")
    p.add_argument("--json", action="store_true", help="print each node's raw output as one JSON object per line")


def build_parser(manifest: Mapping[str, Any] | None = None) -> argparse.ArgumentParser:
    """The whole command line; each command's parser names its ``handler``. The setting flags
    of the commands that call Pinterest are the ones the plugin's ``manifest`` (as the host
    gives it) declares for the command line; without one, there are none."""
    manifest = manifest or {}
    parser = Parser(
        prog=PROG,
        formatter_class=Formatter,
        description=_paragraph(
            "Pinterest actions for ModuleX workflow engines and AI agents, driven through "
            "the reference host: run them, get OAuth credentials, serve them over MCP, or "
            "try them all on the embedded sandbox."
        ),
        epilog="start with:\n  "
        + f"{PROG} demo\n\n"
        + _paragraph(
            f"`{PROG} COMMAND --help` describes each command. Exit codes: 0 success; 1 an action or a login "
            "failed; 2 a usage error (one line on stderr)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.set_defaults(handler=None, help_parser=parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    _add_action_commands(sub, manifest)
    _add_agent_commands(sub, manifest)
    _add_auth_commands(sub, manifest)
    _add_sandbox_commands(sub)
    return parser
