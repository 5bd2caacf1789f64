"""The console script as a user runs it: installed, from an unrelated directory."""

import json
import os
import subprocess
import sysconfig
import time
from pathlib import Path

import pytest

from modulex_pinterest import contract
from modulex_pinterest.apps.cli import main
from modulex_pinterest.host import Host

CLI = str(Path(sysconfig.get_paths()["scripts"]) / "modulex-pinterest")


def cli(*args, token=None, stdin=None, cwd=None, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    if token:
        env["PINTEREST_ACCESS_TOKEN"] = token
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def _not_json(constant):
    raise AssertionError(f"{constant} in the CLI's output: not strict JSON")


def strict_json(text):
    """The CLI's output parsed as strict JSON: json.loads accepts NaN and Infinity unless told not to."""
    return json.loads(text, parse_constant=_not_json)


def test_actions_lists_the_four_actions(tmp_path):
    result = cli("actions", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [a["name"] for a in strict_json(result.stdout)]
    assert names == ["list_boards", "get_board_sections", "create_pin", "list_pins"]


def test_describe_returns_the_schemas(tmp_path, host):
    result = cli("describe", "list_pins", cwd=tmp_path)
    assert result.returncode == 0
    described = strict_json(result.stdout)
    assert described == host.action("pinterest", "list_pins")


def test_describe_unknown_action_is_a_usage_error(tmp_path):
    result = cli("describe", "delete_board", cwd=tmp_path)
    assert result.returncode == 2 and "no action 'delete_board'" in result.stderr


def test_run_against_the_sandbox_with_inline_file_and_stdin_input(tmp_path, sandbox):
    board_id = sandbox.boards[0]["id"]
    common = ("--base-url", sandbox.base_url)
    result = cli("run", "list_boards", "--input", '{"page_size": 2}', *common, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert strict_json(result.stdout)["count"] == 2
    pin = tmp_path / "pin.json"
    pin.write_text(json.dumps({"board_id": board_id, "title": "From a file", "media_url": "https://e.com/p.jpg"}))
    result = cli("run", "create_pin", "--input", f"@{pin}", *common, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 0 and strict_json(result.stdout)["title"] == "From a file"
    result = cli("run", "list_pins", "--input", "-", *common, token=sandbox.access_token, cwd=tmp_path,
                 stdin=json.dumps({"board_id": board_id}))
    assert result.returncode == 0 and strict_json(result.stdout)["pins"][0]["title"] == "From a file"


def test_run_failure_exits_1_and_usage_errors_exit_2(tmp_path, sandbox):
    result = cli("run", "list_pins", "--input", '{"board_id": "abc"}', "--base-url", sandbox.base_url,
                 token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 1 and "'board_id'" in strict_json(result.stdout)["error"]
    assert cli("run", "list_pins", "--input", "{not json", cwd=tmp_path).returncode == 2
    assert cli("run", "list_pins", "--input", "@/nonexistent/file.json", cwd=tmp_path).returncode == 2
    assert cli("run", "nope", cwd=tmp_path).returncode == 2
    assert cli("frobnicate", cwd=tmp_path).returncode == 2


def test_run_without_a_token(tmp_path, sandbox):
    result = cli("run", "list_boards", "--base-url", sandbox.base_url, cwd=tmp_path)
    assert result.returncode == 1 and "Missing credentials" in strict_json(result.stdout)["error"]
    assert sandbox.exchanges == []


def test_check(tmp_path, sandbox):
    result = cli("check", "--base-url", sandbox.base_url, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 0 and strict_json(result.stdout)["success"]
    result = cli("check", "--base-url", sandbox.base_url, token="pina_wrong", cwd=tmp_path)
    assert result.returncode == 1 and "pina_wrong" not in result.stdout + result.stderr


def test_sandbox_command_prints_its_address_first_and_serves(tmp_path):
    import requests

    proc = subprocess.Popen([CLI, "sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = strict_json(proc.stdout.readline())
        assert first["base_url"].startswith("http://127.0.0.1:")
        response = requests.get(first["base_url"] + "/boards", timeout=5,
                                headers={"Authorization": f"Bearer {first['access_token']}"})
        assert response.status_code == 200 and response.json()["items"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_demo_runs_the_workflow_and_exits_0(tmp_path):
    result = cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for title in ("List Boards", "Get Board Sections", "Create Pin", "List Pins", "The new pin"):
        assert title in result.stdout


def test_demo_json_prints_one_object_per_node(tmp_path):
    result = cli("demo", "--json", cwd=tmp_path)
    assert result.returncode == 0
    steps = [strict_json(line) for line in result.stdout.splitlines()]
    assert [s["action"] for s in steps[:3]] == ["list_boards", "get_board_sections", "create_pin"]
    assert all(s["output"]["success"] for s in steps)
    created = steps[2]["output"]["id"]
    assert any(created in [p["id"] for p in s["output"]["pins"]] for s in steps[3:])


def test_sandbox_first_line_and_help_name_its_oauth_app(tmp_path):
    from modulex_pinterest.sandbox import Sandbox

    help_text = cli("sandbox", "--help", cwd=tmp_path).stdout
    assert Sandbox.app_id in help_text and Sandbox.app_secret in help_text
    assert "--token-lifetime" in help_text and "--rate-limit" in help_text
    proc = subprocess.Popen([CLI, "sandbox", "--token-lifetime", "60", "--rate-limit", "50"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = strict_json(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert first["app_id"] == Sandbox.app_id and first["app_secret"] == Sandbox.app_secret
    assert first["base_url"].startswith("http://127.0.0.1:") and first["access_token"]


def test_auth_import_copies_a_credentials_file_into_a_store(tmp_path, sandbox):
    source = tmp_path / "exported.json"
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    source.write_text(json.dumps(credentials))
    target = tmp_path / "store" / "pinterest.json"
    target.parent.mkdir()
    result = cli("auth", "import", str(source), "--credentials", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_text()) == credentials and (target.stat().st_mode & 0o777) == 0o600
    assert sandbox.access_token not in result.stdout + result.stderr
    ran = cli("run", "list_boards", "--credentials", str(target), "--base-url", sandbox.base_url, cwd=tmp_path)
    assert ran.returncode == 0 and strict_json(ran.stdout)["success"]


def test_credentials_that_are_not_there_are_a_usage_error(tmp_path):
    result = cli("run", "list_boards", "--credentials", str(tmp_path / "missing.json"), cwd=tmp_path)
    assert result.returncode == 2 and "no credentials stored" in result.stderr and "auth import" in result.stderr
    result = cli("run", "list_boards", "--credentials", "redis://127.0.0.1:1/0", cwd=tmp_path)
    assert result.returncode == 2 and "?key=" in result.stderr


def test_rate_limit_must_be_positive(tmp_path, sandbox):
    result = cli("run", "list_boards", "--rate-limit", "0", "--base-url", sandbox.base_url, token=sandbox.access_token,
                 cwd=tmp_path)
    assert result.returncode == 1
    assert "'rate_limit' must be a positive number of requests per second" in strict_json(result.stdout)["error"]


def test_deadline_is_passed_to_the_plugin_and_shown_with_its_default(tmp_path, sandbox):
    from modulex_pinterest.plugin.settings import DEFAULT_DEADLINE

    for command in ("run", "check", "options", "mcp", ("auth", "login"), ("auth", "refresh")):
        help_text = " ".join(cli(*(command if isinstance(command, tuple) else (command,)), "--help").stdout.split())
        assert "--deadline SECONDS" in help_text and f"the plugin's, {DEFAULT_DEADLINE:g} s" in help_text, command
    common = ("--base-url", sandbox.base_url)
    result = cli("run", "list_boards", "--deadline", "0", *common, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 1 and "'deadline'" in strict_json(result.stdout)["error"]
    sandbox.inject_fault("hang", delay=30, path_prefix="/v5/boards")
    started = time.monotonic()
    result = cli("run", "list_boards", "--deadline", "0.5", *common, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 1 and "deadline" in strict_json(result.stdout)["error"]
    assert time.monotonic() - started < 10  # the hang lasts 30 s: the deadline ended the action


@pytest.mark.parametrize("text, says", [
    ("[" * 100_000, "nested too deeply"),
    ('{"page_size": 1' + "]" * 3, "not valid JSON"),
    ('{"page_size": NaN}', "NaN is not a JSON value"),
    ('{"page_size": -Infinity}', "Infinity is not a JSON value"),
])
def test_unusable_input_is_a_one_line_usage_error(tmp_path, text, says):
    (tmp_path / "input.json").write_text(text)
    for where, stdin in (("inline", None), ("@file", None), ("stdin", text)):
        source = {"inline": text, "@file": f"@{tmp_path / 'input.json'}", "stdin": "-"}[where]
        result = cli("run", "list_boards", "--input", source, stdin=stdin, cwd=tmp_path)
        assert result.returncode == 2, (where, result.stderr[-500:])
        assert result.stdout == "" and "Traceback" not in result.stderr, where
        assert result.stderr.count("\n") == 1 and says in result.stderr, (where, result.stderr)


class OddPlugin:
    """A plugin answering as "pinterest" whose action outputs the value it is given by the test."""

    value = None

    @contract.hookimpl
    def modulex_plugin_manifest(self):
        return {"id": "pinterest", "contract_version": contract.CONTRACT_VERSION, "credentials": [],
                "actions": [{"name": "measure", "title": "Measure", "description": "A number."}]}

    @contract.hookimpl
    def modulex_execute_action(self, plugin, action, inputs, credentials, settings, host):
        return {"success": True, "ratio": self.value} if plugin == "pinterest" else None


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_an_output_strict_json_cannot_carry_prints_nothing_and_exits_1(capsys, value):
    plugin = OddPlugin()
    odd = Host(plugins=[plugin], autoload=False)
    plugin.value = 0.5
    assert main(["run", "measure"], host=odd) == 0
    assert strict_json(capsys.readouterr().out) == {"success": True, "ratio": 0.5}
    plugin.value = value
    assert main(["run", "measure"], host=odd) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "NaN or Infinity" in err and "nothing was printed" in err


def test_auth_import_into_a_folder_that_is_a_file_is_a_usage_error(tmp_path):
    source = tmp_path / "exported.json"
    source.write_text(json.dumps({"mode": "access_token", "access_token": "pina_5ec7e7-import"}))
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "pinterest.json"
    result = cli("auth", "import", str(source), "--credentials", str(target), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "pina_5ec7e7-import" not in result.stderr
