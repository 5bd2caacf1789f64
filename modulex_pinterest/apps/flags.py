"""What the command line's flags (and the environment) make of a call: the
inputs (``--input``) and the host settings: those plugin.yaml declares for the
command line (``--base-url``, ``--timeout``, ...: :func:`declared_settings`),
and the media actions' ``--allow-path`` and ``--allow-private-network``.
A mistake in them is a :class:`~.output.UsageError`."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..host.statefile import refuse_constant
from .help import BASE_URL_ENV
from .output import UsageError

BOM = "\ufeff"


MEDIA_FLAGS = {"file_roots": "--allow-path", "allow_private_network": "--allow-private-network"}
"""The media actions' two settings, whose flags are not their names (``--allow-path`` adds a directory
to ``file_roots``)."""


def flag(setting: str) -> str:
    """A declared setting's flag, as the parser adds it: ``max_retries`` is ``--max-retries``."""
    return MEDIA_FLAGS.get(setting, "--" + setting.replace("_", "-"))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``": did you mean list_boards?"``: the nearest of ``choices`` to a misspelt ``word``
    (:func:`difflib.get_close_matches`), or ``""`` when none is close."""
    close = nearest(word, choices)
    return f": did you mean {close}?" if close else ""


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The one of ``choices`` nearest to a misspelt ``word``, or ``None`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def read_input(text: str | None) -> Any:
    """``--input`` as JSON text, ``@file.json`` or ``-`` for standard input; a leading UTF-8 BOM is ignored."""
    if text is None:
        return {}
    given = text
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
        raise UsageError(f"input is not valid JSON: {exc}{_file_hint(given)}") from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise UsageError("input is not usable: it is nested too deeply") from None


def _file_hint(given: str) -> str:
    """``--input in.json`` where a file ``in.json`` exists: the ``@`` it lacks."""
    if given.startswith(("@", "-")) or not os.path.isfile(given):
        return ""
    return f"; {given} is a file: did you mean --input @{given}?"


def check_fields(inputs: Any, schema: Mapping[str, Any], name: str) -> None:
    """An ``--input`` object's fields that ``name``'s ``schema`` (an action's or a trigger's
    ``input_schema``) does not have, when it allows no others: a usage error naming the first,
    with the nearest field the schema has. The plugin checks everything else."""
    fields = schema.get("properties") or {}
    if not isinstance(inputs, dict) or schema.get("additionalProperties", True) is not False:
        return
    for field in inputs:
        if field not in fields:
            raise UsageError(
                f"--input: {name} has no field {field!r}{did_you_mean(field, fields)} "
                f"(its fields: {', '.join(fields) or 'none'}; see modulex-pinterest describe {name})"
            )


def is_destructive(manifest: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether an action destroys something: its request's method is ``destructive`` in the
    manifest's ``request_semantics`` (``DELETE``), so no list of actions is kept here."""
    method = str((entry.get("request") or {}).get("method", "")).upper()
    return bool(((manifest.get("request_semantics") or {}).get(method) or {}).get("destructive"))


def destructive_actions(manifest: Mapping[str, Any]) -> list[str]:
    """The names of the manifest's actions that destroy something (:func:`is_destructive`)."""
    return [entry["name"] for entry in manifest.get("actions") or () if is_destructive(manifest, entry)]


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


def settings(args: argparse.Namespace, declared: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The host settings given on the command line (or in the environment): the ``declared`` ones
    (:func:`declared_settings` for ``"cli"``), then the media actions' own; unset ones are left to the plugin."""
    chosen: dict[str, Any] = {}
    for entry in declared:
        name = entry["name"]
        value = base_url(args) if name == "base_url" else getattr(args, name, None)
        if value is not None:
            chosen[name] = value
    roots = file_roots(args)
    if roots:
        chosen["file_roots"] = roots
    if getattr(args, "allow_private_network", False):
        chosen["allow_private_network"] = True
    return chosen
