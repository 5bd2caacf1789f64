"""The installed package: discovery, shipped data, and manifest/schema consistency."""

import json
import re
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
import yaml

import modulex_pinterest
from conftest import ACTIONS
from modulex_pinterest import contract
from modulex_pinterest.host import Host, HostError
from modulex_pinterest.plugin.actions import HANDLERS, POLLERS
from modulex_pinterest.plugin.spec import manifest

MISSION_PAGE = Path(__file__).resolve().parents[2] / "shared" / "mission" / "000_1d9c0e84d1cb038b.txt"
ORIGINAL_ACTIONS = ACTIONS[:4]  # the product page's four


HOW_TO_RUN = (
    "install the package (pip install '.[test]', not editable) and run plain `pytest` from the checkout, "
    "not `python -m pytest`, so the tests use the installed package"
)


def test_tests_import_the_installed_package_not_the_checkout():
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    imported = Path(modulex_pinterest.__file__).resolve()
    assert imported.is_relative_to(site_packages), f"the tests imported {imported}: {HOW_TO_RUN}"


def test_manifest_and_schemas_are_read_from_package_data():
    root = Path(str(manifest.data_root())).resolve()
    assert root == Path(modulex_pinterest.__file__).resolve().parent / "data", (
        f"plugin.yaml and schemas/ were read from {root}, not the package data: {HOW_TO_RUN}"
    )
    for action in manifest.raw_manifest()["actions"]:
        assert (root / action["input_schema"]).is_file()
        assert (root / action["output_schema"]).is_file()
    assert (root / manifest.raw_manifest()["icon"]).read_text().startswith("<svg")


def test_entry_point_registers_pinterest_in_the_modulex_group():
    eps = metadata.entry_points(group=contract.ENTRY_POINT_GROUP)
    (ep,) = [ep for ep in eps if ep.name == "pinterest"]
    assert ep.load() is modulex_pinterest.plugin.plugin


def test_host_discovers_the_plugin_and_its_manifest(host):
    assert host.pm.get_plugin("pinterest") is modulex_pinterest.plugin.plugin
    found = host.manifest("pinterest")
    assert found["version"] == modulex_pinterest.__version__ == metadata.version("modulex-pinterest")
    assert [a["name"] for a in found["actions"]] == ACTIONS
    for action in found["actions"]:
        assert action["input_schema"]["type"] == "object"
        assert action["output_schema"]["required"] == ["success"]


def test_host_without_autoload_finds_no_plugin(monkeypatch):
    monkeypatch.setenv("MODULEX_DISABLE_PLUGIN_AUTOLOAD", "1")
    with pytest.raises(HostError, match="no plugin 'pinterest'"):
        Host().manifest("pinterest")


def test_check_pending_catches_a_misspelt_hook():
    class Typo:
        @contract.hookimpl
        def modulex_execute_actoin(self, plugin):
            return None

    import pluggy

    with pytest.raises(pluggy.PluginValidationError):
        Host(plugins=[Typo()], autoload=False)


def test_plugin_yaml_validates_against_the_manifest_schema():
    schema = manifest.load_schema("schemas/manifest.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(manifest.raw_manifest(), schema)
    bad = dict(manifest.raw_manifest(), actoins=[])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_loaded_manifest_validates_too(host):
    schema = manifest.load_schema("schemas/manifest.schema.json")
    jsonschema.validate(host.manifest("pinterest"), schema)


KNOWN_KEYWORDS = {
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "default",
    "pattern",
    "minLength",
    "maxLength",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
    "enum",
    "const",
    "if",
    "then",
    "examples",
    "minimum",
    "maximum",
    "exclusiveMinimum",
}


def _keywords(node, path="#"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("properties", "$defs"):
                yield key, path
                yield from _keywords(value, f"{path}/{key}")
            else:
                for name, sub in value.items():
                    yield from _keywords(sub, f"{path}/{key}/{name}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _keywords(item, f"{path}/{index}")


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(str(manifest.data_root())) / "schemas").glob("*.json")))
def test_every_schema_is_valid_and_uses_only_known_keywords(name):
    schema = manifest.load_schema(f"schemas/{name}")
    jsonschema.Draft202012Validator.check_schema(schema)
    unknown = {
        (key, where)
        for key, where in _keywords(schema)
        if key not in KNOWN_KEYWORDS and not re.search(r"/(enum|const|default|required|examples)(/|$)", where)
    }
    assert not unknown


def test_each_declared_action_has_a_handler_and_each_handler_a_declaration():
    assert list(manifest.spec().actions) == ACTIONS
    assert {action.handler for action in manifest.spec().actions.values()} == set(HANDLERS)
    assert {trigger.handler for trigger in manifest.spec().triggers.values()} == set(POLLERS)


PAGED_DEFAULTS = {"page_size": 25, "fetch_all": False, "max_items": 1000}
INPUT_DEFAULTS = {
    "list_boards": PAGED_DEFAULTS,
    "get_board_sections": PAGED_DEFAULTS,
    "list_pins": PAGED_DEFAULTS,
    "create_pin": {"dry_run": False},
    "create_pin_from_file": {"dry_run": False},
    "create_carousel_pin": {"dry_run": False},
    "create_video_pin": {"dry_run": False},
    "list_account_pins": PAGED_DEFAULTS,
    "search_boards": {"page_size": 25},
    "get_top_pins_analytics": {"sort_by": "IMPRESSION", "num_of_pins": 10},
    "get_pin_analytics": {"metric_types": ["IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK"]},
    "get_pins_analytics": {"metric_types": ["IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK"]},
}
INPUT_DEFAULTS.update({name: {} for name in ACTIONS if name not in INPUT_DEFAULTS})  # the others: nothing defaulted


@pytest.mark.parametrize("action", ACTIONS)
def test_input_schema_properties_have_title_and_description_and_the_documented_defaults(action):
    schema = manifest.load_schema(manifest.spec().actions[action].input_schema)
    assert schema["additionalProperties"] is False
    for name, prop in schema["properties"].items():
        assert prop.get("title") and prop.get("description"), name
    defaults = {name: prop["default"] for name, prop in schema["properties"].items() if "default" in prop}
    assert defaults == INPUT_DEFAULTS[action]


def _page_output_schemas():
    text = MISSION_PAGE.read_text()
    decoder = json.JSONDecoder()
    found = {}
    for match in re.finditer(r"Response\n\n\{", text):
        obj, _ = decoder.raw_decode(text[match.end() - 1 :])
        found[obj["title"]] = obj
    return found


@pytest.mark.skipif(not MISSION_PAGE.is_file(), reason=f"the product page is not at {MISSION_PAGE}")
def test_output_schemas_are_exactly_the_product_pages(host):
    page = _page_output_schemas()
    assert len(page) == 4
    for action in host.manifest("pinterest")["actions"]:
        if action["name"] not in ORIGINAL_ACTIONS:
            continue  # the media actions (issue 14) are not on the product page
        ours = {k: v for k, v in action["output_schema"].items() if k != "$schema"}
        assert ours == page[ours["title"]], action["name"]


def test_scopes_and_requests_match_pinterest_operations():
    by_name = {action["name"]: action for action in manifest.raw_manifest()["actions"]}
    assert by_name["list_boards"]["scopes"] == ["boards:read"]
    assert by_name["create_pin"]["scopes"] == ["boards:read", "boards:write", "pins:read", "pins:write"]
    assert by_name["list_pins"]["scopes"] == ["boards:read", "pins:read"]
    oauth = next(mode for mode in manifest.raw_manifest()["credentials"] if mode["mode"] == "oauth2")
    assert oauth["token_url"] == "https://api.pinterest.com/v5/oauth/token"
    assert oauth["authorization_url"] == "https://www.pinterest.com/oauth/"
    assert [f["name"] for f in oauth["fields"] if f["secret"]] == ["app_secret", "access_token", "refresh_token"]


def test_plugin_yaml_in_package_equals_the_checkout_file_when_present():
    checkout = Path(__file__).resolve().parents[1] / "plugin.yaml"
    if not checkout.is_file():
        pytest.skip("no checkout beside the tests")
    assert yaml.safe_load(checkout.read_text()) == manifest.raw_manifest()


def test_every_hook_is_documented_in_the_readme_with_its_signature():
    import inspect

    readme = Path(__file__).resolve().parents[1] / "README.md"
    if not readme.is_file():
        pytest.skip("no checkout beside the tests")
    text = readme.read_text()
    hooks = [f for name, f in vars(contract).items() if name.startswith("modulex_") and callable(f)]
    assert len(hooks) == 7
    for hook in hooks:
        assert hook.__doc__, hook.__name__
        signature = f"{hook.__name__}({', '.join(inspect.signature(hook).parameters)})"
        assert signature in text, signature


# Which layers each layer may import: the things a person runs -> the reference
# host -> (entry point) -> the plugin -> the contract. The sandbox stands alone.
ALLOWED_IMPORTS = {
    "contract": {"contract"},
    "plugin": {"contract", "plugin"},
    "host": {"contract", "host"},
    "apps": {"contract", "host", "apps", "sandbox"},
    # The engine faces: a person runs them inside Airflow or the ModuleX runtime.
    "airflow": {"contract", "host", "apps", "airflow"},
    "modulex_tools": {"contract", "host", "apps", "modulex_tools"},
    "langflow": {"contract", "host", "langflow"},
    "sandbox": {"sandbox"},
}


def _package_imports():
    """{module: set of modulex_pinterest modules it imports}, function-local imports included."""
    import ast

    root = Path(modulex_pinterest.__file__).resolve().parent
    graph = {}
    for source in root.rglob("*.py"):
        parts = list(source.relative_to(root).with_suffix("").parts)
        package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
        name = ".".join(["modulex_pinterest", *[p for p in parts if p != "__init__"]])
        imported = set()
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ["modulex_pinterest", *package][: len(package) + 2 - node.level]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.startswith("modulex_pinterest"):
                    imported.add(target)
                    imported.update(f"{target}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names if alias.name.startswith("modulex_pinterest"))
        graph[name] = imported
    return graph


def _layer(module):
    parts = module.split(".")
    root_names = {"__version__", "PLUGIN", "MASK"}  # what the package root itself defines, for every layer
    return parts[1] if len(parts) > 1 and parts[1] not in root_names else None  # None: the package root


def test_every_layer_imports_only_the_layers_below_it():
    graph = _package_imports()
    assert {_layer(m) for m in graph} == set(ALLOWED_IMPORTS) | {None}
    wrong = {
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if _layer(module) is not None
        and _layer(target) is not None
        and _layer(target) not in ALLOWED_IMPORTS[_layer(module)]
    }
    assert wrong == set()


def test_the_package_has_no_import_cycle():
    graph = _package_imports()
    modules = set(graph)
    edges = {m: {t for t in targets if t in modules and t != m} for m, targets in graph.items()}
    # A module imports its package's __init__ too; that is not a cycle of ours.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}
    state = {}

    def visit(module, path):
        state[module] = "open"
        for target in edges[module]:
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(target) :] + [target]))
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])


def test_the_engine_faces_add_no_runtime_dependency_to_the_base_install():
    base, by_extra = set(), {}
    for line in metadata.requires("modulex-pinterest") or []:
        name = re.match(r"[A-Za-z0-9._-]+", line).group(0).lower()
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        if extra:
            by_extra.setdefault(extra.group(1), set()).add(name)
        else:
            base.add(name)
    assert base == {"pluggy", "requests", "jsonschema", "pyyaml", "filelock", "fastjsonschema", "requests-toolbelt"}
    assert by_extra["airflow"] == {"apache-airflow"}
    assert by_extra["modulex"] == {"modulex-integrations"}


def test_importing_the_package_host_and_cli_imports_no_engine_library():
    code = (
        "import sys, modulex_pinterest.host, modulex_pinterest.apps.cli, modulex_pinterest.plugin.service\n"
        "engines = ('airflow', 'langchain_core', 'pydantic', 'modulex_integrations')\n"
        "print(sorted(m for m in engines if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
