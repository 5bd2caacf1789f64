"""Issue 26's CLI points, through the installed console script against the sandbox: pickers for
triggers, `poll`'s state folder and exit codes, Ctrl-C during a whole-list fetch, hints for common
slips, and --output, --verbose and --dry-run."""

import os
import resource
import subprocess

from test_cli import CLI, cli, strict_json


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


# ----- point 5: poll's state file ------------------------------------------------------------


def unwritable_folder(tmp_path):
    """A folder where no file can be made, even by root: sysfs refuses new files to everyone;
    an ordinary user gets a folder of mode 0500."""
    if os.geteuid() == 0:
        return "/sys"
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    return str(folder)


def test_poll_checks_the_state_folder_before_polling(sandbox, tmp_path):
    state = os.path.join(unwritable_folder(tmp_path), "new-boards.json")
    result = on_sandbox(sandbox, "poll", "new_board", "--state", state, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    error = result.stderr.splitlines()[-1]
    assert f"cannot write the state file {state}" in error
    assert "nothing was polled" in error
    assert api_requests(sandbox) == []


def test_poll_state_in_a_missing_folder_is_a_usage_error(sandbox, tmp_path):
    state = tmp_path / "no-such-folder" / "state.json"
    result = on_sandbox(sandbox, "poll", "new_board", "--state", str(state), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no such folder" in result.stderr
    assert api_requests(sandbox) == []


def limit_file_size():
    """In the child: no regular file may grow past 1 byte (Python ignores SIGXFSZ, so a write
    fails with EFBIG): the state folder's check passes, the state's own write fails."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))


def test_poll_whose_state_cannot_be_written_reports_a_failed_poll(sandbox, tmp_path):
    state = tmp_path / "new-boards.json"
    first = on_sandbox(sandbox, "poll", "new_board", "--state", str(state), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    primed = state.read_bytes()
    created = on_sandbox(sandbox, "run", "create_board", "--input", '{"name": "Fresh"}', cwd=tmp_path)
    assert created.returncode == 0, created.stderr

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    env.update(PINTEREST_ACCESS_TOKEN=sandbox.access_token, MODULEX_PINTEREST_BUDGET_DIR=str(tmp_path))
    second = subprocess.run(
        [CLI, "poll", "new_board", "--state", str(state), "--base-url", sandbox.base_url],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, preexec_fn=limit_file_size,
    )  # fmt: skip
    assert second.returncode == 1, second.stderr
    answer = strict_json(second.stdout)
    assert answer["success"] is False
    assert answer["events"] == []
    assert "polled 1 new event but cannot write the state file" in answer["error"]
    assert "the next poll reports them again" in answer["error"]
    assert second.stderr.splitlines()[-1] == f"modulex-pinterest: error: {answer['error']}"
    assert state.read_bytes() == primed
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".state-")] == []

    third = on_sandbox(sandbox, "poll", "new_board", "--state", str(state), cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert [event["name"] for event in strict_json(third.stdout)["events"]] == ["Fresh"]


def test_poll_help_states_the_exit_codes(tmp_path):
    text = " ".join(cli("poll", "--help", cwd=tmp_path).stdout.split())
    assert "1 the poll failed" in text
    assert "or the state file cannot be written (its folder is checked before polling" in text


# ----- point 12: hints for common slips --------------------------------------------------------


def assert_usage_error(result, sandbox, *expected):
    """Exit 2, nothing on stdout, one line on stderr holding each of ``expected``, nothing sent."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if "using http" not in line]
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]
    assert api_requests(sandbox) == []


def test_input_naming_a_file_without_at_suggests_the_at(sandbox, tmp_path):
    (tmp_path / "in.json").write_text('{"page_size": 2}')
    result = on_sandbox(sandbox, "run", "list_boards", "--input", "in.json", cwd=tmp_path)
    assert_usage_error(result, sandbox, "input is not valid JSON", "did you mean --input @in.json?")


def test_input_that_is_no_file_gets_no_at_hint(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", "--input", "in.json", cwd=tmp_path)
    assert_usage_error(result, sandbox, "input is not valid JSON")
    assert "did you mean" not in result.stderr


def test_misspelt_action_suggests_the_nearest(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_bords", cwd=tmp_path)
    assert_usage_error(result, sandbox, "no action 'list_bords': did you mean list_boards?")


def test_a_trigger_given_to_run_points_to_poll(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "new_pin", cwd=tmp_path)
    assert_usage_error(result, sandbox, "new_pin is a trigger", "modulex-pinterest poll new_pin --state FILE")


def test_misspelt_trigger_suggests_the_nearest(sandbox, tmp_path):
    result = on_sandbox(sandbox, "poll", "new_bord", "--state", str(tmp_path / "s.json"), cwd=tmp_path)
    assert_usage_error(result, sandbox, "no trigger 'new_bord': did you mean new_board?")


def test_misspelt_input_field_suggests_the_field(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", "--input", '{"pagesize": 5}', cwd=tmp_path)
    assert_usage_error(
        result, sandbox, "--input: list_boards has no field 'pagesize': did you mean page_size?", "describe list_boards"
    )


def test_unknown_run_flag_points_to_run_help(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", "--bogus", cwd=tmp_path)
    assert_usage_error(result, sandbox, "unrecognized arguments: --bogus", "(see modulex-pinterest run --help)")
    assert "(see modulex-pinterest --help)" not in result.stderr


def test_misspelt_run_flag_suggests_the_flag(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", "--progess", cwd=tmp_path)
    assert_usage_error(result, sandbox, "did you mean --progress?", "(see modulex-pinterest run --help)")


def test_an_input_given_as_a_flag_points_to_input(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", "--page-size", "5", cwd=tmp_path)
    assert_usage_error(result, sandbox, "page_size is an input of list_boards: give it in --input")
