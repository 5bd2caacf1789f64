"""The docs hold together: the generated reference is current, every relative
link lands, and the marked Python blocks run.

- ``docs/actions.md`` is rendered from the manifest as a host sees it
  (``modulex_pinterest.apps.reference``); the committed file must equal it.
- Every relative link in README.md and docs/*.md names an existing file, and
  a ``#anchor`` into a markdown file names one of its headings (GitHub's
  slugs).
- Python blocks marked ``<!-- tested -->`` run, each in a fresh interpreter
  from an empty folder, with ``PINTEREST_BASE_URL`` and
  ``PINTEREST_ACCESS_TOKEN`` set to a sandbox's. (Shell blocks:
  ``tests/test_readme.py``.)
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modulex_pinterest.apps import reference

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = ROOT / "docs" / "actions.md"
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
TESTED_PYTHON = re.compile(r"<!-- tested -->\s*\n```python\n(.*?)```", re.S)


def _documents():
    if not (ROOT / "README.md").is_file():
        pytest.skip("no checkout beside the tests (README.md not found)")
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path):
    anchors, seen = set(), {}
    for _, heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(path):
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return LINK.findall(text)


def test_actions_md_is_what_the_manifest_renders(session_host):
    if not ACTIONS.parent.is_dir():
        pytest.skip("no checkout beside the tests (docs/ not found)")
    rendered = reference.render(session_host.manifest("pinterest"))
    committed = ACTIONS.read_text(encoding="utf-8") if ACTIONS.is_file() else ""
    assert committed == rendered, f"docs/actions.md is out of date: run `{reference.COMMAND}` and commit it"


def test_the_reference_renders_every_action_and_trigger_and_settings_when_declared(session_host):
    manifest = session_host.manifest("pinterest")
    text = reference.render(manifest)
    for item in [*manifest["actions"], *manifest.get("triggers", [])]:
        assert f"### `{item['name']}`" in text
        assert f"`{item['request']['method']} {item['request']['path']}`" in text
    assert ("## Settings" in text) == bool(manifest.get("settings"))
    declared = dict(manifest, settings=[{"name": "deadline", "type": "number", "default": 120, "description": "a|b"}])
    assert "| `deadline` | number | `120` |  | a\\|b |" in reference.render(declared)


def test_every_relative_link_resolves():
    broken = []
    for doc in _documents():
        for target in _links(doc):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
                continue
            file_part, _, anchor = target.partition("#")
            path = (doc.parent / file_part).resolve() if file_part else doc
            where = f"{doc.relative_to(ROOT)}: ({target})"
            if not path.exists():
                broken.append(f"{where}: no such file")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{where}: no heading #{anchor} in {path.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


def test_the_docs_link_checker_sees_links_and_headings():
    assert _slug("What a host offers: `PluginHost`") == "what-a-host-offers-pluginhost"
    assert _slug("### `list_boards`".lstrip("# ")) == "list_boards"
    assert _links(ROOT / "README.md"), "no links found in README.md"


def _python_blocks():
    blocks = []
    for doc in _documents():
        for number, block in enumerate(TESTED_PYTHON.findall(doc.read_text(encoding="utf-8")), 1):
            name = str(doc.relative_to(ROOT))
            blocks.append(pytest.param(name, block, id=f"{name}-{number}"))
    return blocks


def test_the_readme_has_a_tested_python_block():
    assert any(p.id.startswith("README.md") for p in _python_blocks())


@pytest.mark.parametrize(("name", "block"), _python_blocks() if (ROOT / "README.md").is_file() else [])
def test_the_python_blocks_run_as_written(name, block, sandbox, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINTEREST_", "MODULEX_"))}
    env.update(PINTEREST_BASE_URL=sandbox.base_url, PINTEREST_ACCESS_TOKEN=sandbox.access_token)
    done = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    if name == "README.md":
        assert done.stdout.startswith("True "), done.stdout  # the example prints the action's success
