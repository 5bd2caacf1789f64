"""The first hour with the engine faces: what a newcomer meets where a face cannot run.

``pip install '.[modulex]'`` on Python below 3.12 installs nothing (the
extra's requirement is marked ``python_version >= "3.12"``) and pip says
nothing; the README's check then must end in one clear line, not in a
``ModuleNotFoundError`` from deep inside the face. Where the face can load,
``tests/test_modulex_tools.py`` runs the same check and sees it succeed.
"""

import importlib.util
import platform
import subprocess
import sys

import pytest

from readme_blocks import run_modulex_check

FACE_LOADS = sys.version_info >= (3, 12) and importlib.util.find_spec("modulex_integrations") is not None


@pytest.mark.skipif(FACE_LOADS, reason="the ModuleX face loads here: tests/test_modulex_tools.py runs the check")
def test_the_readme_modulex_check_says_in_one_line_why_the_face_cannot_load(tmp_path):
    proc = run_modulex_check(tmp_path)  # an unrelated folder: the installed package, not the checkout's
    assert proc.returncode == 1
    assert proc.stdout == ""
    last = proc.stderr.strip().splitlines()[-1]
    if sys.version_info < (3, 12):
        assert last == (
            "ModuleNotFoundError: the ModuleX face needs Python 3.12 or newer (as modulex-integrations does) "
            f"and `pip install '.[modulex]'` in a venv made with it: this is Python {platform.python_version()}"
        )
    else:
        assert last.startswith("ModuleNotFoundError: the ModuleX face needs modulex-integrations, which is not")
        assert "pip install '.[modulex]'" in last
    # Said where the face starts, before anything deeper: no frame of its modules, no bare "No module named".
    assert "manifest.py" not in proc.stderr and "tools.py" not in proc.stderr
    assert "No module named" not in proc.stderr


def test_the_modulex_face_refuses_to_load_here_without_sending_anything_or_half_loading(tmp_path):
    """Where the face cannot load, importing it fails as an ImportError (a runtime skipping the
    integrations it cannot import still skips it) and leaves no half-built module behind."""
    if FACE_LOADS:
        pytest.skip("the ModuleX face loads here")
    code = (
        "import sys\n"
        "try:\n"
        "    import modulex_pinterest.modulex_tools\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error.name, 'modulex_pinterest.modulex_tools' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ModuleNotFoundError", "modulex_integrations", "False"]
