"""``modulex-pinterest mcp`` as an agent uses it: the installed console script,
spoken to by the ``mcp`` package's own client over a real stdio session, with
the embedded sandbox standing in for Pinterest.

Results are compared in their wire form (``model_dump(by_alias=True)``:
``isError``, ``structuredContent``, ``inputSchema``), which reads the same with
the ``mcp`` 1.x and 2.x clients.
"""

import contextlib
import json
import os
import subprocess
import sys
import threading

import anyio
import pytest
from anyio.from_thread import start_blocking_portal
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from conftest import ACTIONS
from modulex_pinterest.sandbox import Sandbox
from test_cli import CLI


def wire(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def text_of(result):
    return "\n".join(block["text"] for block in result.get("content", []) if block.get("type") == "text")


def server_env(token):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    env["PINTEREST_ACCESS_TOKEN"] = token
    return env


class McpSession:
    """A live MCP client session with ``modulex-pinterest mcp``, driven from synchronous
    tests through an anyio portal (the session's tasks stay in the portal's event loop).
    Each call gives the wire form of the result; ``init`` is initialize()'s."""

    def __init__(self, portal, session):
        self._portal, self._session = portal, session
        self.init = None

    def _call(self, method, *args, **kwargs):
        async def bounded():
            with anyio.fail_after(30):
                return await method(*args, **kwargs)

        return wire(self._portal.call(bounded))

    def initialize(self):
        self.init = self._call(self._session.initialize)
        return self.init

    def list_tools(self):
        return self._call(self._session.list_tools)["tools"]

    def call_tool(self, name, arguments, progress_callback=None):
        """The tool's result; ``progress_callback(progress, total, message)`` (async) asks for progress."""
        if progress_callback is None:
            return self._call(self._session.call_tool, name, arguments)
        return self._call(self._session.call_tool, name, arguments, progress_callback=progress_callback)


@contextlib.contextmanager
def mcp_session(base_url, token, tmp_path):
    """``modulex-pinterest mcp`` with ``token`` in its environment, and a client session with it
    (not yet initialized). Afterwards the server's stderr must not hold the token."""
    params = StdioServerParameters(
        command=CLI, args=["mcp", "--base-url", base_url], env=server_env(token), cwd=str(tmp_path)
    )
    stderr_path = tmp_path / "mcp-server.stderr"

    @contextlib.asynccontextmanager
    async def connected(errlog):
        async with stdio_client(params, errlog=errlog) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream) as session:
                yield session

    try:
        with open(stderr_path, "w") as errlog, start_blocking_portal() as portal:
            with portal.wrap_async_context_manager(connected(errlog)) as session:
                yield McpSession(portal, session)
    finally:
        stderr = stderr_path.read_text() if stderr_path.exists() else ""
        sys.stderr.write(stderr)  # shown by pytest when a test fails
    assert token not in stderr


@pytest.fixture(scope="module")
def mcp_sandbox(contract):
    """One sandbox for the module's shared MCP session; afterwards every request
    it received and answer it gave must match Pinterest's OpenAPI description."""
    with Sandbox() as sandbox:
        yield sandbox
        exchanges = sandbox.exchanges
    if contract is not None:
        for exchange in exchanges:
            contract.check_exchange(exchange)


@pytest.fixture(scope="module")
def mcp(mcp_sandbox, tmp_path_factory):
    """One initialized MCP session with ``modulex-pinterest mcp`` against ``mcp_sandbox``,
    shared by the tests below (starting the server is most of their cost)."""
    with mcp_session(mcp_sandbox.base_url, mcp_sandbox.access_token, tmp_path_factory.mktemp("mcp")) as session:
        session.initialize()
        yield session


@pytest.fixture
def sent(mcp_sandbox):
    """sent(): the exchanges the sandbox has recorded since the test started."""
    before = len(mcp_sandbox.exchanges)
    return lambda: mcp_sandbox.exchanges[before:]


def test_initialize_names_the_server_its_version_and_tools(mcp, host):
    assert mcp.init["serverInfo"]["name"] == "pinterest"
    assert mcp.init["serverInfo"]["version"] == host.manifest("pinterest")["version"]
    assert "tools" in mcp.init["capabilities"]


def test_the_tools_are_the_four_actions_with_the_manifests_schemas(mcp, host):
    tools = {tool["name"]: tool for tool in mcp.list_tools()}
    assert list(tools) == ACTIONS
    for entry in host.manifest("pinterest")["actions"]:
        tool = tools[entry["name"]]
        assert tool["inputSchema"] == {k: v for k, v in entry["input_schema"].items() if k != "$schema"}
        assert tool["outputSchema"] == {k: v for k, v in entry["output_schema"].items() if k != "$schema"}
        assert tool["title"] == entry["title"]
        assert tool["annotations"]["readOnlyHint"] is (entry["request"]["method"] == "GET")


def test_list_boards_answers_structured_content_and_the_same_json_as_text(mcp, mcp_sandbox):
    boards = mcp.call_tool("list_boards", {"page_size": 2})
    assert boards.get("isError") is not True, text_of(boards)
    assert boards["structuredContent"]["success"] is True
    assert boards["structuredContent"]["count"] == 2
    assert [b["id"] for b in boards["structuredContent"]["boards"]] == [b["id"] for b in mcp_sandbox.boards[:2]]
    assert json.loads(text_of(boards)) == boards["structuredContent"]


def test_get_board_sections_lists_the_boards_sections(mcp, mcp_sandbox):
    board_id = mcp_sandbox.boards[0]["id"]
    sections = mcp.call_tool("get_board_sections", {"board_id": board_id})
    assert sections.get("isError") is not True, text_of(sections)
    assert [s["id"] for s in sections["structuredContent"]["sections"]] == [
        s["id"] for s in mcp_sandbox.sections(board_id)
    ]


def test_create_pin_creates_one_pin_that_list_pins_then_shows_first(mcp, mcp_sandbox, sent):
    board_id = mcp_sandbox.boards[0]["id"]
    created = mcp.call_tool(
        "create_pin",
        {
            "board_id": board_id,
            "title": "Made by an agent",
            "media_url": "https://images.example.com/a.jpg",
            "description": "Through MCP",
        },
    )
    assert created.get("isError") is not True, text_of(created)
    pin = created["structuredContent"]
    assert pin["success"] is True and pin["title"] == "Made by an agent" and pin["board_id"] == board_id
    (post,) = sent()
    assert (post.method, post.path, post.status) == ("POST", "/v5/pins", 201)
    assert json.loads(post.body)["title"] == "Made by an agent"
    pins = mcp.call_tool("list_pins", {"board_id": board_id})
    assert pins.get("isError") is not True, text_of(pins)
    assert pins["structuredContent"]["pins"][0]["id"] == pin["id"]


def test_an_invalid_board_id_is_a_tool_error_and_nothing_is_sent(mcp, sent):
    bad_id = mcp.call_tool(
        "create_pin", {"board_id": "abc", "title": "x", "media_url": "https://images.example.com/a.jpg"}
    )
    assert bad_id["isError"] is True
    assert text_of(bad_id).startswith("Invalid input: 'board_id'")
    assert bad_id["structuredContent"]["success"] is False
    assert bad_id["structuredContent"]["error"] == text_of(bad_id)
    assert sent() == []


def test_a_missing_board_is_a_tool_error_naming_it(mcp, sent):
    missing = mcp.call_tool("get_board_sections", {"board_id": "999"})
    assert missing["isError"] is True and "Board 999 not found" in text_of(missing)
    assert missing["structuredContent"]["success"] is False
    assert [(e.path, e.status) for e in sent()] == [("/v5/boards/999/sections", 404)]


def test_a_client_that_asks_for_progress_gets_a_notification_per_page(mcp, wait_until):
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total, message))

    boards = mcp.call_tool("list_boards", {"page_size": 1, "fetch_all": True}, progress_callback=on_progress)
    assert boards.get("isError") is not True and boards["structuredContent"]["count"] == 4
    wait_until(lambda: len(seen) >= 4)
    assert seen == [(float(n), None, f"page {n}: {n} item{'s' if n > 1 else ''} so far") for n in range(1, 5)]


def test_an_unknown_tool_is_an_error_naming_the_tools_there_are(mcp, mcp_sandbox, sent):
    unknown = mcp.call_tool("archive_board", {"board_id": mcp_sandbox.boards[0]["id"]})
    assert unknown["isError"] is True and "archive_board" in text_of(unknown)
    assert "list_boards" in text_of(unknown)
    assert sent() == []


def test_an_authentication_failure_is_a_tool_error_without_the_token(sandbox, tmp_path):
    with mcp_session(sandbox.base_url, "pina_not-a-valid-token", tmp_path) as session:
        session.initialize()
        result = session.call_tool("list_boards", {})
    assert result["isError"] is True and text_of(result).startswith("Authentication failed")
    assert "pina_not-a-valid-token" not in json.dumps(result)


def test_mcp_without_the_mcp_package_exits_2_with_the_install_hint(tmp_path):
    # `import mcp` fails as it would without the extra installed.
    code = "import sys; sys.modules['mcp'] = None; from modulex_pinterest.apps.cli import main; sys.exit(main(['mcp']))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "pip install 'modulex-pinterest[mcp]'" in result.stderr
    assert result.stdout == ""


# A host whose runs print to stdout, as careless plugin code might.
NOISY_SERVER = """
import os, sys
from modulex_pinterest.host import Host
from modulex_pinterest.apps.mcp_server import serve

class NoisyHost(Host):
    def run(self, *args, **kwargs):
        print("noise from print()")
        return super().run(*args, **kwargs)

serve(NoisyHost(), "pinterest", lambda: {"access_token": os.environ["PINTEREST_ACCESS_TOKEN"]},
      {"base_url": sys.argv[1]})
"""


@pytest.mark.parametrize("server", ["cli", "noisy"])
def test_stdout_carries_only_the_protocol_and_the_server_ends_with_stdin(server, sandbox, tmp_path):
    """Raw JSON-RPC over the pipes: every stdout line is a protocol message, with hook tracing on (cli)
    or with a host that print()s while tools run (noisy)."""
    env = dict(server_env(sandbox.access_token), MODULEX_TRACE_HOOKS="1")
    if server == "cli":
        command = [CLI, "mcp", "--base-url", sandbox.base_url]
    else:
        command = [sys.executable, "-c", NOISY_SERVER, sandbox.base_url]
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:

        def request(id_, method, params):
            proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}) + "\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        init = request(
            1,
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw-test", "version": "0"}},
        )
        assert init["id"] == 1 and init["result"]["serverInfo"]["name"] == "pinterest"
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        listed = request(2, "tools/list", {})
        assert [t["name"] for t in listed["result"]["tools"]] == ACTIONS
        called = request(3, "tools/call", {"name": "list_boards", "arguments": {"page_size": 1}})
        assert called["id"] == 3 and called["result"]["structuredContent"]["count"] == 1
        assert called["result"].get("isError") is False
        # With a progressToken: one notification per page, each before the result.
        notified = [
            request(
                4,
                "tools/call",
                {
                    "name": "list_boards",
                    "_meta": {"progressToken": "pages-1"},
                    "arguments": {"page_size": 2, "fetch_all": True},
                },
            )
        ]
        while "id" not in notified[-1]:
            notified.append(json.loads(proc.stdout.readline()))
        *progress, answer = notified
        assert answer["id"] == 4 and answer["result"]["structuredContent"]["count"] == 4
        assert [
            (n["method"], n["params"]["progressToken"], n["params"]["progress"], n["params"]["message"])
            for n in progress
        ] == [
            ("notifications/progress", "pages-1", 1, "page 1: 2 items so far"),
            ("notifications/progress", "pages-1", 2, "page 2: 4 items so far"),
        ]
        proc.stdin.close()
        rest, stderr = proc.stdout.read(), proc.stderr.read()
        assert proc.wait(timeout=20) == 0, stderr
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in rest.splitlines() if line.strip())
    assert "[modulex] call modulex_execute_action" in stderr  # the trace went to stderr, not the wire
    if server == "noisy":
        assert "noise from print()" in stderr
    assert sandbox.access_token not in stderr


def test_a_host_crash_is_a_tool_error_that_shows_no_exception_text(host):
    from modulex_pinterest.apps.mcp_server import build_server

    class CrashingHost:
        def manifest(self, plugin):
            return host.manifest(plugin)

        def run(self, *args, **kwargs):
            raise RuntimeError("pina_secret-in-a-message")

    _, list_tools, call_tool = build_server(CrashingHost(), "pinterest", lambda: {}, {})
    listed = anyio.run(list_tools)
    assert [wire(tool)["name"] for tool in listed] == ACTIONS
    result = wire(anyio.run(call_tool, "list_boards", {}))
    assert result["isError"] is True
    assert "failed unexpectedly (RuntimeError)" in text_of(result) and "pina_secret" not in text_of(result)
