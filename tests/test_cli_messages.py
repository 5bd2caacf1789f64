"""Issue 26, points 6, 9 and 11: the command line says the plugin's messages in its own words.

The plugin is host-neutral (``setting 'file_roots'``, ``pass no state (null)``); through
``modulex-pinterest`` a person reads the flags and files they typed (``--allow-path``, "delete the
state file st.json"), the server they named instead of "Pinterest", a hint when a base URL lacks
``/v5``, and a next step when the token is refused. Each test runs the installed console script (or
its MCP server) against the embedded sandbox over loopback.
"""

import json
import socket

import pytest

from conftest import PLUGIN
from modulex_pinterest.apps.parser import build_parser
from modulex_pinterest.apps.vocabulary import Vocabulary
from modulex_pinterest.host import Host
from test_cli import cli, run_on_sandbox, strict_json

PLUGIN_WORDS = ("setting '", "file_roots", "allow_private_network", "(null)")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _error(result):
    """The failed answer's message; the command ended with 1 and printed the answer as JSON."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    output = strict_json(result.stdout)
    assert output["success"] is False
    return output["error"]


def _in_cli_words(text):
    for word in PLUGIN_WORDS:
        assert word not in text, f"the plugin's word {word!r} in {text!r}"


# ----- point 6: settings are named by their flags, the state by its file -----


def test_a_file_outside_the_allowed_folders_names_allow_path_and_nothing_is_sent(sandbox, tmp_path):
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir(), elsewhere.mkdir()
    photo = elsewhere / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    inputs = {"board_id": "1", "title": "t", "file_path": str(photo)}
    error = _error(run_on_sandbox(sandbox, "create_pin_from_file", inputs, work))
    assert error.startswith("Invalid input: 'file_path'")
    assert "outside the directories this host allows (allow its directory with --allow-path)" in error
    _in_cli_words(error)
    assert sandbox.exchanges == []


def test_a_loopback_video_url_names_allow_private_network(sandbox, tmp_path):
    inputs = {
        "board_id": "1",
        "title": "t",
        "video_url": f"http://127.0.0.1:{_free_port()}/clip.mp4",
        "cover_image_url": "https://example.com/cover.jpg",
    }
    error = _error(run_on_sandbox(sandbox, "create_video_pin", inputs, tmp_path))
    assert error.endswith("allow others with --allow-private-network")
    _in_cli_words(error)
    assert sandbox.exchanges == []


def test_a_refused_setting_names_its_flag_or_the_variable_it_came_from(tmp_path):
    result = cli("check", "--base-url", "http://example.com/v5", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "error: Invalid settings: --base-url must use https unless its host is loopback" in result.stderr
    result = cli("check", cwd=tmp_path, env={"PINTEREST_BASE_URL": "http://example.com/v5"})
    assert result.returncode == 2
    assert "error: Invalid settings: $PINTEREST_BASE_URL must use https" in result.stderr
    result = cli("check", "--base-url", "http://127.0.0.1:9/v5", "--timeout", "-1", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: Invalid settings: --timeout must be a positive number of seconds" in result.stderr
    _in_cli_words(result.stderr)


def test_a_foreign_state_says_to_delete_the_state_file(sandbox, tmp_path):
    (tmp_path / "st.json").write_text(json.dumps({"v": 99}))
    result = cli(
        "poll", "new_pin", "--state", "st.json", "--input", json.dumps({"board_id": "1"}),
        "--base-url", sandbox.base_url, token=sandbox.access_token, cwd=tmp_path,
    )  # fmt: skip
    error = _error(result)
    assert error.endswith("delete the state file st.json to prime the trigger again"), error
    _in_cli_words(error)
    assert json.loads((tmp_path / "st.json").read_text()) == {"v": 99}  # kept as it was
    assert sandbox.exchanges == []


def test_a_missing_credentials_file_is_named_by_its_path_not_a_repr(tmp_path):
    result = cli("check", "--credentials", "nothing.json", cwd=tmp_path)
    assert result.returncode == 2
    assert f"no credentials stored at {tmp_path / 'nothing.json'}: write them with" in result.stderr
    assert "CredentialsFile(" not in result.stderr


def test_a_failing_credential_store_is_said_in_its_words_not_its_class_name(sandbox, tmp_path):
    """An expired OAuth token needs a refresh, which needs the store's lock; the lock file
    cannot be made (a directory is in its place): the store's own message, no ``StoreError``."""
    credentials = {
        "mode": "oauth2", "app_id": sandbox.app_id, "app_secret": sandbox.app_secret,
        "access_token": "pina_old", "refresh_token": "pinr_old", "expires_at": 1,
    }  # fmt: skip
    (tmp_path / "creds.json").write_text(json.dumps(credentials))
    (tmp_path / "creds.json.lock").mkdir()
    result = cli("run", "list_boards", "--base-url", sandbox.base_url, "--credentials", "creds.json", cwd=tmp_path)
    error = _error(result)
    assert error == (
        "Cannot refresh the OAuth access token: the host's credential store failed "
        f"(cannot lock {tmp_path / 'creds.json.lock'} (Is a directory)); nothing was sent"
    )
    assert sandbox.exchanges == []


def test_a_stopped_sandbox_is_named_by_its_url_with_a_hint(tmp_path):
    base_url = f"http://127.0.0.1:{_free_port()}/v5"
    result = cli("run", "list_boards", "--base-url", base_url, token="pina_x", cwd=tmp_path)
    error = _error(result)
    assert error.startswith(f"Could not reach {base_url}: could not connect to 127.0.0.1:")
    assert "Pinterest" not in error
    assert "hint: is the sandbox running there? Start one with `modulex-pinterest sandbox --background`" in (
        result.stderr
    )


def test_every_flag_the_vocabulary_names_is_one_its_command_has(tmp_path):
    """The words come from the manifest's declarations, as the parser's flags do: each one the
    vocabulary uses for ``run`` and ``mcp`` is in that command's help."""
    manifest = Host().manifest(PLUGIN)
    for command in (["run", "list_boards"], ["mcp"], ["check"], ["poll", "new_pin", "--state", "s.json"]):
        words = Vocabulary.of(build_parser(manifest).parse_args(command), manifest)
        assert words.names, command
        shown = cli(command[0], "--help", cwd=tmp_path).stdout
        for name, flag in words.names.items():
            assert flag in shown, (command, name, flag)
    run = Vocabulary.of(build_parser(manifest).parse_args(["run", "x"]), manifest).names
    assert run["file_roots"] == "--allow-path" and run["timeout"] == "--timeout"
    assert "file_roots" not in Vocabulary.of(build_parser(manifest).parse_args(["check"]), manifest).names


def test_mcp_names_the_servers_flag_for_local_files(sandbox, tmp_path):
    pytest.importorskip("mcp")
    from test_mcp import mcp_session, text_of

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    with mcp_session(sandbox.base_url, sandbox.access_token, tmp_path) as session:
        session.initialize()
        result = session.call_tool("create_pin_from_file", {"board_id": "1", "title": "t", "file_path": str(photo)})
    assert result["isError"] is True
    assert (
        text_of(result)
        == result["structuredContent"]["error"]
        == ("Invalid input: 'file_path': this host allows no local files (allow a directory with --allow-path)")
    )
    assert sandbox.exchanges == []


# ----- point 9: a base URL without /v5 -----


def test_a_base_url_without_v5_hints_at_it(sandbox, tmp_path):
    bare = sandbox.base_url.removesuffix("/v5")
    result = cli("run", "list_boards", "--base-url", bare, token=sandbox.access_token, cwd=tmp_path)
    error = _error(result)
    assert error.endswith(f"; the base URL {bare} has no /v5: did you mean {bare}/v5?"), error
    assert error.startswith("Not found (HTTP 404")


def test_a_refresh_under_a_base_url_without_v5_hints_at_it_not_at_logging_in(sandbox, tmp_path):
    """The token endpoint moves with the base URL (``.../oauth/token``): its 404 gets the hint too,
    and a refresh that failed for a wrong URL is no reason to log in again."""
    bare = sandbox.base_url.removesuffix("/v5")
    credentials = {
        "mode": "oauth2", "app_id": sandbox.app_id, "app_secret": sandbox.app_secret,
        "access_token": "pina_old", "refresh_token": "pinr_old", "expires_at": 1,
    }  # fmt: skip
    (tmp_path / "creds.json").write_text(json.dumps(credentials))
    result = cli("auth", "refresh", "--base-url", bare, "--credentials", "creds.json", cwd=tmp_path)
    error = _error(result)
    assert error.startswith("Authentication failed: could not refresh the OAuth access token: Not found (HTTP 404")
    assert error.endswith(f"; the base URL {bare} has no /v5: did you mean {bare}/v5?"), error
    assert "hint:" not in result.stderr and "log in" not in result.stderr
    assert json.loads((tmp_path / "creds.json").read_text())["refresh_token"] == "pinr_old"


def test_a_404_under_a_versioned_base_url_gives_no_such_hint(sandbox, tmp_path):
    error = _error(run_on_sandbox(sandbox, "get_board", {"board_id": "123456789"}, tmp_path))
    assert error.startswith("Board 123456789 not found (HTTP 404") and "did you mean" not in error


# ----- point 11: a refused token gets a next step -----


def test_a_refused_token_says_so_and_what_to_do(sandbox, tmp_path):
    result = cli("run", "list_boards", "--base-url", sandbox.base_url, token="pina_revoked", cwd=tmp_path)
    error = _error(result)
    assert error.startswith("Authentication failed: the access token was refused: it has expired or been revoked")
    assert error.endswith(
        "A new access token is needed: authorize the app again (a new OAuth 2.0 grant) or pass a current access token"
    )
    assert (
        "hint: set PINTEREST_ACCESS_TOKEN to a new access token, or log in with `modulex-pinterest auth login "
        "--app-id ID --app-secret-file FILE --credentials FILE` and pass --credentials FILE"
    ) in result.stderr
    assert "pina_revoked" not in result.stdout + result.stderr


def test_an_expired_token_in_a_credentials_file_names_that_file_in_the_hint(sandbox, tmp_path):
    sandbox.add_access_token("pina_soon_expired")
    sandbox.expire_access_token("pina_soon_expired")
    (tmp_path / "creds.json").write_text(json.dumps({"mode": "access_token", "access_token": "pina_soon_expired"}))
    result = cli("check", "--base-url", sandbox.base_url, "--credentials", "creds.json", cwd=tmp_path)
    error = _error(result)
    assert error.startswith("Authentication failed: the access token has expired (HTTP 401")
    assert "A new access token is needed" in error
    where = tmp_path / "creds.json"
    assert f"hint: the credentials in {where} cannot be used (they were refused): log in again with " in (result.stderr)
    assert f"--credentials {where}`" in result.stderr


def test_a_refused_oauth_refresh_names_the_store_to_log_in_to(sandbox, tmp_path):
    credentials = {
        "mode": "oauth2", "app_id": sandbox.app_id, "app_secret": sandbox.app_secret,
        "access_token": "pina_old", "refresh_token": "pinr_revoked", "expires_at": 1,
    }  # fmt: skip
    (tmp_path / "creds.json").write_text(json.dumps(credentials))
    result = cli("run", "list_boards", "--base-url", sandbox.base_url, "--credentials", "creds.json", cwd=tmp_path)
    error = _error(result)
    assert error.startswith("Authentication failed: Pinterest rejected the OAuth refresh token (invalid_grant")
    assert (
        f"hint: the credentials in {tmp_path / 'creds.json'} cannot be used (their OAuth refresh was refused): "
        f"log in again with `modulex-pinterest auth login --app-id ID --app-secret-file FILE "
        f"--credentials {tmp_path / 'creds.json'}`" in result.stderr
    )
    assert "pinr_revoked" not in result.stdout + result.stderr
