"""Issue 26's CLI points, through the installed console script against the sandbox: pickers for
triggers, `poll`'s state folder and exit codes, Ctrl-C during a whole-list fetch, hints for common
slips, and --output, --verbose and --dry-run."""

from test_cli import cli, strict_json


def on_sandbox(sandbox, *args, **kwargs):
    """The console script with ``args`` and the sandbox's --base-url and demo token."""
    return cli(*args, "--base-url", sandbox.base_url, token=sandbox.access_token, **kwargs)


def api_requests(sandbox):
    """The requests the sandbox's API answered (the consent page and token endpoint aside)."""
    return [exchange for exchange in sandbox.exchanges if exchange.path.startswith("/v5/")]


# ----- point 4: pickers for triggers ---------------------------------------------------------


def test_options_answers_for_a_triggers_field(sandbox, tmp_path):
    result = on_sandbox(sandbox, "options", "new_pin", "board_id", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    answer = strict_json(result.stdout)
    assert answer["success"] is True
    assert {choice["value"] for choice in answer["options"]} == {board["id"] for board in sandbox.boards}


def test_options_for_an_unknown_name_suggests_the_nearest_action_or_trigger(sandbox, tmp_path):
    result = on_sandbox(sandbox, "options", "new_pn", "board_id", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "did you mean new_pin?" in result.stderr
    assert "triggers: new_pin, new_board" in result.stderr
    assert api_requests(sandbox) == []


def test_options_help_names_triggers(tmp_path):
    result = cli("options", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "or a trigger" in result.stdout
    assert "options new_pin board_id" in result.stdout
