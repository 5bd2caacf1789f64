"""What the command line's flags (and the environment) make of a call: the
inputs (``--input``) and the host settings (``--base-url``, ``--timeout``, ...,
and the media actions' ``--allow-path`` and ``--allow-private-network``).
A mistake in them is a :class:`~.output.UsageError`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .help import BASE_URL_ENV
from .output import UsageError, refuse_constant

BOM = "\ufeff"


def read_input(text: str | None) -> Any:
    """``--input`` as JSON text, ``@file.json`` or ``-`` for standard input; a leading UTF-8 BOM is ignored."""
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
        return json.loads(text.removeprefix(BOM), parse_constant=refuse_constant)
    except ValueError as exc:
        raise UsageError(f"input is not valid JSON: {exc}") from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise UsageError("input is not usable: it is nested too deeply") from None


def base_url(args: argparse.Namespace) -> str | None:
    """``--base-url``, else ``$PINTEREST_BASE_URL``, else ``None`` (Pinterest's). An empty one is a
    usage error: falling back to Pinterest's API would send a token meant for the sandbox to production."""
    given = getattr(args, "base_url", None)
    where = "--base-url"
    if given is None:
        given, where = os.environ.get(BASE_URL_ENV), f"${BASE_URL_ENV}"
    if given is not None and not given.strip():
        raise UsageError(
            f"{where} is empty: give the API's URL (the sandbox's, say), or leave it unset for Pinterest's"
        )
    return given


def file_roots(args: argparse.Namespace) -> list[str] | None:
    """The ``file_roots`` setting, absolute: the current directory (``run``; ``args.allow_cwd``) and each
    ``--allow-path``; ``None`` for a command without them (the plugin then refuses every local path)."""
    if not hasattr(args, "allow_path"):
        return None
    roots = [os.getcwd()] if getattr(args, "allow_cwd", False) else []
    roots += [os.path.abspath(path) for path in args.allow_path or ()]
    return list(dict.fromkeys(roots))  # in order, each once


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The host settings given on the command line (or in the environment); unset ones are left to the plugin."""
    chosen: dict[str, Any] = {}
    url = base_url(args)
    if url is not None:
        chosen["base_url"] = url
    for name in ("timeout", "deadline", "max_retries", "rate_limit"):
        if getattr(args, name, None) is not None:
            chosen[name] = getattr(args, name)
    roots = file_roots(args)
    if roots:
        chosen["file_roots"] = roots
    if getattr(args, "allow_private_network", False):
        chosen["allow_private_network"] = True
    return chosen
