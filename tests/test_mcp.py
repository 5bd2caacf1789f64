"""``modulex-pinterest mcp`` as an agent uses it: the installed console script,
spoken to by the ``mcp`` package's own client over a real stdio session, with
the embedded sandbox standing in for Pinterest.

Results are compared in their wire form (``model_dump(by_alias=True)``:
``isError``, ``structuredContent``, ``inputSchema``), which reads the same with
the ``mcp`` 1.x and 2.x clients.
"""

import json
import os
import subprocess
import sys
import threading

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from test_cli import CLI

ACTIONS = ["list_boards", "get_board_sections", "create_pin", "list_pins"]


def wire(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def text_of(result):
    return "\n".join(block["text"] for block in result.get("content", []) if block.get("type") == "text")


def server_env(token):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    env["PINTEREST_ACCESS_TOKEN"] = token
    return env


def session_against(sandbox, tmp_path, script):
    """Run ``script(session)`` in a real MCP stdio session with ``modulex-pinterest mcp``; return its result."""
    params = StdioServerParameters(command=CLI, args=["mcp", "--base-url", sandbox.base_url],
                                   env=server_env(sandbox.access_token), cwd=str(tmp_path))
    stderr_path = tmp_path / "mcp-server.stderr"

    async def main():
        with open(stderr_path, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read_stream, write_stream):
                async with ClientSession(read_stream, write_stream) as session:
                    with anyio.fail_after(30):
                        return await script(session)

    try:
        return anyio.run(main)
    finally:
        stderr = stderr_path.read_text() if stderr_path.exists() else ""
        assert sandbox.access_token not in stderr
        sys.stderr.write(stderr)  # shown by pytest when the test fails


def test_mcp_session_lists_and_runs_the_four_tools_end_to_end(host, sandbox, tmp_path):
    manifest = host.manifest("pinterest")
    board_id = sandbox.boards[0]["id"]

    async def script(session):
        out = {"init": wire(await session.initialize())}
        out["tools"] = wire(await session.list_tools())["tools"]
        out["boards"] = wire(await session.call_tool("list_boards", {"page_size": 2}))
        out["sections"] = wire(await session.call_tool("get_board_sections", {"board_id": board_id}))
        out["created"] = wire(await session.call_tool("create_pin", {
            "board_id": board_id, "title": "Made by an agent", "media_url": "https://images.example.com/a.jpg",
            "description": "Through MCP"}))
        out["pins"] = wire(await session.call_tool("list_pins", {"board_id": board_id}))
        out["bad_id"] = wire(await session.call_tool("create_pin", {
            "board_id": "abc", "title": "x", "media_url": "https://images.example.com/a.jpg"}))
        out["missing"] = wire(await session.call_tool("get_board_sections", {"board_id": "999"}))
        out["unknown"] = wire(await session.call_tool("delete_board", {"board_id": board_id}))
        return out

    out = session_against(sandbox, tmp_path, script)

    init = out["init"]
    assert init["serverInfo"]["name"] == "pinterest"
    assert init["serverInfo"]["version"] == manifest["version"]
    assert "tools" in init["capabilities"]

    tools = {tool["name"]: tool for tool in out["tools"]}
    assert list(tools) == ACTIONS
    for entry in manifest["actions"]:
        tool = tools[entry["name"]]
        expected = {k: v for k, v in entry["input_schema"].items() if k != "$schema"}
        assert tool["inputSchema"] == expected
        assert tool["outputSchema"] == {k: v for k, v in entry["output_schema"].items() if k != "$schema"}
        assert tool["title"] == entry["title"]
        assert tool["annotations"]["readOnlyHint"] is (entry["name"] != "create_pin")

    boards = out["boards"]
    assert boards.get("isError") is not True, text_of(boards)
    assert boards["structuredContent"]["success"] is True
    assert boards["structuredContent"]["count"] == 2
    assert [b["id"] for b in boards["structuredContent"]["boards"]] == [b["id"] for b in sandbox.boards[:2]]
    assert json.loads(text_of(boards)) == boards["structuredContent"]

    sections = out["sections"]
    assert sections.get("isError") is not True, text_of(sections)
    assert ([s["id"] for s in sections["structuredContent"]["sections"]]
            == [s["id"] for s in sandbox.sections(board_id)][:len(sections["structuredContent"]["sections"])])

    created = out["created"]
    assert created.get("isError") is not True, text_of(created)
    pin = created["structuredContent"]
    assert pin["success"] is True and pin["title"] == "Made by an agent" and pin["board_id"] == board_id
    posts = [e for e in sandbox.exchanges if e.method == "POST" and e.path == "/v5/pins"]
    assert [e.status for e in posts] == [201]
    assert json.loads(posts[0].body)["title"] == "Made by an agent"

    pins = out["pins"]
    assert pins.get("isError") is not True, text_of(pins)
    assert pins["structuredContent"]["pins"][0]["id"] == pin["id"]

    bad_id = out["bad_id"]
    assert bad_id["isError"] is True
    assert text_of(bad_id).startswith("Invalid input: 'board_id'")
    assert bad_id["structuredContent"]["success"] is False
    assert bad_id["structuredContent"]["error"] == text_of(bad_id)

    missing = out["missing"]
    assert missing["isError"] is True and "Board 999 not found" in text_of(missing)
    assert missing["structuredContent"]["success"] is False

    unknown = out["unknown"]
    assert unknown["isError"] is True and "delete_board" in text_of(unknown)
    assert "list_boards" in text_of(unknown)

    # The invalid board_id never reached Pinterest; every other call did.
    assert not [e for e in sandbox.exchanges if "/abc" in e.path]


def test_an_authentication_failure_is_a_tool_error_without_the_token(sandbox, tmp_path):
    bad = type("Bad", (), {"base_url": sandbox.base_url, "access_token": "pina_not-a-valid-token"})()

    async def script(session):
        await session.initialize()
        return wire(await session.call_tool("list_boards", {}))

    result = session_against(bad, tmp_path, script)
    assert result["isError"] is True and text_of(result).startswith("Authentication failed")
    assert "pina_not-a-valid-token" not in json.dumps(result)


def test_mcp_without_the_mcp_package_exits_2_with_the_install_hint(tmp_path):
    # `import mcp` fails as it would without the extra installed.
    code = ("import sys; sys.modules['mcp'] = None; "
            "from modulex_pinterest.apps.cli import main; sys.exit(main(['mcp']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            stdin=subprocess.DEVNULL, timeout=60)
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
    proc = subprocess.Popen(command, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        def request(id_, method, params):
            proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}) + "\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        init = request(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                         "clientInfo": {"name": "raw-test", "version": "0"}})
        assert init["id"] == 1 and init["result"]["serverInfo"]["name"] == "pinterest"
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        listed = request(2, "tools/list", {})
        assert [t["name"] for t in listed["result"]["tools"]] == ACTIONS
        called = request(3, "tools/call", {"name": "list_boards", "arguments": {"page_size": 1}})
        assert called["id"] == 3 and called["result"]["structuredContent"]["count"] == 1
        assert called["result"].get("isError") is False
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
