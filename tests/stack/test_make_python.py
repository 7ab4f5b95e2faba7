"""The Python version, stated once (pyproject.toml's requires-python), and checked by every make target that runs Python.

The targets run for real in a copy of the checkout, with PYTHON (or the venv) pointing at a real older
interpreter, pyenv's 3.9 (macOS's /usr/bin/python3 is 3.9): each stops with the check's message before it
runs anything, creates nothing, and needs no Docker.
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT, venv_inputs

MAKEFILE = REPO_ROOT / "Makefile"
OLD_PYTHON = Path.home() / ".pyenv" / "versions" / "3.9.18" / "bin" / "python3.9"
NEWER_PYTHON = Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python3.13"
# What make needs to get as far as its first recipe line: the venv's inputs (the stamp's prerequisites),
# the compose files (the Makefile greps them), the scripts and pyproject.toml.
CHECKOUT_FILES = tuple(dict.fromkeys((
    "Makefile", "pyproject.toml", ".python-version", ".env.example", *venv_inputs(),
    "docker-compose.yml", "docker-compose.tls.yml", "docker-compose.cluster.yml", "docker-compose.own-app.yml")))
INSTALL_HINT = ("Install 3.12 (pyenv install 3.12, which this repository's .python-version then selects; "
                "on macOS also: brew install python@3.12)")


def requires(interpreter: Path) -> Path:
    if not interpreter.is_file():
        pytest.skip(f"{interpreter} is not installed here (pyenv)")
    return interpreter


@pytest.fixture
def checkout(tmp_path) -> Path:
    for name in CHECKOUT_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(REPO_ROOT / "scripts", tmp_path / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO_ROOT / "app" / "config", tmp_path / "app" / "config", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def make(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=checkout, capture_output=True, text=True,
                          timeout=120)


def created(checkout: Path) -> set[str]:
    """What a run left beside the checkout's own files."""
    own = {name.split("/")[0] for name in CHECKOUT_FILES} | {"scripts", "app"}
    return {path.name for path in checkout.iterdir()} - own


def test_the_python_version_is_stated_once_and_everything_else_follows_it():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    printed = subprocess.run(
        ["make", "--no-print-directory", "-s", "--eval", "print-minimum: ; @echo '$(PYTHON_MIN)'", "print-minimum"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=True,
    )

    assert pyproject["project"]["requires-python"] == ">=3.12"
    assert printed.stdout == "3.12\n"
    assert (REPO_ROOT / ".python-version").read_text(encoding="utf-8") == "3.12\n"
    assert pyproject["tool"]["ruff"]["target-version"] == "py312"
    # The README's quick start states it too: tests/stack/test_docs.py reads it against requires-python.


def test_every_target_that_runs_python_checks_it_first():
    """Each rule whose recipe runs $(PYTHON) (or $(STACK_PROFILE), which is it) or $(VENV_PYTHON) starts with the check."""
    rules = re.findall(r"^([A-Za-z$][^:\n=]*):(?!=)[^\n]*\n((?:\t[^\n]*\n|#[^\n]*\n|ifeq[^\n]*\n|endif\n)*)",
                       MAKEFILE.read_text(encoding="utf-8"), re.M)
    checked = {}
    for target, recipe in rules:
        lines = [line for line in recipe.splitlines() if line.startswith("\t")]
        runs = {name for name in ("PYTHON", "VENV_PYTHON") if f"$({name})" in recipe}
        if "$(STACK_PROFILE)" in recipe:
            runs.add("PYTHON")
        if runs:
            assert lines[0] == f"\t$(call require_python,{'PYTHON' if 'PYTHON' in runs else 'VENV_PYTHON'})", target
            checked[target] = lines[0].removeprefix("\t$(call require_python,").removesuffix(")")

    assert checked == {
        "$(VENV)/.installed": "PYTHON",
        "test": "VENV_PYTHON",
        "run-app": "VENV_PYTHON",
        "env": "PYTHON",
        "up": "PYTHON",
        "ps": "PYTHON",
        "drill": "VENV_PYTHON",
        "check-logs": "VENV_PYTHON",
        "test-integration": "VENV_PYTHON",
        "bench": "VENV_PYTHON",
        "bench-live": "VENV_PYTHON",
    }


@pytest.mark.parametrize(
    ("goal", "variables"),
    [
        ("env", ()),
        # env, its prerequisite, stops first: no Docker check, nothing of the stack runs.
        ("up", ()),
        ("ps", ()),
        # No venv yet: building it is the first thing, and its first line is the check.
        ("drill", ("SCENARIO=brute-force", "OFFLINE=1")),
        ("run-app", ()),
        ("test", ()),
    ],
)
def test_an_older_python_stops_each_target_before_it_does_anything(checkout, goal, variables):
    old = requires(OLD_PYTHON)

    result = make(checkout, goal, *variables, f"PYTHON={old}")

    assert result.returncode == 2, result.stdout
    assert result.stderr.splitlines()[0] == (
        f"error: make {goal} needs Python 3.12 or newer (pyproject.toml, requires-python); PYTHON={old} is Python "
        f"3.9.18. {INSTALL_HINT}, then run: PYTHON=python3.12 make {goal}"
    )
    assert "docker" not in result.stderr
    assert result.stdout == ""
    assert created(checkout) == set()


def test_a_python_named_on_the_path_is_shown_with_where_it_is(checkout, tmp_path):
    old = requires(OLD_PYTHON)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(old)

    result = make(checkout, "env", "PYTHON=python3", f"PATH={bin_dir}:/usr/bin:/bin")

    assert result.returncode == 2
    assert (f"; PYTHON=python3 is Python 3.9.18 ({bin_dir / 'python3'}). {INSTALL_HINT}, then run: "
            "PYTHON=python3.12 make env") in result.stderr
    assert not (checkout / ".env").exists()


@pytest.mark.parametrize("python", ["/nonexistent/python3.12", ""], ids=["missing", "empty"])
def test_a_python_that_does_not_run_is_named(checkout, python):
    result = make(checkout, "env", f"PYTHON={python}")

    assert result.returncode == 2
    found = "PYTHON is empty" if not python else f"PYTHON={python} does not run (not installed, or not a Python interpreter)"
    assert result.stderr.splitlines()[0] == (
        f"error: make env needs Python 3.12 or newer (pyproject.toml, requires-python); {found}. {INSTALL_HINT}, then run: "
        "PYTHON=python3.12 make env"
    )
    assert not (checkout / ".env").exists()


@pytest.mark.parametrize(("goal", "variables"), [("drill", ("SCENARIO=brute-force", "OFFLINE=1")), ("run-app", ()),
                                               ("check-logs", ("LOG_DIR=var/log",))])
def test_a_venv_made_with_an_older_python_is_refused_with_how_to_rebuild_it(checkout, goal, variables):
    old = requires(OLD_PYTHON)
    subprocess.run([str(old), "-m", "venv", "--without-pip", str(checkout / ".venv")], check=True, timeout=60)
    (checkout / ".venv" / ".installed").touch()  # newer than its prerequisites: make does not rebuild it

    result = make(checkout, goal, *variables)

    assert result.returncode == 2, result.stdout
    assert result.stderr.splitlines()[0] == (
        f"error: make {goal} needs Python 3.12 or newer (pyproject.toml, requires-python); VENV_PYTHON=.venv/bin/python "
        f"is Python 3.9.18 ({checkout / '.venv' / 'bin' / 'python'}). {INSTALL_HINT}, then rebuild the venv with it: "
        f"rm -rf .venv && PYTHON=python3.12 make {goal}"
    )
    assert created(checkout) == {".venv"}


@pytest.mark.parametrize("interpreter", [Path(sys.executable), NEWER_PYTHON], ids=["3.12", "3.13"])
def test_the_check_lets_3_12_and_newer_through_silently(interpreter):
    requires(interpreter)

    result = subprocess.run(["sh", "scripts/check_python.sh", "PYTHON", "3.12", "env", str(interpreter)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_make_env_runs_with_a_newer_python(checkout):
    newer = requires(NEWER_PYTHON)

    result = make(checkout, "env", f"PYTHON={newer}")

    assert result.returncode == 0, result.stderr
    assert f"Created {checkout / '.env'} (mode 0600)" in result.stdout
