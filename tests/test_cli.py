"""The console script as a user runs it: installed, from an unrelated directory."""

import json
import os
import subprocess
import sysconfig
from pathlib import Path

CLI = str(Path(sysconfig.get_paths()["scripts"]) / "modulex-pinterest")


def cli(*args, token=None, stdin=None, cwd=None, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    if token:
        env["PINTEREST_ACCESS_TOKEN"] = token
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def test_actions_lists_the_four_actions(tmp_path):
    result = cli("actions", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [a["name"] for a in json.loads(result.stdout)] == ["list_boards", "get_board_sections", "create_pin", "list_pins"]


def test_describe_returns_the_schemas(tmp_path, host):
    result = cli("describe", "list_pins", cwd=tmp_path)
    assert result.returncode == 0
    described = json.loads(result.stdout)
    assert described == host.action("pinterest", "list_pins")


def test_describe_unknown_action_is_a_usage_error(tmp_path):
    result = cli("describe", "delete_board", cwd=tmp_path)
    assert result.returncode == 2 and "no action 'delete_board'" in result.stderr


def test_run_against_the_sandbox_with_inline_file_and_stdin_input(tmp_path, sandbox):
    board_id = sandbox.boards[0]["id"]
    common = ("--base-url", sandbox.base_url)
    result = cli("run", "list_boards", "--input", '{"page_size": 2}', *common, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["count"] == 2
    pin = tmp_path / "pin.json"
    pin.write_text(json.dumps({"board_id": board_id, "title": "From a file", "media_url": "https://e.com/p.jpg"}))
    result = cli("run", "create_pin", "--input", f"@{pin}", *common, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)["title"] == "From a file"
    result = cli("run", "list_pins", "--input", "-", *common, token=sandbox.access_token, cwd=tmp_path,
                 stdin=json.dumps({"board_id": board_id}))
    assert result.returncode == 0 and json.loads(result.stdout)["pins"][0]["title"] == "From a file"


def test_run_failure_exits_1_and_usage_errors_exit_2(tmp_path, sandbox):
    result = cli("run", "list_pins", "--input", '{"board_id": "abc"}', "--base-url", sandbox.base_url,
                 token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 1 and "'board_id'" in json.loads(result.stdout)["error"]
    assert cli("run", "list_pins", "--input", "{not json", cwd=tmp_path).returncode == 2
    assert cli("run", "list_pins", "--input", "@/nonexistent/file.json", cwd=tmp_path).returncode == 2
    assert cli("run", "nope", cwd=tmp_path).returncode == 2
    assert cli("frobnicate", cwd=tmp_path).returncode == 2


def test_run_without_a_token(tmp_path, sandbox):
    result = cli("run", "list_boards", "--base-url", sandbox.base_url, cwd=tmp_path)
    assert result.returncode == 1 and "Missing credentials" in json.loads(result.stdout)["error"]
    assert sandbox.exchanges == []


def test_check(tmp_path, sandbox):
    result = cli("check", "--base-url", sandbox.base_url, token=sandbox.access_token, cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)["success"]
    result = cli("check", "--base-url", sandbox.base_url, token="pina_wrong", cwd=tmp_path)
    assert result.returncode == 1 and "pina_wrong" not in result.stdout + result.stderr


def test_sandbox_command_prints_its_address_first_and_serves(tmp_path):
    import requests

    proc = subprocess.Popen([CLI, "sandbox", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = json.loads(proc.stdout.readline())
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
    steps = [json.loads(line) for line in result.stdout.splitlines()]
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
        first = json.loads(proc.stdout.readline())
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
    assert ran.returncode == 0 and json.loads(ran.stdout)["success"]


def test_credentials_that_are_not_there_are_a_usage_error(tmp_path):
    result = cli("run", "list_boards", "--credentials", str(tmp_path / "missing.json"), cwd=tmp_path)
    assert result.returncode == 2 and "no credentials stored" in result.stderr and "auth import" in result.stderr
    result = cli("run", "list_boards", "--credentials", "redis://127.0.0.1:1/0", cwd=tmp_path)
    assert result.returncode == 2 and "?key=" in result.stderr


def test_rate_limit_must_be_positive(tmp_path, sandbox):
    result = cli("run", "list_boards", "--rate-limit", "0", "--base-url", sandbox.base_url, token=sandbox.access_token,
                 cwd=tmp_path)
    assert result.returncode == 1
    assert "'rate_limit' must be a positive number of requests per second" in json.loads(result.stdout)["error"]
