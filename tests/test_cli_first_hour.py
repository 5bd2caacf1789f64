"""Issue 26's CLI points, through the installed console script against the sandbox: pickers for
triggers, `poll`'s state folder and exit codes, Ctrl-C during a whole-list fetch, hints for common
slips, and --output, --verbose and --dry-run."""

import base64
import json
import os
import re
import resource
import shlex
import signal
import subprocess
import time

import requests

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


def test_polls_of_one_state_file_in_several_processes_report_a_new_pin_once(sandbox, tmp_path):
    """Four `poll` processes on one state file (workers of one schedule): the first poll's request is held
    1.5 s at the server, so without taking turns the others would read the same old state and report the
    pin too. With the state file's turn lock each pin is reported once."""
    board = sandbox.boards[0]["id"]
    args = ["poll", "new_pin", "--input", json.dumps({"board_id": board}), "--state", str(tmp_path / "s.json")]
    assert on_sandbox(sandbox, *args, cwd=tmp_path).returncode == 0  # primes
    pin_input = {"board_id": board, "title": "Once", "media_url": "https://images.example.com/once.jpg"}
    made = on_sandbox(sandbox, "run", "create_pin", "--input", json.dumps(pin_input), cwd=tmp_path)
    pin = json.loads(made.stdout)["id"]
    sandbox.inject_fault("delay", count=1, delay=1.5, method="GET", path_prefix=f"/v5/boards/{board}/pins")
    polls = [start_on_sandbox(sandbox, *args, cwd=tmp_path) for _ in range(4)]
    answers = [poll.communicate(timeout=120) for poll in polls]
    assert [poll.returncode for poll in polls] == [0, 0, 0, 0], [err for _, err in answers]
    reported = [event["id"] for out, _ in answers for event in json.loads(out)["events"]]
    assert reported == [pin]


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


# ----- point 10: Ctrl-C during a whole-list fetch ----------------------------------------------


def start_on_sandbox(sandbox, *args, cwd):
    """The console script started (not waited for) with the sandbox's --base-url and demo token, and a
    rate budget folder of its own (a 429's pause stays with it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    env.update(PINTEREST_ACCESS_TOKEN=sandbox.access_token, MODULEX_PINTEREST_BUDGET_DIR=str(cwd))
    return subprocess.Popen(
        [CLI, *args, "--base-url", sandbox.base_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
    )  # fmt: skip


def test_ctrl_c_during_fetch_all_prints_what_was_fetched_and_the_bookmark(sandbox, tmp_path):
    board = sandbox.add_large_board(pin_count=1000)
    # Two pages answer at once; the third is a 429 asking for 30 s: Ctrl-C comes during that wait,
    # once its progress line is read (an event: the fault is used up, later requests are answered).
    pins_path = f"/v5/boards/{board}/pins"
    sandbox.inject_fault("delay", count=2, delay=0.0, path_prefix=pins_path)
    sandbox.inject_fault("status", count=1, status=429, headers={"Retry-After": "30"}, path_prefix=pins_path)
    inputs = {"board_id": board, "fetch_all": True, "page_size": 25, "max_items": 1000}
    busy = tmp_path / "busy"
    busy.mkdir()
    proc = start_on_sandbox(sandbox, "run", "list_pins", "--input", json.dumps(inputs), "--progress", cwd=busy)
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "waiting 30 s" in line:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    err = "".join(seen) + err
    assert "page 2: 50 items so far" in err
    assert proc.returncode == 130, err
    partial = strict_json(out)
    assert partial["success"] is False
    assert partial["count"] == 50 and len(partial["pins"]) == 50
    assert partial["board_id"] == board
    assert partial["bookmark"]
    note = err.strip().splitlines()[-1]
    assert note.startswith("modulex-pinterest: interrupted after 50 pins; resume with --input ")
    assert partial["error"] == note.removeprefix("modulex-pinterest: ")
    resume = json.loads(shlex.split(note.split("--input ", 1)[1])[0])
    assert resume == dict(inputs, bookmark=partial["bookmark"], max_items=950)

    # The first 50 pins in order, then the resume goes on from the 51st: none lost, none twice.
    first = on_sandbox(
        sandbox, "run", "list_pins", "--input", json.dumps({"board_id": board, "page_size": 60}), cwd=tmp_path
    )
    expected = [pin["id"] for pin in strict_json(first.stdout)["pins"]]
    assert [pin["id"] for pin in partial["pins"]] == expected[:50]
    rest = on_sandbox(sandbox, "run", "list_pins", "--input", json.dumps(dict(resume, max_items=10)), cwd=tmp_path)
    assert rest.returncode == 0, rest.stderr
    assert [pin["id"] for pin in strict_json(rest.stdout)["pins"]] == expected[50:60]


# ----- point 15: --output, --verbose, --dry-run --------------------------------------------------

KITCHEN = "397233545249"  # a sandbox board with 21 pins


def test_output_json_is_one_line_when_piped(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert strict_json(result.stdout)["count"] == len(sandbox.boards)


def test_output_jsonl_prints_one_item_per_line_and_how_to_get_more(sandbox, tmp_path):
    inputs = {"board_id": KITCHEN, "page_size": 5}
    result = on_sandbox(sandbox, "run", "list_pins", "--input", json.dumps(inputs), "--output", "jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    pins = [strict_json(line) for line in lines]
    assert all(pin["board_id"] == KITCHEN and pin["id"] for pin in pins)
    more = result.stderr.splitlines()[-1]
    assert more.startswith("modulex-pinterest: more: resume with --input ")
    resume = json.loads(shlex.split(more.split("--input ", 1)[1])[0])
    nxt = on_sandbox(sandbox, "run", "list_pins", "--input", json.dumps(resume), "--output", "jsonl", cwd=tmp_path)
    assert {strict_json(line)["id"] for line in nxt.stdout.splitlines()}.isdisjoint(pin["id"] for pin in pins)


def test_output_jsonl_of_a_failure_is_the_object_on_one_line(sandbox, tmp_path):
    inputs = {"board_id": "999999999999"}
    result = on_sandbox(sandbox, "run", "list_pins", "--input", json.dumps(inputs), "--output", "jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.count("\n") == 1
    assert strict_json(result.stdout)["success"] is False


def test_output_table_fits_the_terminal(sandbox, tmp_path):
    inputs = json.dumps({"board_id": KITCHEN, "page_size": 4})
    result = on_sandbox(
        sandbox, "run", "list_pins", "--input", inputs, "--output", "table", cwd=tmp_path, env={"COLUMNS": "70"}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and lines[0].split()[0] == "ID"
    assert all(len(line) <= 70 for line in lines), lines
    assert all(line.split()[0].isdigit() for line in lines[1:])  # ids are never cut


def test_output_table_of_an_object_lists_its_fields(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "get_user_account", "--output", "table", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["FIELD", "VALUE"]
    assert ["username", "sandbox_user"] in [line.split() for line in lines]


def authorized(sandbox, path, expired):
    """A credentials file (0600) for the sandbox's app from a real code exchange; ``expired``: its access token is."""
    redirect_uri = "http://127.0.0.1:8085/"
    code = sandbox.issue_authorization_code(sandbox.app_id, redirect_uri, "boards:read,pins:read,user_accounts:read")
    answer = requests.post(
        f"{sandbox.base_url}/oauth/token", auth=(sandbox.app_id, sandbox.app_secret), timeout=10,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
    )  # fmt: skip
    answer.raise_for_status()
    tokens = answer.json()
    credentials = {
        "mode": "oauth2",
        "app_id": sandbox.app_id,
        "app_secret": sandbox.app_secret,
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "expires_at": 1 if expired else int(time.time()) + tokens["expires_in"],
    }
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        json.dump(credentials, handle)
    return credentials, code


def test_verbose_shows_each_exchange_and_no_secret(sandbox, tmp_path):
    store = tmp_path / "pinterest.json"
    before, code = authorized(sandbox, store, expired=True)  # the run refreshes first: a token request too
    sandbox.clear_exchanges()
    inputs = json.dumps({"page_size": 2})
    result = cli(
        "run", "list_boards", "--input", inputs, "--verbose", "--credentials", str(store),
        "--base-url", sandbox.base_url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    after = json.loads(store.read_text())
    assert after["access_token"] != before["access_token"]  # refreshed: new tokens went through the exchange
    exchanges = [line for line in result.stderr.splitlines() if line.startswith("modulex-pinterest: http: ")]
    assert len(exchanges) == len(api_requests(sandbox)) == 2
    assert re.fullmatch(r"modulex-pinterest: http: POST /v5/oauth/token -> 200 in \d+ ms", exchanges[0])
    assert re.fullmatch(r"modulex-pinterest: http: GET /v5/boards\?page_size=2 -> 200 in \d+ ms", exchanges[1])
    basic = base64.b64encode(f"{sandbox.app_id}:{sandbox.app_secret}".encode()).decode()
    secrets = [
        before["access_token"], before["refresh_token"], after["access_token"], after["refresh_token"],
        sandbox.app_secret, basic, basic.rstrip("="), code,
    ]  # fmt: skip
    for secret in secrets:
        assert secret not in result.stderr and secret not in result.stdout
    for word in ("Authorization", "Bearer", "send: b'", "reply: '", "header:"):  # no headers, no http.client debug
        assert word not in result.stderr


def test_without_verbose_no_exchange_is_shown(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", cwd=tmp_path)
    assert result.returncode == 0
    assert "modulex-pinterest: http: " not in result.stderr


def test_delete_pin_dry_run_sends_nothing(sandbox, tmp_path):
    pins = strict_json(
        on_sandbox(sandbox, "run", "list_pins", "--input", json.dumps({"board_id": KITCHEN}), cwd=tmp_path).stdout
    )
    pin = pins["pins"][0]["id"]
    sandbox.clear_exchanges()
    result = on_sandbox(sandbox, "run", "delete_pin", "--input", json.dumps({"pin_id": pin}), "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    answer = strict_json(result.stdout)
    assert answer["dry_run"] is True and answer["success"] is True
    assert answer["request"] == {"method": "DELETE", "url": f"{sandbox.base_url}/pins/{pin}"}
    assert f"dry run: would send DELETE {sandbox.base_url}/pins/{pin}" in result.stderr
    assert "nothing sent" in result.stderr
    assert sandbox.exchanges == []
    assert sandbox.get_pin(pin) is not None


def test_dry_run_checks_the_inputs_by_the_plugins_rules(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "delete_board", "--input", '{"board_id": "12\\n"}', "--dry-run", cwd=tmp_path)
    assert_usage_error(result, sandbox, "board_id")
    assert result.stderr.count("\n") == 1  # not even the server's name: only the mistake
    assert sandbox.exchanges == []


def test_dry_run_of_an_action_that_deletes_nothing_is_a_usage_error(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "list_boards", "--dry-run", cwd=tmp_path)
    assert_usage_error(result, sandbox, "--dry-run: list_boards deletes nothing", "(delete_board, delete_pin)")


def test_dry_run_is_offered_for_the_manifests_destructive_actions(tmp_path, host):
    manifest = host.manifest("pinterest")
    destructive = sorted(
        a["name"] for a in manifest["actions"] if manifest["request_semantics"][a["request"]["method"]]["destructive"]
    )
    assert destructive == ["delete_board", "delete_pin"]
    text = " ".join(cli("run", "--help", cwd=tmp_path).stdout.split())
    assert f"for an action that deletes ({', '.join(destructive)})" in text


def test_misspelt_trigger_given_to_run_suggests_it_and_poll(sandbox, tmp_path):
    result = on_sandbox(sandbox, "run", "new_pn", cwd=tmp_path)
    assert_usage_error(
        result, sandbox, "no action 'new_pn': did you mean new_pin (a trigger: `modulex-pinterest poll`)?"
    )


def test_run_help_names_the_new_flags_and_the_interrupt_exit_code(tmp_path):
    text = " ".join(cli("run", "--help", cwd=tmp_path).stdout.split())
    for flag in ("--output {json,jsonl,table}", "--verbose", "--dry-run"):
        assert flag in text
    assert "130 interrupted (Ctrl-C: a fetch_all prints what it fetched and how to resume)" in text


def test_output_table_says_how_to_get_the_next_page(sandbox, tmp_path):
    inputs = json.dumps({"board_id": KITCHEN, "page_size": 4})
    result = on_sandbox(sandbox, "run", "list_pins", "--input", inputs, "--output", "table", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"bookmark": ' in result.stderr.splitlines()[-1]
    assert result.stderr.splitlines()[-1].startswith("modulex-pinterest: more: resume with --input ")
