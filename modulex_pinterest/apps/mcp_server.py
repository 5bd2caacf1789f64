"""``modulex-pinterest mcp``: the plugin's actions as an MCP server over stdio.

Uses the official ``mcp`` package (the optional extra:
``pip install 'modulex-pinterest[mcp]'``) and its low-level server, so each
tool's ``inputSchema`` is exactly the action's input schema from the manifest
(see ``agent_tools``). A tool call runs the action through the host, in a
worker thread so the event loop keeps answering; the output comes back as
structured content plus the same JSON as text. When the action answers
``success: false`` the result has MCP's ``isError`` flag set and the plugin's
error text as its text content (the structured output is still attached).
When the client sends a ``progressToken`` (in the request's ``_meta``), each
progress event of the plugin (a page fetched, a wait) becomes an MCP progress
notification: ``progress`` counts the notifications (during an upload it counts
bytes, with a ``total``), ``message`` says what happened (``page 3: 750 items
so far``, ``uploading: 12.5 of 64.0 MB (19%)``, ``processing media 123: processing``).
A successful output with a daily series (the analytics actions) also comes back
as a chart, an MCP image content block (a PNG after the text), when the charts
extra is installed (``pip install 'modulex-pinterest[charts]'``); without it,
the text alone (see :mod:`.chart`).

Works with the ``mcp`` 2.x API (handlers passed to ``Server(...)``) and the
1.x one (decorators; 1.22 or newer, older releases do not import with current
pydantic). Standard output is the transport: nothing else is written there;
logs go to standard error.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import redirect_stdout
from typing import Any, NamedTuple, Protocol

from ..contract import Credentials, CredentialStore, Progress
from ..host.progress import UploadThrottle, progress_text
from . import chart
from .agent_tools import action_for_tool, tool_definitions

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'modulex-pinterest[mcp]'"


class MissingExtra(RuntimeError):
    """The optional 'mcp' package is not installed; the message says how to install it."""


class ToolHost(Protocol):
    """What the server uses of a host (:class:`~modulex_pinterest.host.Host`): the
    manifest, to list the tools, and ``run``, to call one."""

    def manifest(self, plugin: str) -> dict[str, Any]: ...

    def run(
        self,
        plugin: str,
        action: str,
        inputs: Any,
        credentials: Credentials | None = None,
        settings: dict[str, Any] | None = None,
        *,
        store: CredentialStore | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]: ...


class _Mcp(NamedTuple):
    """The parts of the optional ``mcp`` package (and its ``anyio``) this module uses.

    Typed ``Any`` on purpose: the 1.x and 2.x APIs differ (see the module
    docstring), this module speaks both, and a type checker sees only one.
    """

    anyio: Any
    types: Any
    Server: Any
    stdio_server: Any


ListTools = Callable[[], Awaitable[list[Any]]]
"""The server's tools/list handler: the ``mcp.types.Tool`` objects."""
CallTool = Callable[..., Awaitable[Any]]
"""The server's tools/call handler: tool name, arguments and (optional) a :data:`SendProgress`
to an ``mcp.types.CallToolResult``."""
SendProgress = Callable[[float, "float | None", str], Awaitable[None]]
"""Sends one progress notification for the request being answered: (progress, total or None, message)."""


def _import_mcp() -> _Mcp:
    try:
        import anyio
        import mcp.types as types
        from mcp.server.lowlevel import Server
        from mcp.server.stdio import stdio_server
    except ImportError as exc:
        raise MissingExtra(
            f"the MCP server needs the 'mcp' package, which is not importable ({exc}); install it with: {INSTALL_HINT}"
        ) from None
    return _Mcp(anyio, types, Server, stdio_server)


def _result(
    types: Any, output: Mapping[str, Any], image: bytes | None = None, words: Callable[[str], str] = str
) -> Any:
    """The MCP result of one action output, with ``image`` (a PNG: its chart) after the text;
    a failure's message said in ``words`` (the server's own: its flags for the plugin's settings)."""
    if output.get("success"):
        text = json.dumps(output, ensure_ascii=False)
        is_error = False
    else:
        text = words(output.get("error") or "The action failed without saying why.")
        output = dict(output, error=text)
        is_error = True
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    if image is not None:
        content.append({"type": "image", "data": base64.b64encode(image).decode("ascii"), "mimeType": "image/png"})
    return types.CallToolResult.model_validate(
        {
            "content": content,
            "structuredContent": output,
            "isError": is_error,
        }
    )


def _progress_token(meta: Any) -> Any:
    """The request's ``_meta.progressToken`` (a mapping in mcp 2.x, a model in 1.x), or ``None``."""
    if meta is None:
        return None
    if isinstance(meta, Mapping):
        return meta.get("progress_token", meta.get("progressToken"))
    return getattr(meta, "progressToken", None)


def progress_sender(session: Any, meta: Any, request_id: Any) -> SendProgress | None:
    """How to send this request's progress notifications, or ``None`` when the client asked for none."""
    token = _progress_token(meta)
    if token is None:
        return None
    if hasattr(session, "report_progress"):  # mcp 2.x: a session scoped to this request knows its token
        return lambda progress, total, message: session.report_progress(progress, total, message)
    related = None if request_id is None else str(request_id)
    return lambda progress, total, message: session.send_progress_notification(
        token, progress, total, message, related_request_id=related
    )


def _reporter(anyio: Any, send: SendProgress) -> Progress:
    """The host's ``progress`` callback, run in the worker thread: each event the
    plugin reports becomes one notification, sent from the event loop (upload events
    thinned as on the command line). ``progress`` only grows: it counts the
    notifications, except during an upload, where it is the bytes sent (after what
    was counted before) and ``total`` is where the upload ends."""
    last = 0.0
    base: float | None = None  # the progress before the upload's bytes
    throttle = UploadThrottle()

    def report(event: Mapping[str, Any]) -> None:
        nonlocal last, base
        text = progress_text(event)
        if text is None or not throttle.wanted(event):
            return
        total = None
        if event.get("event") == "upload" and isinstance(event.get("total"), int) and event["total"] > 0:
            base = last if base is None else base
            progress, total = base + float(event.get("bytes") or 0), base + float(event["total"])
        else:
            base, progress = None, last + 1
        last = progress
        anyio.from_thread.run(send, progress, total, text)

    return report


def _chart(action: str, output: Mapping[str, Any]) -> bytes | None:
    """The PNG chart of a successful output with a daily series; ``None`` for any other, or
    without the charts extra. Never fails the call: the text is the answer, the chart an aid."""
    if not (output.get("success") and isinstance(output.get("daily"), list)):
        return None
    try:
        return chart.draw(output, action, "png")
    except chart.MissingExtra:
        return None
    except Exception:
        log.exception("the chart of %s could not be drawn", action)
        return None


def _error(types: Any, text: str) -> Any:
    """A tool error the model can read and act on (MCP's ``isError``), not a protocol error."""
    return types.CallToolResult.model_validate({"content": [{"type": "text", "text": text}], "isError": True})


def _server(Server: Any, types: Any, manifest: dict[str, Any], list_tools: ListTools, call_tool: CallTool) -> Any:
    """The SDK's server object serving ``list_tools`` and ``call_tool``, for mcp 1.x or 2.x."""
    identity = {"version": str(manifest.get("version") or ""), "instructions": manifest.get("description")}
    if hasattr(Server, "call_tool"):  # mcp 1.x: handlers are registered with decorators
        server = Server(manifest["id"], **identity)
        server.list_tools()(list_tools)

        async def on_call_tool_1x(name: str, arguments: Mapping[str, Any] | None) -> Any:
            context = server.request_context
            send = progress_sender(context.session, context.meta, context.request_id)
            return await call_tool(name, arguments, send)

        # No input validation by the SDK: the action validates, and its error names the field and the rule.
        server.call_tool(validate_input=False)(on_call_tool_1x)
    else:  # mcp 2.x: handlers are passed to the constructor as (ctx, params) -> result

        async def on_list_tools(ctx: Any, params: Any) -> Any:
            return types.ListToolsResult(tools=await list_tools())

        async def on_call_tool(ctx: Any, params: Any) -> Any:
            send = progress_sender(ctx.session, ctx.meta, ctx.request_id)
            return await call_tool(params.name, params.arguments, send)

        server = Server(
            manifest["id"],
            title=manifest.get("name"),
            **identity,
            on_list_tools=on_list_tools,
            on_call_tool=on_call_tool,
        )
    return server


def build_server(
    host: ToolHost,
    plugin: str,
    credentials_provider: Callable[[], Credentials | None],
    settings: dict[str, Any],
    store: CredentialStore | None = None,
    words: Callable[[str], str] = str,
) -> tuple[Any, ListTools, CallTool]:
    """The MCP server (not yet running) and the functions it serves: (server, list_tools, call_tool).
    ``words``: how a failed action's message is said to the client (the plugin's words by default;
    ``modulex-pinterest mcp`` names its flags instead of the settings they set)."""
    anyio, types, Server, _ = _import_mcp()
    manifest = host.manifest(plugin)
    definitions = tool_definitions(manifest, "mcp")
    tools = [types.Tool.model_validate(definition) for definition in definitions]
    names = ", ".join(definition["name"] for definition in definitions)

    async def list_tools() -> list[Any]:
        return list(tools)

    async def call_tool(name: str, arguments: Mapping[str, Any] | None, send: SendProgress | None = None) -> Any:
        action = action_for_tool(manifest, name, "mcp")
        if action is None:
            return _error(types, f"Unknown tool {name!r}. The tools are: {names}.")
        progress = _reporter(anyio, send) if send is not None else None

        def run() -> tuple[dict[str, Any], bytes | None]:
            output = host.run(
                plugin, action, dict(arguments or {}), credentials_provider(), settings, store=store, progress=progress
            )
            return output, _chart(action, output)

        try:
            output, image = await anyio.to_thread.run_sync(run)
        except Exception as exc:  # host.run reports action failures in the output; this is a bug
            log.exception("tool %s failed unexpectedly", name)
            return _error(
                types, f"The {plugin} plugin failed unexpectedly ({type(exc).__name__}); see the MCP server's log."
            )
        return _result(types, output, image, words)

    return _server(Server, types, manifest, list_tools, call_tool), list_tools, call_tool


def serve(
    host: ToolHost,
    plugin: str,
    credentials_provider: Callable[[], Credentials | None],
    settings: dict[str, Any],
    store: CredentialStore | None = None,
    words: Callable[[str], str] = str,
) -> None:
    """Serve ``plugin``'s actions over stdio until standard input closes.

    ``credentials_provider()`` gives the credentials of each call; with a
    ``store`` (``--credentials``) it gives ``None`` and the host reads the
    store on every call, so rotated tokens are always the stored ones."""
    anyio, _, _, stdio_server = _import_mcp()
    server, _, _ = build_server(host, plugin, credentials_provider, settings, store, words)
    if store is None and not credentials_provider():
        print(
            "modulex-pinterest mcp: warning: no credentials (set PINTEREST_ACCESS_TOKEN or pass --credentials); "
            "tool calls will fail",
            file=sys.stderr,
            flush=True,
        )

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            # The transport holds the real standard output now; a stray print() anywhere goes to stderr.
            with redirect_stdout(sys.stderr):
                await server.run(read_stream, write_stream, server.create_initialization_options())

    try:
        anyio.run(main)
    except KeyboardInterrupt:
        pass
