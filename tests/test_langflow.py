"""The Langflow face: nodes generated from the manifest, and the runtime every node calls.

Generation and the runtime need no Langflow: those tests run in the main suite (the runtime
against the sandbox, over loopback HTTP). The tests that load the nodes into Langflow's
engine need ``lfx`` (``pip install '.[langflow]'``, as .ci/langflow does) and skip without
it; the flows run by ``lfx run`` are in tests/langflow_face/.
"""

import ast
import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ACTIONS
from modulex_pinterest.langflow import generate, runtime

CHECKOUT = Path(__file__).resolve().parents[1]
PACKAGE = Path(generate.__file__).resolve().parent
TRIGGERS = ["new_pin", "new_board"]
NO_LFX = "lfx (Langflow's engine) is not installed: pip install '.[langflow]', as .ci/langflow does"


def needs_lfx():
    if importlib.util.find_spec("lfx") is None:
        pytest.skip(NO_LFX)


def run_generator(*args):
    return subprocess.run(
        [sys.executable, "-m", "modulex_pinterest.langflow.generate", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree(folder):
    """{path: text} of extension.json and the bundle's nodes under ``folder``."""
    found = {"extension.json": (folder / "extension.json").read_text()}
    found.update({f"pinterest/{p.name}": p.read_text() for p in sorted((folder / "pinterest").glob("*.py"))})
    return found


def node_source(name, folder=PACKAGE):
    """A generated node's class, read without Langflow: its attributes and each input's (kind, arguments)."""
    module = ast.parse((folder / "pinterest" / f"{name}.py").read_text())
    (cls,) = [node for node in module.body if isinstance(node, ast.ClassDef)]
    attributes, inputs, outputs = {}, [], []
    for statement in cls.body:
        target = statement.targets[0].id
        if target in ("inputs", "outputs"):
            calls = [
                (call.func.id, {k.arg: ast.literal_eval(k.value) for k in call.keywords})
                for call in statement.value.elts
            ]
            (inputs if target == "inputs" else outputs).extend(calls)
        else:
            attributes[target] = ast.literal_eval(statement.value)
    return cls, attributes, inputs, outputs


def test_the_committed_nodes_are_what_the_generator_writes(tmp_path):
    result = run_generator("--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert tree(tmp_path) == tree(PACKAGE), "regenerate with: python -m modulex_pinterest.langflow.generate"
    check = run_generator("--check")
    assert (check.returncode, check.stderr) == (0, "")


def test_check_names_the_stale_missing_and_left_over_files_and_writing_fixes_them(tmp_path):
    shutil.copytree(PACKAGE / "pinterest", tmp_path / "pinterest")
    shutil.copy(PACKAGE / "extension.json", tmp_path)
    (tmp_path / "pinterest" / "get_pin.py").write_text("# edited by hand\n")
    (tmp_path / "pinterest" / "list_boards.py").unlink()
    (tmp_path / "pinterest" / "removed_action.py").write_text("# an action the manifest no longer has\n")
    check = run_generator("--check", "--out", str(tmp_path))
    assert check.returncode == 1
    named = sorted(line.split("/")[-1] for line in check.stderr.splitlines() if line.startswith("stale: "))
    assert named == ["get_pin.py", "list_boards.py", "removed_action.py"], check.stderr
    assert run_generator("--out", str(tmp_path)).returncode == 0
    assert run_generator("--check", "--out", str(tmp_path)).returncode == 0
    assert tree(tmp_path) == tree(PACKAGE)


def test_an_action_added_to_the_manifest_becomes_a_node_with_no_hand_written_code(tmp_path):
    if not (CHECKOUT / "plugin.yaml").is_file():
        pytest.skip("no checkout beside the tests")
    shutil.copytree(CHECKOUT / "schemas", tmp_path / "schemas")
    manifest = yaml.safe_load((CHECKOUT / "plugin.yaml").read_text())
    added = dict(next(a for a in manifest["actions"] if a["name"] == "list_pins"))
    added.update(name="list_section_pins", title="List Section Pins", description="The pins of one board section")
    manifest["actions"].append(added)
    (tmp_path / "plugin.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    out = tmp_path / "out"
    result = run_generator("--manifest", str(tmp_path / "plugin.yaml"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    made = tree(out)
    assert made.pop("pinterest/list_section_pins.py")
    assert made == tree(PACKAGE)  # the other nodes as committed: the yaml and the installed manifest agree
    cls, attributes, inputs, outputs = node_source("list_section_pins", out)
    assert cls.name == "PinterestListSectionPins" and cls.bases[0].id == "PinterestComponent"
    assert attributes["display_name"] == "List Section Pins" and attributes["action"] == "list_section_pins"
    assert inputs[0] == ("DropdownInput", inputs[0][1]) and inputs[0][1]["required"] is True
    assert [args["name"] for _, args in outputs] == ["output", "rows"]


def test_every_action_and_trigger_has_a_node_with_its_title_description_and_fields(host):
    manifest = host.manifest("pinterest")
    names = sorted(p.stem for p in (PACKAGE / "pinterest").glob("*.py"))
    assert names == sorted(ACTIONS + TRIGGERS)
    for item in manifest["actions"] + manifest["triggers"]:
        cls, attributes, inputs, outputs = node_source(item["name"])
        assert attributes["display_name"] == item["title"] and attributes["description"] == item["description"]
        assert attributes["action" if item in manifest["actions"] else "trigger"] == item["name"]
        schema, ui = item["input_schema"], item["ui"]
        fields = [runtime.field_name(args["name"]) for _, args in inputs]
        assert fields[: len(schema["properties"])] == ui["field_order"] + [
            f for f in schema["properties"] if f not in ui["field_order"]
        ], item["name"]
        by_field = {runtime.field_name(args["name"]): (kind, args) for kind, args in inputs}
        for field in schema["properties"]:
            kind, args = by_field[field]
            assert args.get("required", False) == (field in schema.get("required", [])), (item["name"], field)
            assert args.get("advanced", False) == (field in ui["advanced"]), (item["name"], field)
            if field in ui.get("options", {}):
                assert kind == "DropdownInput" and args["real_time_refresh"] and args["combobox"]
                assert args["input_types"] == ["Message"]  # a wire (a Parser's text) may give it too
        assert by_field["access_token"][0] == "SecretStrInput" and by_field["access_token"][1]["load_from_db"]
        assert by_field["credential_store"][0] == "SecretStrInput"  # a Redis URL may hold a password
        refills = bool(ui.get("options"))  # a new token, store or server fills the pickers again
        for source in ("access_token", "credential_store", "base_url"):
            assert by_field[source][1].get("real_time_refresh", False) == refills, (item["name"], source)
        assert ("state_file" in by_field) == (item in manifest["triggers"])
        method_names = [args["method"] for _, args in outputs]
        if item in manifest["triggers"]:
            assert method_names == ["poll_items", "poll_data"]
        else:
            assert method_names == (["action_data", "action_items"] if item.get("list_field") else ["action_data"])


def test_fields_are_typed_from_the_schemas():
    kinds = {name: {runtime.field_name(a["name"]): (k, a) for k, a in node_source(name)[2]} for name in ACTIONS}
    assert kinds["list_pins"]["page_size"][0] == "IntInput" and kinds["list_pins"]["page_size"][1]["value"] == 25
    assert kinds["list_pins"]["fetch_all"][0] == "BoolInput"
    assert kinds["create_pin"]["description"][0] == "MultilineInput"  # widget: textarea
    assert kinds["create_board"]["name"][1]["name"] == "name_input"  # Component.name is the node's own
    assert kinds["create_board"]["description"][1]["name"] == "description_input"
    assert kinds["create_board"]["privacy"][0] == "DropdownInput"
    assert kinds["create_board"]["privacy"][1]["options"] == ["PUBLIC", "PROTECTED", "SECRET"]
    assert kinds["get_account_analytics"]["metric_types"][0] == "MultiselectInput"
    assert kinds["get_pins_analytics"]["pin_ids"][1]["is_list"] is True
    assert kinds["create_carousel_pin"]["items"][0] == "MultilineInput"  # a list of objects, as JSON
    assert kinds["create_video_pin"]["cover_key_frame_time"][0] == "MessageTextInput"  # no default: empty is none
    media = {"file_roots", "allow_private_network"}
    assert media <= set(kinds["create_video_pin"]) and media <= set(kinds["create_pin_from_file"])
    assert not media & set(kinds["list_pins"])


def test_picker_labels_carry_their_values():
    assert runtime.label({"label": "Kitchen ideas", "value": "397233545249"}) == "Kitchen ideas (397233545249)"
    assert runtime.picked("Kitchen ideas (397233545249)") == "397233545249"
    assert runtime.picked("Ideas (for later) (42)") == "42"
    assert runtime.picked("397233545249") == "397233545249"  # a typed value as it is


@pytest.fixture
def no_pinterest_env(monkeypatch):
    for name in [n for n in os.environ if n.startswith("PINTEREST_")]:
        monkeypatch.delenv(name)


def test_pickers_list_the_boards_then_the_chosen_boards_sections(sandbox, no_pinterest_env):
    values = {"access_token": sandbox.access_token, "base_url": sandbox.base_url}
    boards = runtime.choices("list_pins", "board_id", values)
    assert boards[0] == f"{sandbox.boards[0]['name']} ({sandbox.boards[0]['id']})"
    before = len(sandbox.exchanges)
    assert runtime.choices("list_pins", "board_section_id", values) == []  # no board yet: nothing asked
    assert len(sandbox.exchanges) == before
    sections = runtime.choices("list_pins", "board_section_id", {**values, "board_id": boards[0]})
    expected = [f"{s['name']} ({s['id']})" for s in sandbox.sections(sandbox.boards[0]["id"])]
    assert sections == expected and sections
    assert runtime.dependents("list_pins", "board_id") == ["board_id", "board_section_id"]
    assert runtime.dependents("list_pins", None) == ["board_id", "board_section_id"]


def test_an_invalid_input_or_a_missing_token_sends_nothing(sandbox, no_pinterest_env):
    values = {"access_token": sandbox.access_token, "base_url": sandbox.base_url}
    with pytest.raises(runtime.ActionFailed, match="board_id"):
        runtime.run_action(
            "create_pin", {**values, "board_id": "not digits", "title": "t", "media_url": "https://x.io/a.jpg"}
        )
    with pytest.raises(runtime.NodeError, match="^access_token: "):
        runtime.run_action("list_boards", {"base_url": sandbox.base_url})
    assert sandbox.exchanges == []


def test_an_empty_base_url_variable_is_refused_as_on_the_command_line(sandbox, no_pinterest_env, monkeypatch):
    monkeypatch.setenv("PINTEREST_BASE_URL", " ")
    with pytest.raises(runtime.NodeError, match=r"\$PINTEREST_BASE_URL is empty"):
        runtime.run_action("list_boards", {"access_token": sandbox.access_token})
    monkeypatch.setenv("PINTEREST_BASE_URL", sandbox.base_url)
    assert runtime.run_action("list_boards", {"access_token": sandbox.access_token})["boards"]


def test_wired_text_and_labels_become_the_plugins_inputs():
    class Message:  # what a Parser node sends: an object with text
        def __init__(self, text):
            self.text = text

    item = runtime.entry("list_pins")
    values = {"board_id": Message(" 397233545249\n"), "page_size": "10", "bookmark": "", "fetch_all": False}
    assert runtime.action_inputs(item, values) == {"board_id": "397233545249", "page_size": 10, "fetch_all": False}
    analytics = runtime.entry("get_pins_analytics")
    assert runtime.action_inputs(analytics, {"pin_ids": ["1", " ", "2"], "metric_types": []}) == {"pin_ids": ["1", "2"]}
    with pytest.raises(runtime.NodeError, match="^items: not a JSON"):
        runtime.action_inputs(runtime.entry("create_carousel_pin"), {"items": "[{"})


def test_a_poll_reports_each_new_pin_once_and_keeps_its_state_in_the_named_file(sandbox, tmp_path, no_pinterest_env):
    board = sandbox.boards[0]["id"]
    values = {"access_token": sandbox.access_token, "base_url": sandbox.base_url, "board_id": board}
    state = tmp_path / "new_pin.state"
    assert runtime.poll("new_pin", {**values, "state_file": str(state)}) == []  # the first poll primes
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    pin = runtime.run_action(
        "create_pin", {**values, "title": "Polled", "media_url": "https://images.example.com/polled.jpg"}
    )
    events = runtime.poll("new_pin", {**values, "state_file": str(state)})
    assert [event["id"] for event in events] == [pin["id"]]
    assert runtime.poll("new_pin", {**values, "state_file": str(state)}) == []
    with pytest.raises(runtime.NodeError, match="^state_file: "):
        runtime.poll("new_pin", values)


# --- with Langflow's engine (lfx) --------------------------------------------------------------


def lfx_node(name):
    """A node class as Langflow makes it from a flow's stored source."""
    from lfx.custom.eval import eval_custom_component_code

    code = (PACKAGE / "pinterest" / f"{name}.py").read_text()
    return eval_custom_component_code(code), code


def test_langflow_loads_every_node_of_the_installed_extension():
    needs_lfx()
    from lfx.extension.loader._startup import load_installed_extensions

    (loaded,) = [r for r in load_installed_extensions() if r.extension_id == "modulex-pinterest"]
    assert loaded.errors == []
    assert sorted(c.namespaced_id for c in loaded.components) == sorted(
        f"ext:pinterest:{generate.class_name(name)}@official" for name in ACTIONS + TRIGGERS
    )


def test_langflow_shows_the_fields_in_the_manifests_order_with_their_types():
    needs_lfx()
    from lfx.custom.custom_component.component import Component
    from lfx.custom.utils import build_custom_component_template

    cls, code = lfx_node("list_pins")
    template, _ = build_custom_component_template(Component(_code=code))
    assert template["field_order"][:6] == [
        "board_id",
        "board_section_id",
        "page_size",
        "bookmark",
        "fetch_all",
        "max_items",
    ]
    fields = template["template"]
    assert fields["board_id"]["required"] and fields["board_id"]["_input_type"] == "DropdownInput"
    assert fields["page_size"]["type"] == "int" and fields["page_size"]["advanced"]
    assert fields["access_token"]["password"] and fields["access_token"]["value"] == "PINTEREST_ACCESS_TOKEN"
    assert fields["credential_store"]["password"] and not fields["credential_store"]["load_from_db"]
    assert [(o["name"], o["types"]) for o in template["outputs"]] == [("output", ["JSON"]), ("rows", ["Table"])]


def test_a_placed_node_fills_its_pickers_and_a_chosen_board_refills_the_sections(sandbox, no_pinterest_env):
    needs_lfx()
    from lfx.schema.dotdict import dotdict

    cls, code = lfx_node("list_pins")
    node = cls(_code=code)
    node.set(access_token=sandbox.access_token, base_url=sandbox.base_url)
    config = dotdict(node.to_frontend_node()["data"]["node"]["template"])
    config = node.update_build_config(config, None, None)
    first = config["board_id"]["options"][0]
    assert first == f"{sandbox.boards[0]['name']} ({sandbox.boards[0]['id']})"
    assert config["board_section_id"]["options"] == []
    config["board_id"]["value"] = first
    config = node.update_build_config(config, first, "board_id")
    assert config["board_section_id"]["options"][0].endswith(f"({sandbox.sections(sandbox.boards[0]['id'])[0]['id']})")
    fresh = dotdict(node.to_frontend_node()["data"]["node"]["template"])
    # The editor asks again for the token field with the global variable's NAME as its value (load_from_db):
    # the pickers still ask with the token Langflow resolved from it, not with that name (a 401).
    fresh["access_token"].update(value="PINTEREST_ACCESS_TOKEN", load_from_db=True)  # as the editor's template has it
    fresh = node.update_build_config(fresh, "PINTEREST_ACCESS_TOKEN", "access_token")
    assert fresh["board_id"]["options"][0] == first, fresh["board_id"].get("placeholder")


def test_a_renamed_field_reaches_the_plugin_under_its_own_name(sandbox, no_pinterest_env):
    needs_lfx()
    cls, code = lfx_node("create_board")
    node = cls(_code=code)
    node.set(access_token=sandbox.access_token, base_url=sandbox.base_url, name_input="Drafts", privacy="SECRET")
    node.set(description_input="Ideas to try")
    board = node.action_data().data
    assert (board["name"], board["description"], board["privacy"]) == ("Drafts", "Ideas to try", "SECRET")


def test_a_video_pin_from_a_local_file_shows_its_upload_in_the_nodes_status(sandbox, tmp_path, no_pinterest_env):
    needs_lfx()
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(200_000))
    cls, code = lfx_node("create_video_pin")
    node = cls(_code=code)
    node.set(access_token=sandbox.access_token, base_url=sandbox.base_url, file_roots=[str(tmp_path)])
    node.set(board_id=sandbox.boards[0]["id"], title="A clip", video_path=str(tmp_path / "clip.mp4"))
    node.set(cover_key_frame_time="1")
    pin = node.action_data().data
    assert pin["success"] and pin["media_status"] == "succeeded"
    logged = [str(entry.message) for entry in node._logs]
    assert "uploading: 0.2 of 0.2 MB (100%)" in logged, logged  # the words every face uses (host/progress.py)
    assert any(text.startswith("processing media ") for text in logged), logged


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def test_an_image_pin_from_a_previous_nodes_base64_or_a_file_under_the_allowed_folders(
    sandbox, tmp_path, no_pinterest_env
):
    import base64

    class Message:  # a previous node's text output
        def __init__(self, text):
            self.text = text

    values = {"access_token": sandbox.access_token, "base_url": sandbox.base_url, "board_id": sandbox.boards[0]["id"]}
    encoded = Message(base64.b64encode(PNG).decode())
    made = runtime.run_action(
        "create_pin_from_file", {**values, "title": "From base64", "image_base64": encoded, "content_type": "image/png"}
    )
    assert sandbox.get_pin(made["id"])["title"] == "From base64"
    (tmp_path / "chart.png").write_bytes(PNG)
    before = len(sandbox.exchanges)
    with pytest.raises(runtime.ActionFailed, match="file_path"):  # no allowed folder: refused, nothing sent
        runtime.run_action("create_pin_from_file", {**values, "title": "t", "file_path": str(tmp_path / "chart.png")})
    assert len(sandbox.exchanges) == before
    allowed = {
        **values,
        "file_roots": [str(tmp_path)],
        "title": "From a file",
        "file_path": str(tmp_path / "chart.png"),
    }
    assert sandbox.get_pin(runtime.run_action("create_pin_from_file", allowed)["id"])["title"] == "From a file"


def test_settings_fields_are_read_as_the_plugin_takes_them(no_pinterest_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    manifest = runtime.manifest()
    offered = runtime.offered_settings(manifest, runtime.entry("create_video_pin")["input_schema"])
    expected = [
        s["name"] for s in manifest["settings"] if "cli" in s.get("faces", []) or s["name"] in runtime.MEDIA_SETTINGS
    ]
    assert [s["name"] for s in offered] == expected and expected[-2:] == ["file_roots", "allow_private_network"]
    assert "file_roots" not in {
        s["name"] for s in runtime.offered_settings(manifest, runtime.entry("list_pins")["input_schema"])
    }
    values = {"access_token": "t", "timeout": "10", "deadline": "", "max_retries": "2", "file_roots": ["clips"]}
    credentials, store, settings = runtime.connection(values, offered)
    assert credentials == {"mode": "access_token", "access_token": "t"} and store is None
    assert settings == {"timeout": 10, "max_retries": 2, "file_roots": [str(tmp_path / "clips")]}
    assert runtime.connection({**values, "timeout": "[5, 30]"}, offered)[2]["timeout"] == [5, 30]
    with pytest.raises(runtime.NodeError, match="^deadline: not a number"):
        runtime.connection({**values, "deadline": "soon"}, offered)
    with pytest.raises(runtime.NodeError, match="^credential_store: "):
        runtime.connection({"credential_store": str(tmp_path / "no-such-store.json")}, offered)


def test_oauth_through_a_credential_store_refreshes_once_and_stores_the_rotation(sandbox, tmp_path, no_pinterest_env):
    import time

    from modulex_pinterest.host import CredentialsFile
    from test_oauth import authorize

    path = tmp_path / "pinterest.json"
    grant = {**authorize(sandbox), "expires_at": int(time.time()) - 60}  # expired: the first call refreshes
    CredentialsFile(str(path)).save(grant)
    before = len(sandbox.exchanges)  # after the authorization code's exchange
    values = {"credential_store": str(path), "access_token": "", "base_url": sandbox.base_url}
    assert runtime.run_action("list_boards", values)["boards"]
    stored = CredentialsFile(str(path)).read()
    assert stored["refresh_token"] != grant["refresh_token"]  # rotated, and kept where every worker reads it
    assert stored["expires_at"] > time.time()
    assert runtime.run_action("list_boards", values)["boards"]
    assert len([e for e in sandbox.exchanges[before:] if e.path.endswith("/oauth/token")]) == 1  # one refresh


def test_pickers_refresh_as_the_editor_asks(sandbox, no_pinterest_env):
    board, other = sandbox.boards[0], sandbox.boards[1]
    section = sandbox.sections(board["id"])[0]
    values = {"access_token": sandbox.access_token, "base_url": sandbox.base_url}

    def placed():
        return {"board_id": {"options": [], "value": ""}, "board_section_id": {"options": [], "value": ""}}

    config = placed()
    runtime.refresh_pickers("list_pins", config, values, "board_section_id")  # the editor's last question only
    assert config["board_id"]["options"][0] == f"{board['name']} ({board['id']})"  # still filled
    assert config["board_section_id"]["options"] == []
    config = placed()
    config["board_id"]["value"] = board["id"]  # typed (or saved) as a bare id
    runtime.refresh_pickers("list_pins", config, {**values, "board_id": board["id"]}, None)
    assert config["board_id"]["value"] == f"{board['name']} ({board['id']})"  # shown as its choice
    assert f"{section['name']} ({section['id']})" in config["board_section_id"]["options"]
    config["board_section_id"]["value"] = f"{section['name']} ({section['id']})"
    chosen = f"{other['name']} ({other['id']})"
    runtime.refresh_pickers("list_pins", config, {**values, "board_id": chosen}, "board_id")
    assert config["board_id"]["value"] == f"{board['name']} ({board['id']})"  # left as the editor set it
    assert config["board_section_id"]["value"] == ""  # the other board has no such section
    assert config["board_section_id"]["options"] == [f"{s['name']} ({s['id']})" for s in sandbox.sections(other["id"])]
    config = placed()
    runtime.refresh_pickers("list_pins", config, {"base_url": sandbox.base_url}, None)
    assert config["board_id"]["options"] == [] and config["board_id"]["placeholder"].startswith(
        "no choices: access_token"
    )
    config = placed()  # placed while Base URL named a port nothing listens on, then set to the sandbox's
    with socket.socket() as bound:  # bound, not listening: connecting is refused
        bound.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{bound.getsockname()[1]}/v5"
        runtime.refresh_pickers("list_pins", config, {**values, "base_url": nowhere}, None)
    assert config["board_id"]["options"] == [] and "Could not reach" in config["board_id"]["placeholder"]
    runtime.refresh_pickers("list_pins", config, values, "base_url")
    assert config["board_id"]["options"][0] == f"{board['name']} ({board['id']})"


def test_polls_of_one_state_file_take_turns_so_two_workers_report_a_pin_once(sandbox, tmp_path, no_pinterest_env):
    import threading

    board = sandbox.boards[0]["id"]
    values = {"access_token": sandbox.access_token, "base_url": sandbox.base_url, "board_id": board}
    values["state_file"] = str(tmp_path / "shared.state")
    assert runtime.poll("new_pin", values) == []
    pin = runtime.run_action("create_pin", {**values, "title": "Once", "media_url": "https://images.example.com/1.jpg"})
    found, start = [], threading.Barrier(4)

    def worker():
        start.wait()
        found.extend(event["id"] for event in runtime.poll("new_pin", values))

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(60)
    assert not any(thread.is_alive() for thread in workers), "a poll never got its turn"
    assert found == [pin["id"]]
