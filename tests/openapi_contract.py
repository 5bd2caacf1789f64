"""Contract checks against Pinterest's own OpenAPI description (test-only helper).

Tests import this module as ``import openapi_contract`` (pytest puts ``tests/`` on
``sys.path``; there is deliberately no ``tests/__init__.py``).

The spec is *not* part of the project. It is read from the path in the
``MODULEX_PINTEREST_SPEC`` environment variable (a file, or a directory containing
``openapi.json``), else from ``../shared/pinterest-api/openapi.json`` beside the
checkout. :func:`load_contract` skips the calling test when it is absent.

Validation is done by ``openapi-core`` (0.23.x) over the raw spec; there is no
hand-written schema walker here.

What is checked
---------------
* The request's method and path must be one of the operations the plugin
  uses (:data:`IN_SCOPE`); anything else is a :class:`ContractError`.
* Request: path, query and header parameters (types, patterns, minimum/maximum,
  enums, required), undeclared query parameters (strict by default), and the
  request body against the declared media type (JSON for ``POST /pins``,
  ``application/x-www-form-urlencoded`` for ``POST /oauth/token``), including the
  body being present when the spec marks it required.
* Response: the status must be declared by the operation, or the operation must
  have a ``default`` response (the spec documents most error statuses only
  through ``default``); the body must match the media type and schema of that
  response (so ``{"code": <int>, "message": <str>}`` for errors). Declared
  response headers are checked too (the spec declares none for these operations).

What is not checked
-------------------
* Authentication / security requirements: the spec's schemes are OAuth2 flows and
  HTTP basic; openapi-core cannot meaningfully verify them and that is the
  plugin's own tests' job. Only parameters and bodies are validated (the security
  validator is not run).
* Semantics: pagination correctness, that a bookmark does not repeat, that IDs
  are ASCII digits without a trailing newline (``re.search`` semantics accept
  ``"12\\n"``), fields the spec does not mark required (e.g. ``board_id`` and
  ``media_source`` on ``POST /pins``), rate-limit headers.
* The sandbox's upload endpoint (``/media-uploads``, standing in for the S3
  bucket of ``POST /media``'s ``upload_url``): it is not in the spec, and the
  ``sandbox`` fixture checks only exchanges under ``/v5/``.
* The spec itself is not validated (it is the provider's; that would cost
  seconds for nothing).
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

SPEC_ENV = "MODULEX_PINTEREST_SPEC"
SPEC_FILENAME = "openapi.json"
SPEC_HOST = "https://api.pinterest.com"
SPEC_PREFIX = "/v5"

#: (method, spec path template) -> operationId, the only operations the plugin uses.
IN_SCOPE: dict[tuple[str, str], str] = {
    ("GET", "/boards"): "boards/list",
    ("GET", "/boards/{board_id}/sections"): "board_sections/list",
    ("POST", "/pins"): "pins/create",
    ("GET", "/boards/{board_id}/pins"): "boards/list_pins",
    ("GET", "/boards/{board_id}/sections/{section_id}/pins"): "board_sections/list_pins",
    ("GET", "/user_account"): "user_account/get",
    ("GET", "/pins"): "pins/list",
    ("GET", "/search/pins"): "search_user_pins/list",
    ("GET", "/search/boards"): "search_user_boards/get",
    ("POST", "/oauth/token"): "oauth/token",
    ("POST", "/media"): "media/create",
    ("GET", "/media"): "media/list",
    ("GET", "/media/{media_id}"): "media/get",
    ("POST", "/boards"): "boards/create",
    ("GET", "/boards/{board_id}"): "boards/get",
    ("PATCH", "/boards/{board_id}"): "boards/update",
    ("DELETE", "/boards/{board_id}"): "boards/delete",
    ("POST", "/boards/{board_id}/sections"): "board_sections/create",
    ("GET", "/pins/{pin_id}"): "pins/get",
    ("PATCH", "/pins/{pin_id}"): "pins/update",
    ("DELETE", "/pins/{pin_id}"): "pins/delete",
    ("POST", "/pins/{pin_id}/save"): "pins/save",
    ("GET", "/user_account/analytics"): "user_account/analytics",
    ("GET", "/user_account/analytics/top_pins"): "user_account/analytics/top_pins",
    ("GET", "/pins/{pin_id}/analytics"): "pins/analytics",
    ("GET", "/pins/analytics"): "multi_pins/analytics",
}
IN_SCOPE_IDS = frozenset(IN_SCOPE.values())

_SECRET_KEYS = ("access_token", "refresh_token", "code", "client_secret", "password")
_MAX_ERRORS = 20


def _default_spec_path() -> pathlib.Path:
    # <repo>/tests/openapi_contract.py -> <repo>/../shared/pinterest-api/openapi.json
    here = pathlib.Path(__file__).resolve().parent
    return (here.parent.parent / "shared" / "pinterest-api" / SPEC_FILENAME).resolve()


def _candidate_spec_path() -> pathlib.Path:
    """Where the spec is looked for (whether or not it exists)."""
    env = os.environ.get(SPEC_ENV, "").strip()
    if env:
        p = pathlib.Path(env).expanduser()
        if p.is_dir():
            p = p / SPEC_FILENAME
        return p
    return _default_spec_path()


def spec_path() -> pathlib.Path | None:
    """Path of the spec: ``$MODULEX_PINTEREST_SPEC`` (file or directory), else the
    default beside the checkout. ``None`` when that file does not exist (an env var
    pointing at a missing file does not fall back to the default)."""
    p = _candidate_spec_path()
    return p if p.is_file() else None


def missing_spec_reason() -> str:
    """The skip reason used when the spec is absent."""
    env = os.environ.get(SPEC_ENV, "").strip()
    where = (
        f"{SPEC_ENV}={env!r} (resolved to {_candidate_spec_path()})"
        if env
        else f"{SPEC_ENV} is not set and the default {_default_spec_path()} is missing"
    )
    return (
        f"Pinterest OpenAPI spec not found: {where}. Set {SPEC_ENV} to the path of "
        f"Pinterest's v5 {SPEC_FILENAME} (or a directory containing it) to run contract tests."
    )


class ContractError(AssertionError):
    """A request or response that does not match Pinterest's OpenAPI description."""

    def __init__(self, summary: str, errors: Iterable[str] = ()):
        self.summary = summary
        self.errors = list(dict.fromkeys(errors))  # drop duplicates, keep order
        text = summary
        if self.errors:
            text += "\n" + "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(text)


# --------------------------------------------------------------------------- helpers


def _header_items(headers: Any) -> list[tuple[str, str]]:
    if not headers:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    out = []
    for k, v in items:
        if isinstance(v, (list, tuple)):
            out.extend((str(k), str(x)) for x in v)
        else:
            out.append((str(k), str(v)))
    return out


def _header_get(items: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    for k, v in items:
        if k.lower() == name:
            return v
    return None


def _query_items(query: Any) -> list[tuple[str, str]]:
    """Accepts a raw query string, a mapping (values str or lists) or pairs."""
    if query is None or query == "":
        return []
    if isinstance(query, bytes):
        query = query.decode("utf-8")
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if hasattr(query, "lists"):  # werkzeug MultiDict
        return [(str(k), str(x)) for k, vs in query.lists() for x in vs]
    items = query.items() if hasattr(query, "items") else query
    out = []
    for k, v in items:
        if isinstance(v, (list, tuple)):
            out.extend((str(k), _scalar(x)) for x in v)
        else:
            out.append((str(k), _scalar(v)))
    return out


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _mimetype(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _encode_body(body: Any, content_type: str) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if _mimetype(content_type) == "application/x-www-form-urlencoded":
        return urlencode(_query_items(body)).encode("ascii")
    return json.dumps(body).encode("utf-8")


def _secrets(*values: Any) -> set[str]:
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, Mapping):
            for k, x in v.items():
                if str(k).lower() in _SECRET_KEYS and isinstance(x, str) and len(x) >= 4:
                    found.add(x)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for v in values:
        if isinstance(v, (bytes, bytearray)):
            v = bytes(v).decode("utf-8", "replace")
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                v = dict(parse_qsl(v, keep_blank_values=True))
        walk(v)
    return found


def _redact(text: str, secrets: set[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, "***")
    return text


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _schema_error_lines(schema_errors: Iterable[Any]) -> list[str]:
    lines = []
    for se in list(schema_errors)[:_MAX_ERRORS]:
        where = "/".join(str(p) for p in se.absolute_path) or "(root)"
        lines.append(f"{where}: {_short(se.message)}")
        for sub in list(se.context or [])[:5]:
            subwhere = "/".join(str(p) for p in sub.absolute_path) or "(root)"
            lines.append(f"    {subwhere}: {_short(sub.message)}")
    return lines


def _describe(exc: BaseException) -> list[str]:
    """Flatten an openapi-core exception (its cause chain and jsonschema errors)
    into short lines; never dumps a whole body."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 8 and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    lines: list[str] = []
    for e in chain:
        text = str(e)
        if " not valid for schema" in text:
            # "...: Value {whole body} not valid for schema ..." -> keep the prefix only
            text = text.split("Value ", 1)[0].rstrip(" :") or "value not valid for its schema"
        if text.startswith(f"{type(e).__name__}: "):
            text = text[len(type(e).__name__) + 2 :]
        schema_errors = getattr(e, "schema_errors", None)
        if schema_errors:
            lines.extend(_schema_error_lines(schema_errors))
            break
        if text == type(e).__name__:
            text = "body does not match its schema"
        if not lines or text not in lines[-1]:
            lines.append(f"{type(e).__name__}: {_short(text)}")
    return lines


class _Request:
    """Implements openapi-core's ``Request`` protocol for a captured request."""

    def __init__(self, method: str, path: str, query: list, headers: list, body: bytes, content_type: str):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = SPEC_HOST
        self.path = path
        self.method = method.lower()
        self.body = body
        self.content_type = content_type
        self.parameters = RequestParameters(
            path={},
            query=ImmutableMultiDict(query),
            header=Headers(headers),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, status: int, headers: list, data: bytes, content_type: str):
        from werkzeug.datastructures import Headers

        self.status_code = int(status)
        self.headers = Headers(headers)
        self.data = data
        self.content_type = content_type


# --------------------------------------------------------------------------- contract


class _MemoizedPathFinder:
    """An openapi-core path finder whose answers are remembered (failures are not)."""

    def __init__(self, finder: Any):
        self.find = functools.lru_cache(maxsize=4096)(finder.find)


class Contract:
    """openapi-core validators for Pinterest's spec, built once.

    ``strict_query``: also reject query parameters the operation does not declare.
    ``discriminators``: also validate a body against the schema its
    discriminator selects where openapi-core ignores it (the oauth/token
    request's ``grant_type`` and response's ``response_type``).
    """

    def __init__(self, spec_dict: Mapping[str, Any], *, strict_query: bool = True, discriminators: bool = True):
        from jsonschema_path import SchemaPath
        from openapi_core.templating.paths.finders import APICallPathFinder
        from openapi_core.validation.request.validators import (
            V30RequestBodyValidator,
            V30RequestParametersValidator,
        )
        from openapi_core.validation.response.validators import V30ResponseValidator

        version = str(spec_dict.get("openapi", ""))
        if not version.startswith("3.0"):
            raise ValueError(f"expected an OpenAPI 3.0.x document, got openapi={version!r}")
        self.spec_dict = spec_dict
        self.strict_query = strict_query
        self.discriminators = discriminators
        self._spec = SchemaPath.from_dict(dict(spec_dict))
        # Parameters and body validators only: the security validator is not run
        # (see the module docstring). The spec itself is not validated.
        self._params = V30RequestParametersValidator(self._spec)
        self._body = V30RequestBodyValidator(self._spec)
        self._response = V30ResponseValidator(self._spec)
        # Finding a request's operation walks every path of the spec (~1 ms), and each
        # validator finds it again: one memoized finder for all of them (the spec is fixed).
        self._finder = _MemoizedPathFinder(APICallPathFinder(self._spec))
        for validator in (self._params, self._body, self._response):
            validator.path_finder = self._finder  # replaces openapi-core's cached_property
        self._declared_query: dict[str, frozenset[str]] = {}
        self._operations: dict[str, Mapping[str, Any]] = {}
        for (method, template), op_id in IN_SCOPE.items():
            path_item = spec_dict["paths"][template]
            op = path_item[method.lower()]
            self._operations[op_id] = op
            if op.get("operationId") != op_id:
                raise ValueError(f"spec's {method} {template} is {op.get('operationId')!r}, expected {op_id!r}")
            names = set()
            for p in list(path_item.get("parameters", [])) + list(op.get("parameters", [])):
                p = self._deref(p)
                if p.get("in") == "query":
                    names.add(p["name"])
            self._declared_query[op_id] = frozenset(names)

    def _deref(self, node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"external $ref not supported: {ref}")
            node = self.spec_dict
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _discriminator_errors(self, schema: Any, body: bytes, mimetype: str, write: bool) -> list[str]:
        """openapi-core ignores a ``discriminator`` that has no ``oneOf``/``anyOf``
        beside it; the token request/response schemas use exactly that
        (``grant_type`` -> OauthAccessTokenRequestCode/Refresh, ``response_type``
        -> OauthAccessTokenResponse*). Validate the body against the mapped
        schema too, with openapi-core's own OAS 3.0 schema validator."""
        from openapi_core.validation.schemas import (
            oas30_read_schema_validators_factory,
            oas30_write_schema_validators_factory,
        )
        from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

        node = self._deref(schema) if schema is not None else None
        if not self.discriminators or not isinstance(node, Mapping) or "discriminator" not in node:
            return []
        if "oneOf" in node or "anyOf" in node:
            return []  # openapi-core handles these itself
        try:
            if mimetype == "application/x-www-form-urlencoded":
                value: Any = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            else:
                value = json.loads(body)
        except ValueError:
            return []  # already reported by openapi-core
        disc = node["discriminator"]
        prop = disc.get("propertyName")
        if not isinstance(value, dict) or prop not in value:
            return []
        target = (disc.get("mapping") or {}).get(value[prop])
        if not isinstance(target, str) or not target.startswith("#/components/schemas/"):
            return []
        target_path = self._spec / "components" / "schemas" / target.rsplit("/", 1)[-1]
        factory = oas30_write_schema_validators_factory if write else oas30_read_schema_validators_factory
        try:
            factory.create(self._spec, target_path).validate(value)
        except InvalidSchemaValue as exc:
            return [f"{prop}={value[prop]!r} selects {target.rsplit('/', 1)[-1]} (discriminator):"] + [
                "  " + line for line in _schema_error_lines(exc.schema_errors)
            ]
        return []

    # ---------------------------------------------------------------- lookup
    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        """Loopback path (possibly with a query or full URL) -> (path, query)."""
        parts = urlsplit(path)
        return parts.path or "/", parts.query

    def operation_id(self, method: str, path: str) -> str | None:
        """operationId of the spec operation matching a loopback path such as
        ``/v5/boards/1/pins`` (any spec operation, not only in-scope ones)."""
        from openapi_core.templating.paths.exceptions import PathError

        p, _ = self._split(path)
        try:
            found = self._finder.find(method.lower(), SPEC_HOST + p)
        except PathError:
            return None
        template = found.path_result.pattern
        op = (self.spec_dict["paths"].get(template) or {}).get(method.lower()) or {}
        op_id = op.get("operationId")
        return op_id

    def _in_scope(self, method: str, path: str) -> str:
        op_id = self.operation_id(method, path)
        if op_id not in IN_SCOPE_IDS:
            known = f" (the spec's {op_id})" if op_id else " (no such operation in the spec)"
            raise ContractError(
                f"{method.upper()} {path}: not an operation the plugin uses{known}; "
                f"paths must be the spec's paths under {SPEC_PREFIX}/, e.g. {SPEC_PREFIX}/boards"
            )
        return op_id

    def _build_request(self, method, path, query, headers, body, op_id) -> tuple[_Request, str, list, list, bool]:
        """-> (request, path, query pairs, header pairs, content type was inferred)."""
        p, path_query = self._split(path)
        q = _query_items(query) if query not in (None, "", {}, []) else _query_items(path_query)
        h = _header_items(headers)
        ct = _header_get(h, "Content-Type")
        inferred = False
        if ct is None and isinstance(body, (Mapping, list)):
            # hand-made sample: a dict body with no headers, encode as the spec declares
            declared = list(((self._operations[op_id].get("requestBody") or {}).get("content") or {}).keys())
            ct = declared[0] if declared else "application/json"
            inferred = True
        raw = _encode_body(body, ct or "")
        req = _Request(method, p, q, h, raw, (ct or "application/json").lower())
        return req, p, q, h, inferred

    # ---------------------------------------------------------------- checks
    def check_request(self, method: str, path: str, query: Any, headers: Any, body: Any) -> None:
        """Validate a request the plugin sent (as captured at a loopback server).

        ``path`` is the path as seen by the server, e.g. ``/v5/boards/1/pins``;
        ``query`` a query string, mapping or pairs; ``headers`` a mapping or pairs;
        ``body`` bytes/str as sent, or a dict (encoded per Content-Type)."""
        op_id = self._in_scope(method, path)
        req, p, q, h, inferred = self._build_request(method, path, query, headers, body, op_id)
        label = f"{method.upper()} {p} ({op_id}) request"
        secrets = _secrets(body) | {v.split(" ", 1)[-1] for k, v in h if k.lower() == "authorization"}
        errors: list[str] = []
        if req.body and not inferred and _header_get(h, "Content-Type") is None:
            errors.append("request has a body but no Content-Type header")
        for exc in self._params.iter_errors(req):
            errors.extend(_describe(exc))
        body_errors = [e for e in self._body.iter_errors(req) if type(e).__name__ != "MissingRequestBody"]
        for exc in body_errors:
            errors.extend(_describe(exc))
        if req.body and not body_errors:
            content = (self._operations[op_id].get("requestBody") or {}).get("content") or {}
            mt = _mimetype(req.content_type)
            errors.extend(self._discriminator_errors((content.get(mt) or {}).get("schema"), req.body, mt, write=True))
        if self.strict_query:
            declared = self._declared_query[op_id]
            for name in sorted({k for k, _ in q} - declared):
                listed = ", ".join(sorted(declared)) or "none"
                errors.append(f"query parameter {name!r} is not declared by {op_id} (declared: {listed})")
        if errors:
            raise ContractError(label + " does not match the spec:", [_redact(e, secrets) for e in errors])

    def check_response(
        self,
        method: str,
        path: str,
        query: Any,
        headers: Any,
        body: Any,
        status: int | None,
        response_headers: Any,
        response_body: Any,
    ) -> None:
        """Validate a response against the operation's declared response for
        ``status``, or its ``default`` response. The request itself is not
        validated here (use :meth:`check_request`)."""
        op_id = self._in_scope(method, path)
        req, p, _, _, _ = self._build_request(method, path, query, headers, body, op_id)
        label = f"{method.upper()} {p} ({op_id}) -> {status} response"
        if status is None:
            raise ContractError(label + ": no status (the exchange has no response)")
        rh = _header_items(response_headers)
        ct = _header_get(rh, "Content-Type")
        errors: list[str] = []
        if ct is None:
            if isinstance(response_body, (Mapping, list)):
                ct = "application/json"
            elif response_body not in (None, b"", ""):
                errors.append("response has a body but no Content-Type header")
                ct = "application/octet-stream"
            else:
                ct = "application/json"
        raw = _encode_body(response_body, ct)
        resp = _Response(status, rh, raw, ct.lower())
        secrets = _secrets(body, response_body)
        resp_errors = list(self._response.iter_errors(req, resp))
        for exc in resp_errors:
            errors.extend(_describe(exc))
        if raw and not resp_errors:
            responses = self._operations[op_id].get("responses") or {}
            declared = self._deref(responses.get(str(status)) or responses.get("default") or {})
            mt = _mimetype(ct)
            schema = ((declared.get("content") or {}).get(mt) or {}).get("schema")
            errors.extend(self._discriminator_errors(schema, raw, mt, write=False))
        if errors:
            raise ContractError(label + " does not match the spec:", [_redact(e, secrets) for e in errors])

    def check_exchange(self, exchange: Any) -> None:
        """Check a recorded exchange (duck-typed: ``method path query headers body
        status response_headers response_body fault``): the request always, the
        response unless ``fault`` is set or ``status`` is None."""
        self.check_request(exchange.method, exchange.path, exchange.query, exchange.headers, exchange.body)
        self.check_exchange_response(exchange)

    def check_exchange_response(self, exchange: Any) -> None:
        """Check only the response of a recorded exchange (for requests made
        invalid on purpose); no-op when there is no response."""
        if getattr(exchange, "fault", None) is not None or exchange.status is None:
            return
        self.check_response(
            exchange.method,
            exchange.path,
            exchange.query,
            exchange.headers,
            exchange.body,
            exchange.status,
            exchange.response_headers,
            exchange.response_body,
        )


def _overlapping_enums_as_any_of(spec: dict[str, Any]) -> dict[str, Any]:
    """One defect of the spec, mended: the pin analytics operations' ``metric_types`` items
    are ``oneOf`` two enums (standard and video metrics) that share IMPRESSION, SAVE,
    PIN_CLICK, OUTBOUND_CLICK, SAVE_RATE and the comment counts, so a strict ``oneOf`` refuses
    every common metric, which Pinterest takes. Read as ``anyOf``: in either list. Only a
    ``oneOf`` whose branches are all enums of strings is changed."""
    for path in ("/pins/{pin_id}/analytics", "/pins/analytics"):
        for param in spec["paths"][path]["get"]["parameters"]:
            if "$ref" in param:
                param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[-1]]
            items = param.get("schema", {}).get("items", {})
            branches = items.get("oneOf", [])
            if branches and all(b.get("type") == "string" and "enum" in b for b in branches):
                items["anyOf"] = items.pop("oneOf")
    return spec


@functools.cache
def _load(path: str, mtime_ns: int) -> Contract:
    with open(path, "rb") as fh:
        return Contract(_overlapping_enums_as_any_of(json.load(fh)))


def load_contract() -> Contract:
    """The :class:`Contract` for the spec at :func:`spec_path`, cached per process;
    skips the calling test (``pytest.skip``) when the spec is absent."""
    p = spec_path()
    if p is None:
        import pytest

        pytest.skip(missing_spec_reason())
    p = p.resolve()
    return _load(str(p), p.stat().st_mtime_ns)
