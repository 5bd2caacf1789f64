"""The host settings, declared once in plugin.yaml's ``settings`` list: what the plugin applies
(defaults, types, bounds, the special rules), what the faces offer (CLI flags, Airflow extra
keys and form fields), what the manifest schema refuses, and the CLI's exit code for a refused
setting, decided by the failure kind the plugin reports and never by its words."""

import copy

import jsonschema
import pytest

from conftest import PLUGIN
from modulex_pinterest import contract
from modulex_pinterest.airflow import conn_fields, get_provider_info, offered_settings, setting_fields
from modulex_pinterest.apps import flags
from modulex_pinterest.apps.cli import main
from modulex_pinterest.apps.parser import build_parser
from modulex_pinterest.host import Host
from modulex_pinterest.host.declared import declared_settings
from modulex_pinterest.plugin import settings as plugin_settings
from modulex_pinterest.plugin.settings import Settings, check_value, declarations

READ_TODAY = {
    "base_url",
    "token_url",
    "timeout",
    "max_retries",
    "deadline",
    "max_retry_wait",
    "retry_backoff",
    "rate_limit",
    "file_roots",
    "allow_private_network",
}
CONNECTION_COMMANDS = [("run", "list_boards"), ("check",), ("options", "list_pins", "board_id"), ("mcp",)]
AUTH_COMMANDS = [("auth", "refresh", "--credentials", "x.json")]


@pytest.fixture(scope="module")
def manifest():
    """The plugin's manifest as a face sees it: through the reference host."""
    return Host().manifest(PLUGIN)


def declared(manifest, name):
    (entry,) = [entry for entry in manifest["settings"] if entry["name"] == name]
    return entry


def test_plugin_yaml_declares_each_setting_the_plugin_reads_once(manifest):
    names = [entry["name"] for entry in manifest["settings"]]
    assert sorted(names) == sorted(READ_TODAY) and len(names) == len(set(names))
    for entry in manifest["settings"]:
        assert not ("default" in entry and "default_from" in entry), entry["name"]  # one statement of the default
        assert entry["description"].strip(), entry["name"]
    assert declarations()["base_url"].default == manifest["api"]["base_url"]
    assert declarations()["rate_limit"].default == manifest["api"]["rate_limit"]


def test_every_declared_default_is_a_value_its_own_declaration_accepts():
    for name, entry in declarations().items():
        if entry.default is not None:
            default = list(entry.default) if isinstance(entry.default, tuple) else entry.default
            assert check_value(entry, default) == default, name


def test_without_settings_the_plugin_applies_the_declared_defaults(manifest):
    applied = Settings()
    default = {name: entry.default for name, entry in declarations().items()}
    assert applied.base_url == manifest["api"]["base_url"] == default["base_url"]
    assert applied.rate_limit == manifest["api"]["rate_limit"] == default["rate_limit"]
    assert applied.timeout == tuple(default["timeout"])
    assert (applied.max_retries, applied.deadline) == (default["max_retries"], default["deadline"])
    assert (applied.max_wait, applied.backoff) == (default["max_retry_wait"], default["retry_backoff"])
    assert applied.file_roots == tuple(default["file_roots"]) == ()
    assert applied.allow_private_network is default["allow_private_network"] is False
    (oauth,) = [mode for mode in manifest["credentials"] if mode["mode"] == "oauth2"]
    assert applied.token_url == oauth["token_url"]


def test_given_settings_are_applied_and_unknown_keys_ignored(tmp_path):
    applied = Settings(
        {"timeout": 2, "deadline": 9, "max_retries": 0, "rate_limit": 0.5, "file_roots": [str(tmp_path)], "x": 1}
    )
    assert applied.timeout == (2.0, 2.0) and applied.deadline == 9.0 and applied.max_retries == 0
    assert applied.rate_limit == 0.5 and applied.file_roots == (tmp_path.resolve(),)
    connect = declarations()["timeout"].default[0]
    assert Settings({"timeout": 600}).timeout == (connect, 600.0)  # one number: connecting takes the default's
    assert Settings({"timeout": [1, 2]}).timeout == (1.0, 2.0)


def test_a_custom_base_url_moves_the_token_endpoint_and_a_given_token_url_wins(manifest):
    (oauth,) = [mode for mode in manifest["credentials"] if mode["mode"] == "oauth2"]
    production = manifest["api"]["base_url"]
    assert oauth["token_url"].startswith(production + "/")  # what moving it relies on
    moved = Settings({"base_url": "http://127.0.0.1:9/v5/"})
    assert moved.token_url == "http://127.0.0.1:9/v5" + oauth["token_url"][len(production) :]
    assert Settings({"base_url": production}).token_url == oauth["token_url"]
    given = Settings({"base_url": "http://127.0.0.1:9/v5", "token_url": "http://localhost:8/token"})
    assert given.token_url == "http://localhost:8/token"


def _refused_values(entry):
    """Values the declaration refuses: the wrong type, and past each bound."""
    wrong = {"string": 5, "number": "5", "integer": 2.5, "boolean": "yes", "array": "x"}
    values = [wrong[entry.types[0]]]
    if entry.exclusive_minimum is not None:
        values += [entry.exclusive_minimum, float("inf")]
    if entry.minimum is not None:
        values.append(entry.minimum - 1)
    return values


@pytest.mark.parametrize("name", sorted(READ_TODAY))
def test_a_refused_value_names_the_setting_through_the_host(name, host, sandbox):
    entry = declarations()[name]
    credentials = {"mode": "access_token", "access_token": sandbox.access_token}
    for value in _refused_values(entry):
        with pytest.raises(ValueError, match=f"^setting '{name}' must "):
            Settings({name: value})
        reports = []
        base = {} if name == "base_url" else {"base_url": sandbox.base_url}
        output = host.run(
            PLUGIN, "list_boards", {}, credentials, dict(base, **{name: value}), report_failure=reports.append
        )
        assert output["success"] is False and output["error"].startswith(f"Invalid settings: setting '{name}' "), value
        assert [report["kind"] for report in reports] == ["settings"], value
    assert sandbox.exchanges == []


def test_the_manifest_schema_refuses_an_unknown_setting_key_or_type():
    schema = plugin_settings.manifest.load_schema("schemas/manifest.schema.json")
    raw = plugin_settings.manifest.raw_manifest()
    jsonschema.validate(raw, schema)
    for typo in ({"defualt": 3}, {"type": "float"}, {"type": ["number", "tuple"]}, {"faces": ["cli", "celery"]}):
        bad = copy.deepcopy(raw)
        bad["settings"][2].update(typo)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    bad = copy.deepcopy(raw)
    del bad["settings"][0]["description"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_each_setting_declared_for_the_cli_is_a_flag_of_each_command_that_calls_pinterest(manifest):
    cli_settings = declared_settings(manifest, "cli")
    assert {entry["name"] for entry in cli_settings} >= {"base_url", "timeout", "deadline", "max_retries", "rate_limit"}
    parser = build_parser(manifest)
    for command in CONNECTION_COMMANDS + AUTH_COMMANDS:
        argv = list(command)
        for entry in cli_settings:
            value = {"string": "http://127.0.0.1:9/v5", "integer": "2"}.get(str(entry["type"]), "1.5")
            argv += ["--" + entry["name"].replace("_", "-"), value]
        args = parser.parse_args(argv)
        chosen = flags.settings(args, cli_settings)
        given = {name for name in chosen if name != "file_roots"}  # run's own: the current directory
        assert given == {entry["name"] for entry in cli_settings}, command
        assert chosen["max_retries"] == 2 and chosen["deadline"] == 1.5, command


def test_the_cli_help_of_a_setting_is_its_declared_description(manifest, capsys):
    with pytest.raises(SystemExit):
        build_parser(manifest).parse_args(["run", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for entry in declared_settings(manifest, "cli"):
        description = " ".join(entry["description"].split())
        assert f"--{entry['name'].replace('_', '-')} " in shown
        assert description[1:] in shown, entry["name"]


def test_the_airflow_extra_keys_and_form_fields_are_the_settings_declared_for_airflow(manifest):
    expected = [entry["name"] for entry in manifest["settings"] if "airflow" in entry.get("faces", [])]
    assert [entry["name"] for entry in offered_settings()] == expected
    assert set(expected) >= {"deadline", "timeout", "max_retries", "max_retry_wait", "rate_limit"}
    fields = setting_fields()
    assert list(fields) == expected
    for name in expected:
        assert fields[name]["description"] == declared(manifest, name)["description"]
    (conn_type,) = get_provider_info()["connection-types"]
    assert conn_type["conn-fields"] == conn_fields() and set(expected) <= set(conn_type["conn-fields"])
    assert conn_type["ui-field-behaviour"]["placeholders"]["host"] == manifest["api"]["base_url"]


class Reporting:
    """A plugin whose credential check and action fail with a chosen failure kind and words."""

    kind = "settings"
    error = "refused"

    @contract.hookimpl
    def modulex_plugin_manifest(self):
        return {
            "id": PLUGIN,
            "contract_version": contract.CONTRACT_VERSION,
            "credentials": [],
            "actions": [{"name": "measure", "title": "Measure", "description": "A number."}],
            "settings": [{"name": "base_url", "type": "string", "description": "The URL.", "faces": ["cli"]}],
        }

    def _fail(self, host):
        host.report_failure({"kind": self.kind, "status": None, "retry_after": None, "retryable": False})
        return {"success": False, "error": self.error}

    @contract.hookimpl
    def modulex_check_credentials(self, plugin, credentials, settings, host):
        return dict(self._fail(host), account=None) if plugin == PLUGIN else None

    @contract.hookimpl
    def modulex_execute_action(self, plugin, action, inputs, credentials, settings, host):
        return self._fail(host) if plugin == PLUGIN else None


@pytest.mark.parametrize("command", [["check"], ["run", "measure"]])
def test_the_cli_exit_code_comes_from_the_failure_kind_not_the_words(command, capsys):
    plugin = Reporting()
    host = Host(plugins=[plugin], autoload=False)
    argv = [*command, "--base-url", "https://example.com/v5"]
    plugin.kind, plugin.error = "settings", "words the CLI has never seen"
    assert main(argv, host=host) == 2
    assert "words the CLI has never seen" in capsys.readouterr().err
    plugin.kind, plugin.error = "credentials", "Invalid settings: words that once meant exit 2"
    assert main(argv, host=host) == 1


def test_a_bad_base_url_is_still_a_usage_error(capsys, sandbox):
    assert main(["check", "--base-url", "http://example.com/v5"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "Invalid settings: --base-url must use https unless its host is loopback" in err
    assert sandbox.exchanges == []
