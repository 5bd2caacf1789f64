"""The ``modulex-pinterest`` command: the plugin driven through the reference host.

Exit codes: 0 when the action succeeded, 1 when something asked for did not
happen (``success: false``, a login that did not finish, an output strict JSON
cannot carry), 2 for a usage error (an unknown action, unreadable input, a
flag value the plugin refuses, no credentials, a busy port). An error is one
line on stderr, never a traceback. The command line itself is in
:mod:`.parser`, what is printed and how in :mod:`.output`, the sandbox
command in :mod:`.serve`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import stat
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .. import PLUGIN
from ..contract import HTTP_LOGGER, Credentials
from ..host import Host, HostError, StoreError, open_store
from ..host.declared import declared_settings
from ..host.sealing import KEY_VARIABLE, new_key
from ..host.stores import holding_credentials
from .flags import check_fields, destructive_actions, did_you_mean, is_destructive, nearest, read_input
from .flags import settings as settings_from
from .help import TOKEN_ENV
from .output import (
    PROG,
    Failed,
    OutputError,
    PartialFetch,
    UsageError,
    chain_progress,
    configure_streams,
    error_line,
    print_json,
    print_output,
    progress_printer,
    reader_gone,
    say,
)
from .parser import APP_SECRET_ENV, build_parser
from .serve import cmd_sandbox, is_loopback_host, private_if_file
from .vocabulary import Vocabulary

if TYPE_CHECKING:
    from ..contract import Failure, Progress
    from ..host.redis_store import RedisStore
    from ..host.stores import CredentialsFile

Command = Callable[[argparse.Namespace, Host], int]
"""A command's function (``COMMANDS[args.handler]``): its exit code."""

AUTOLOAD_ENV = "MODULEX_DISABLE_PLUGIN_AUTOLOAD"
NO_CREDENTIALS = f"no credentials: set {TOKEN_ENV} or pass --credentials FILE"
NOT_LOADED = f"the {PLUGIN} plugin is not loaded: {AUTOLOAD_ENV} is set, which turns plugin discovery off; unset it"
LEASE_WAIT = 30.0  # seconds `auth encrypt` waits for a refresh in progress
SETTINGS_REFUSED = "settings"  # the failure kind of a setting the plugin refuses: here, a flag's mistake

__all__ = ["OutputError", "UsageError", "build_parser", "main"]

WORDS: ContextVar[Vocabulary | None] = ContextVar("WORDS", default=None)
"""The running command's words for the plugin's (its flags, its state file): set once per command
by :func:`_dispatch`, so that every answer :func:`_finish` prints is said in them (:func:`_words`)."""


def _words() -> Vocabulary:
    return WORDS.get() or Vocabulary()


def _refuse_invalid_settings(output: dict[str, Any], reports: Sequence[Failure]) -> None:
    """A setting the plugin refused (failure kind ``"settings"``, told to ``report_failure``: ``reports``)
    came from a flag (or ``$PINTEREST_BASE_URL``): a usage error, in the plugin's words."""
    if any(report.get("kind") == SETTINGS_REFUSED for report in reports):
        raise UsageError(_words().say(str(output.get("error"))))


def _checked_settings(args: argparse.Namespace, host: Host) -> dict[str, Any]:
    """The settings, checked by the plugin's own rules before anything is sent: a credential
    check without credentials validates the settings, then stops before any request."""
    settings = settings_from(args, declared_settings(_manifest(host), "cli"))
    if settings:
        reports: list[Failure] = []
        try:
            output = host.check(PLUGIN, {}, settings, report_failure=reports.append)
        except HostError:  # a host whose plugin does not check credentials: the call itself will say
            return settings
        _refuse_invalid_settings(output, reports)
    return settings


def _manifest(host: Host) -> dict[str, Any]:
    """The plugin's manifest as the host gives it; empty when the host has no such plugin."""
    try:
        return host.manifest(PLUGIN)
    except HostError:
        return {}


def _credentials(args: argparse.Namespace) -> Credentials | None:
    """The token in the environment; ``None`` with ``--credentials`` (the host reads the store on each call)."""
    if getattr(args, "store", None) is not None:
        return None
    token = os.environ.get(TOKEN_ENV, "").strip()
    return {"mode": "access_token", "access_token": token} if token else {}


def _name_server(host: Host, settings: dict[str, Any]) -> None:
    """One line on stderr names the server, unless it is Pinterest's own API."""
    production = str(host.manifest(PLUGIN).get("api", {}).get("base_url", "")).rstrip("/")
    if "base_url" in settings and str(settings["base_url"]).rstrip("/") != production:
        say(f"using {settings['base_url']}")


def _prepare(
    args: argparse.Namespace, host: Host, need_credentials: bool = True, name_server: bool = True
) -> tuple[Credentials | None, dict[str, Any]]:
    """The call's credentials and settings, once every usage mistake is ruled out; then
    (unless ``name_server`` is false) the server is named."""
    settings = _checked_settings(args, host)
    credentials = _credentials(args)
    if need_credentials and credentials == {} and host.manifest(PLUGIN).get("credentials"):  # it declares modes
        raise UsageError(NO_CREDENTIALS)
    if name_server:
        _name_server(host, settings)
    return credentials, settings


def _finish(output: dict[str, Any], reports: Sequence[Failure] = (), show: Callable[[Any], None] = print_json) -> int:
    """Print the plugin's answer; its exit code (0 success, 1 failure, 2 a refused setting:
    ``reports``, the call's failure reports, say which)."""
    _refuse_invalid_settings(output, reports)
    words = _words()
    error = output.get("error")
    if isinstance(error, str):
        output = dict(output, error=words.say(error))
    show(output)
    for hint in words.hints(error) if isinstance(error, str) else ():
        say(hint)
    return 0 if output.get("success") else 1


def _open_store(spec: str, must_exist: bool = True) -> CredentialsFile | RedisStore:
    """``--credentials``: a file path or a redis:// URL, read once here so a typo is a usage error."""
    try:
        store = open_store(spec)
        if must_exist:
            holding_credentials(store)
    except (StoreError, ValueError) as exc:  # ValueError: a malformed redis:// URL
        raise UsageError(str(exc)) from None
    return store


def _host(args: argparse.Namespace, found: Host) -> Host:
    """The reference host: ``found`` (made to read the plugin's flags), or with a Redis store
    one whose rate budget lives in the same Redis."""
    store: CredentialsFile | RedisStore | None = getattr(args, "store", None)
    if store is not None and hasattr(store, "rate_budget"):
        return Host(budget=store.rate_budget())
    return found


def cmd_actions(args: argparse.Namespace, host: Host) -> int:
    print_json(
        [{key: entry[key] for key in ("name", "title", "description")} for entry in host.manifest(PLUGIN)["actions"]]
    )
    return 0


def cmd_describe(args: argparse.Namespace, host: Host) -> int:
    """An action's manifest entry, or a trigger's (with its event schema)."""
    triggers = {entry["name"] for entry in host.manifest(PLUGIN).get("triggers", [])}
    print_json(host.trigger(PLUGIN, args.action) if args.action in triggers else host.action(PLUGIN, args.action))
    return 0


def _progress(args: argparse.Namespace) -> Progress | None:
    """``--progress``/``--no-progress``; by default, progress lines when stderr is a terminal."""
    wanted = args.progress
    if wanted is None:
        try:
            wanted = sys.stderr.isatty()
        except (AttributeError, ValueError):  # no stream, or a closed one
            wanted = False
    return progress_printer() if wanted else None


def _check_chart(path: str, action: str, entry: dict[str, Any]) -> None:
    """``--chart FILE``, before any request: a .png or .svg file in an existing folder, an action
    whose output has a daily series, and the charts extra installed (else how to install it)."""
    from . import chart

    try:
        chart.file_format(path)
    except ValueError as exc:
        raise UsageError(f"--chart: {exc}") from None
    if not chart.has_daily(entry.get("output_schema") or {}):
        raise UsageError(f"--chart: {action}'s output has no daily series to draw (the analytics actions have one)")
    try:
        chart.require()
    except chart.MissingExtra as exc:
        raise UsageError(f"--chart: {exc}") from None
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise UsageError(f"--chart: no such folder for {path!r}")


def _write_chart(path: str, action: str, output: dict[str, Any]) -> None:
    """Draw a successful output's daily series to ``path``; one line on stderr names the file."""
    from . import chart

    try:
        chart.save(output, action, path)
    except chart.NotChartable as exc:
        raise Failed(f"--chart: {exc}; no chart was written") from None
    except OSError as exc:
        raise Failed(f"--chart: cannot write {path} ({exc.strerror or exc})") from None
    say(f"chart written to {path}")


def _action_entry(host: Host, name: str) -> dict[str, Any]:
    """The manifest entry of the action ``name``; an unknown one is a usage error suggesting the
    nearest action (or, for a trigger's name, ``poll``)."""
    manifest = host.manifest(PLUGIN)
    actions = [entry["name"] for entry in manifest["actions"]]
    triggers = [entry["name"] for entry in manifest.get("triggers", ())]
    if name not in actions:
        if name in triggers:
            raise UsageError(f"{name} is a trigger, not an action: poll it with `{PROG} poll {name} --state FILE`")
        close = nearest(name, actions + triggers)
        poll = f" (a trigger: `{PROG} poll`)" if close in triggers else ""  # nearest a trigger: say how to poll it
        hint = f": did you mean {close}{poll}?" if close else ""
        raise UsageError(f"no action {name!r}{hint} (actions: {', '.join(actions)})")
    return host.action(PLUGIN, name)


def _trigger_entry(host: Host, name: str) -> dict[str, Any]:
    """The manifest entry of the trigger ``name``; an unknown one is a usage error suggesting the nearest."""
    triggers = [entry["name"] for entry in host.manifest(PLUGIN).get("triggers", ())]
    if name not in triggers:
        raise UsageError(f"no trigger {name!r}{did_you_mean(name, triggers)} (triggers: {', '.join(triggers)})")
    return host.trigger(PLUGIN, name)


def cmd_run(args: argparse.Namespace, host: Host) -> int:
    inputs = read_input(args.input)
    entry = _action_entry(host, args.action)  # an unknown action is the first mistake named
    check_fields(inputs, entry.get("input_schema") or {}, args.action)
    if args.chart is not None:
        _check_chart(args.chart, args.action, entry)
    credentials, settings = _prepare(args, host, name_server=not args.dry_run)  # a dry run names the URL itself
    if args.dry_run:
        return _dry_run(args, host, entry, inputs, settings)
    if args.verbose:
        _show_http_exchanges()
    reports: list[Failure] = []
    partial = PartialFetch.watch(entry, inputs)  # Ctrl-C in a whole-list fetch: what came, and where to resume
    progress = chain_progress(partial, _progress(args))
    calls = {"store": args.store, "progress": progress, "report_failure": reports.append}
    try:
        output = host.run(PLUGIN, args.action, inputs, credentials, settings, **calls)
    except KeyboardInterrupt:
        if partial is None:
            raise
        fetched, note = partial.interrupted()
        print_output(fetched, args.output, entry)
        say(note)
        return 130
    code = _finish(output, reports, show=lambda value: print_output(value, args.output, entry))
    if args.output != "json" and code == 0 and output.get("bookmark"):  # the bookmark is not in the lines printed
        say(f"more: resume with --input {shlex.quote(json.dumps(dict(inputs, bookmark=output['bookmark'])))}")
    if args.chart is not None and code == 0:
        _write_chart(args.chart, args.action, output)
    return code


def _show_http_exchanges() -> None:
    """``--verbose``: the plugin's one line per HTTP exchange (already redacted) on stderr."""
    import logging

    logger = logging.getLogger(HTTP_LOGGER)
    if not any(getattr(handler, "modulex_verbose", False) for handler in logger.handlers):  # main() may run again
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"{PROG}: http: %(message)s"))
        handler.modulex_verbose = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _dry_run(args: argparse.Namespace, host: Host, entry: dict[str, Any], inputs: Any, settings: dict[str, Any]) -> int:
    """``--dry-run``: for a destructive action (the manifest's ``request_semantics``), the inputs
    checked by the plugin's own rules and the request that would be sent, printed; nothing sent.
    The plugin is run without credentials: it checks the inputs, then stops at the credentials."""
    manifest = host.manifest(PLUGIN)
    if not is_destructive(manifest, entry):
        names = ", ".join(destructive_actions(manifest)) or "none"
        raise UsageError(f"--dry-run: {args.action} deletes nothing; --dry-run is for the actions that do ({names})")
    reports: list[Failure] = []
    output = host.run(PLUGIN, args.action, inputs, {}, settings, report_failure=reports.append)
    if any(report.get("kind") != "credentials" for report in reports) or output.get("success"):
        raise UsageError(str(output.get("error")))
    request = entry.get("request") or {}
    path = re.sub(
        r"\{([a-z_]+)\}", lambda m: quote(str(inputs.get(m.group(1), m.group(0))), safe=""), str(request.get("path"))
    )
    base = str(settings.get("base_url") or manifest.get("api", {}).get("base_url", "")).rstrip("/")
    plan = {"method": str(request.get("method")).upper(), "url": base + path}
    say(f"dry run: would send {plan['method']} {plan['url']} ({entry.get('description', args.action)}); nothing sent")
    answer = {"success": True, "error": None, "dry_run": True, "action": args.action, "request": plan}
    print_output(answer, args.output, {})
    return 0


def cmd_check(args: argparse.Namespace, host: Host) -> int:
    credentials, settings = _prepare(args, host)
    reports: list[Failure] = []
    return _finish(host.check(PLUGIN, credentials, settings, store=args.store, report_failure=reports.append), reports)


def _action_or_trigger(host: Host, name: str) -> dict[str, Any]:
    """The manifest entry of the action or trigger ``name`` (a picker serves both forms); an
    unknown name is a usage error that lists both and suggests the nearest."""
    manifest = host.manifest(PLUGIN)
    entries = {entry["name"]: entry for entry in (*manifest.get("triggers", ()), *manifest["actions"])}
    if name in entries:
        return dict(entries[name])
    actions = [entry["name"] for entry in manifest["actions"]]
    triggers = [entry["name"] for entry in manifest.get("triggers", ())]
    raise UsageError(
        f"no action or trigger {name!r}{did_you_mean(name, entries)} "
        f"(actions: {', '.join(actions)}; triggers: {', '.join(triggers) or 'none'})"
    )


def cmd_options(args: argparse.Namespace, host: Host) -> int:
    """A picker's choices for a field of an action's form or a trigger's (the same call for both)."""
    inputs = read_input(args.input)
    entry = _action_or_trigger(host, args.action)
    check_fields(inputs, entry.get("input_schema") or {}, args.action)
    credentials, settings = _prepare(args, host)
    return _finish(
        host.options(
            PLUGIN, args.action, args.field, inputs, credentials, settings, bookmark=args.bookmark, store=args.store
        )
    )


def cmd_poll(args: argparse.Namespace, host: Host) -> int:
    """Poll a trigger once with the state in ``--state``. The state's folder is checked before the
    poll; after a successful one the new state is written beside the file first, then the answer
    printed, then the state put in place: a state that cannot be written makes the answer a failed
    poll (no events, the old state, exit 1), so the same events come again next time, never lost."""
    from ..host.statefile import StateFileError, taking_turns
    from .statefile import check_folder

    inputs = read_input(args.input)
    check_fields(inputs, _trigger_entry(host, args.trigger).get("input_schema") or {}, args.trigger)
    check_folder(args.state)  # before any request: a poll whose state cannot be stored is in vain
    credentials, settings = _prepare(args, host)
    try:
        with taking_turns(args.state):  # another poll of this file (a worker, a flow) goes first or after
            return _poll(args, host, inputs, credentials, settings)
    except StateFileError as exc:
        raise Failed(str(exc)) from None


def _poll(
    args: argparse.Namespace, host: Host, inputs: Any, credentials: Credentials | None, settings: dict[str, Any]
) -> int:
    """:func:`cmd_poll`'s turn: read the state, poll, write the state beside, print, put it in place."""
    from .statefile import prepare_state, read_state

    state = read_state(args.state, host.manifest(PLUGIN)["trigger_state_max_bytes"])
    output = host.poll(PLUGIN, args.trigger, inputs, credentials, settings, state, store=args.store)
    if not output.get("success"):
        return _finish(output)
    try:
        pending = prepare_state(args.state, output["state"])
    except OSError as exc:
        count = len(output.get("events") or ())
        error = (
            f"polled {count} new event{'' if count == 1 else 's'} but cannot write the state file {args.state} "
            f"({exc.strerror or exc}): nothing was reported; the next poll reports them again once the file "
            "can be written (check the folder's free space and permissions)"
        )
        print_json({"success": False, "error": error, "events": [], "state": state})
        raise Failed(error) from None
    try:
        print_json(output)
        pending.commit()
    except OSError as exc:
        raise Failed(
            f"the events above were printed but the state file {args.state} could not be replaced "
            f"({exc.strerror or exc}): the next poll reports them again"
        ) from None
    finally:
        pending.discard()
    return 0


def _read_secret(path: str | None) -> tuple[str, str | None]:
    """The app secret, from the ``--app-secret-file`` file, else ``$PINTEREST_APP_SECRET``, and a
    warning to give when the file is one other users can read (it is used all the same). The path is
    not repeated when the file cannot be read: it may be the secret itself, given by mistake."""
    if path is None:
        secret = os.environ.get(APP_SECRET_ENV, "").strip()
        if not secret:
            raise UsageError(
                f"no app secret: pass --app-secret-file FILE (a file only you can read) or set {APP_SECRET_ENV}"
            )
        return secret, None
    try:
        with open(path, encoding="utf-8") as handle:
            secret = handle.read().strip()
            mode = os.fstat(handle.fileno()).st_mode
    except (OSError, UnicodeDecodeError) as exc:
        why = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror or type(exc).__name__
        raise UsageError(f"the file given to --app-secret-file cannot be read: {why}") from None
    if not secret:
        raise UsageError("the file given to --app-secret-file is empty")
    warning = None
    if stat.S_ISREG(mode) and mode & 0o077:
        warning = (
            f"warning: the app secret file {path} can be read by other users of this machine (mode "
            f"{stat.S_IMODE(mode):o}); make it yours only: chmod 600 {shlex.quote(path)}"
        )
    return secret, warning


def _sandbox_app_hint(args: argparse.Namespace, base_url: str | None) -> str:
    """Against a loopback server that may be the embedded sandbox, when another app id is
    given: which one it knows (its page refuses any other); else nothing."""
    from urllib.parse import urlsplit

    from ..sandbox import demo_app

    known = demo_app()["app_id"]
    if (
        base_url
        and not args.authorization_url
        and args.app_id != known
        and is_loopback_host(urlsplit(base_url).hostname or "")
    ):
        return f"; if {base_url} is the embedded sandbox, it knows app id {known} only: pass --app-id {known}"
    return ""


def _paste_fd() -> int | None:
    """Standard input's descriptor when it is a terminal this process may read, where a redirected
    address can be pasted; not for a background job (reading would stop it: SIGTTIN)."""
    try:
        if sys.stdin is None or not sys.stdin.isatty():
            return None
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):  # no stream, or a closed or replaced one
        return None
    try:
        if hasattr(os, "tcgetpgrp") and os.tcgetpgrp(fd) != os.getpgrp():
            return None  # a background job of this terminal
    except OSError:  # not this process's controlling terminal: no job control to stop it
        pass
    return fd


def cmd_auth_login(args: argparse.Namespace, host: Host) -> int:
    """The authorization-code flow: what it says (the URL, the wait, what to do without a browser)
    goes to stderr; stdout gets the result's JSON alone."""
    from .login import ListenError, LoginError, RefusedError, browser_available, login, open_browser, unwritable

    app_secret, warning = _read_secret(args.app_secret_file)
    oauth = next(m for m in host.manifest(PLUGIN)["credentials"] if m["mode"] == "oauth2")
    store = args.store
    if problem := unwritable(store):  # before the browser step: a code whose tokens cannot be stored is lost
        raise UsageError(problem)
    _, settings = _prepare(args, host, need_credentials=False, name_server=False)

    def listening() -> None:  # the port is ours and the page did not refuse: no usage error is left
        _name_server(host, settings)
        if warning:
            say(warning)

    try:
        credentials = login(
            oauth,
            args.app_id,
            app_secret,
            store,
            lambda app, code, uri: host.exchange_code(PLUGIN, app, code, uri, settings),
            base_url=settings.get("base_url"),
            authorization_url=args.authorization_url,
            port=args.port,
            wait=args.wait,
            say=lambda line: print(line, file=sys.stderr, flush=True),
            listening=listening,
            browser=None if args.no_browser or not browser_available() else open_browser,
            paste_fd=_paste_fd(),
        )
    except ListenError as exc:  # a busy port: nothing was asked of the browser yet
        raise UsageError(str(exc)) from None
    except RefusedError as exc:  # the page said no before any browser saw it
        raise UsageError(f"{exc}{_sandbox_app_hint(args, settings.get('base_url'))}") from None
    except LoginError as exc:
        raise Failed(f"login failed: {exc}") from None
    print_json({"success": True, "credentials": store.grant_id, "expires_at": credentials.get("expires_at")})
    return 0


def cmd_auth_refresh(args: argparse.Namespace, host: Host) -> int:
    _, settings = _prepare(args, host, need_credentials=False)
    result = host.refresh(PLUGIN, args.store, settings)
    return _finish(dict(result, credentials=args.store.grant_id))


def cmd_auth_import(args: argparse.Namespace, host: Host) -> int:
    """Copy a credentials file into any store (a file or Redis), e.g. to share one grant between machines."""
    source = _open_store(args.file)
    try:
        args.store.save(source.read())
    except (StoreError, OSError) as exc:  # OSError: the file store's lock file could not be made
        raise UsageError(str(exc)) from None
    print_json({"success": True, "credentials": args.store.grant_id})
    return 0


def cmd_auth_encrypt(args: argparse.Namespace, host: Host) -> int:
    """Seal a store's credentials with the first key in the environment (upgrade, or re-seal after a rotation)."""
    store = args.store
    try:
        if not store.sealer.sealing:
            raise StoreError(
                f"no key to seal with: set {KEY_VARIABLE} (make one with `modulex-pinterest auth new-key`)"
            )
        credentials = store.read()
        with store.lease(LEASE_WAIT, LEASE_WAIT) as held:  # not in the middle of a refresh
            if not held:
                raise StoreError(f"{store.location} stayed locked by a refresh for {LEASE_WAIT:g} s; try again")
            store.save(store.read() or credentials)
    except (StoreError, OSError) as exc:
        raise UsageError(str(exc)) from None
    print_json({"success": True, "credentials": store.grant_id, "sealed": True})
    return 0


def cmd_auth_new_key(args: argparse.Namespace, host: Host) -> int:
    try:
        key = new_key()
        private_if_file(sys.stdout)  # `auth new-key > key-file`: readable by its owner only
        print(key)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_tools(args: argparse.Namespace, host: Host) -> int:
    from .agent_tools import tool_definitions

    print_json(tool_definitions(host.manifest(PLUGIN), args.format))
    return 0


def cmd_mcp(args: argparse.Namespace, host: Host) -> int:
    from .mcp_server import MissingExtra, serve

    _, settings = _prepare(args, host, need_credentials=False)  # without credentials: serve() warns
    try:
        serve(host, PLUGIN, lambda: _credentials(args), settings, store=args.store, words=_words().say)
    except MissingExtra as exc:
        raise UsageError(str(exc)) from None
    return 0


def cmd_demo(args: argparse.Namespace, host: Host) -> int:
    from .demo import run_demo

    return run_demo(host, PLUGIN, as_json=args.json)


COMMANDS: dict[str, Command] = {
    "actions": cmd_actions,
    "describe": cmd_describe,
    "run": cmd_run,
    "check": cmd_check,
    "options": cmd_options,
    "poll": cmd_poll,
    "tools": cmd_tools,
    "mcp": cmd_mcp,
    "demo": cmd_demo,
    "auth login": cmd_auth_login,
    "auth refresh": cmd_auth_refresh,
    "auth import": cmd_auth_import,
    "auth encrypt": cmd_auth_encrypt,
    "auth new-key": cmd_auth_new_key,
}


def _dispatch(args: argparse.Namespace, host: Host, own: bool) -> int:
    """Open the store (a typo is a usage error), make the host (``own``: ``host`` is this
    command's, not the caller's), run the command."""
    if args.handler == "sandbox":  # needs no plugin
        return cmd_sandbox(args)
    args.store = None
    if getattr(args, "credentials", None) is not None:
        args.store = _open_store(
            args.credentials, must_exist=args.handler not in ("auth login", "auth import", "auth encrypt")
        )
    if own:
        host = _host(args, host)
        if os.environ.get(AUTOLOAD_ENV) and PLUGIN not in host.manifests():
            raise UsageError(NOT_LOADED)
    words = WORDS.set(Vocabulary.of(args, _manifest(host)))
    try:
        return COMMANDS[args.handler](args, host)
    finally:
        WORDS.reset(words)


def _parse(argv: Sequence[str] | None, host: Host) -> argparse.Namespace:
    """The command line, with a flag for each setting the plugin's manifest offers; without the
    plugin there are none, and a setting flag is an unknown argument that says why."""
    manifest = _manifest(host)
    parser = build_parser(manifest)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        why = ""
        if not manifest:
            why = f" ({NOT_LOADED})" if os.environ.get(AUTOLOAD_ENV) else f" (no {PLUGIN} plugin is installed)"
        elif getattr(args, "command_parser", None) is not None:  # the command's own --help, and the nearest flag
            why = _unknown_flag_hint(args, unknown[0], manifest)
        (getattr(args, "command_parser", None) or parser).error(
            f"unrecognized arguments: {_unrecognized(unknown)}{why}"
        )
    return args


def _unrecognized(unknown: Sequence[str]) -> str:
    """The unknown arguments by their flags only: a value after a mistyped flag
    (``--app-secret-fil VALUE``, ``--tokn=VALUE``) may be a secret, so it is counted, not repeated."""
    flags = [word.split("=", 1)[0] for word in unknown if word.startswith("-")]
    values = len(unknown) - len(flags) + sum("=" in word for word in unknown if word.startswith("-"))
    left = f"{values} value{'s' if values != 1 else ''} (not repeated: values may be secrets)" if values else ""
    return " and ".join(part for part in (" ".join(flags), left) if part)


def _unknown_flag_hint(args: argparse.Namespace, unknown: str, manifest: dict[str, Any]) -> str:
    """What an unknown ``--flag`` of a command may have meant: one of the action's input fields
    (``run list_boards --page-size 5``: they go in ``--input``), else the nearest of its flags."""
    flag = unknown.split("=", 1)[0]
    if not flag.startswith("--"):
        return ""
    field = flag[2:].replace("-", "_")
    name = getattr(args, "action", None) or getattr(args, "trigger", None)
    for entry in (*manifest.get("actions", ()), *manifest.get("triggers", ())):
        if entry["name"] == name and field in ((entry.get("input_schema") or {}).get("properties") or {}):
            return f": {field} is an input of {name}: give it in --input, e.g. --input '{{\"{field}\": ...}}'"
    flags = [option for option in args.command_parser._option_string_actions if option.startswith("--")]
    return did_you_mean(flag, flags)


def main(argv: Sequence[str] | None = None, host: Host | None = None) -> int:
    """Run one command; its exit code. A usage error or a request the host cannot route
    (:class:`HostError`: unknown action, say) is one line on stderr and exit 2, not a traceback;
    something that did not happen (a failed login, an output strict JSON cannot carry) is one
    line and exit 1. No command prints the command list on stderr, exit 2. A reader of the JSON
    output that went away (``| head -c1``) is not an error: the exit code stays the action's; a
    command it cuts short (``demo``, ``auth login``) ends quietly with 1. ``host``: the host to
    use (one with other plugins registered, say) instead of the reference host with discovery."""
    configure_streams()
    own = host is None
    host = Host() if host is None else host  # discovery first: the plugin's manifest declares the setting flags
    args = _parse(argv, host)
    if args.handler is None:  # `modulex-pinterest` or `modulex-pinterest auth` alone
        args.help_parser.print_help(sys.stderr)
        return 2
    try:
        return _dispatch(args, host, own)
    except (UsageError, HostError) as exc:
        error_line(str(exc))
        return 2
    except Failed as exc:
        error_line(str(exc))
        return 1
    except BrokenPipeError:  # printing outside print_json: the demo or the login cut short
        reader_gone()
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
