"""scripts/package_pythons.py: which Pythons make test runs the package's suite on, and how it finds them.

The interpreters are the machine's real ones (pyenv's), reached through folders laid out as PATH and
pyenv lay them out; a missing one is skipped with the reason, or fails the run under CI.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from package_pythons import declared_versions, find_interpreter, requirement_files
from tests.support.paths import PACKAGE_DIR, REPO_ROOT

PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def real_python(version: str) -> Path:
    found = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"pyenv has no Python {version} here")
    return found[-1]


def test_the_oldest_and_newest_come_from_the_packages_classifiers():
    assert declared_versions() == ["3.11", "3.12", "3.13"]
    assert requirement_files("3.13", "3.13") == [PACKAGE_DIR / "requirements-test.txt",
                                                 PACKAGE_DIR / "requirements-newest-django.txt"]
    assert requirement_files("3.11", "3.13") == [PACKAGE_DIR / "requirements-test.txt"]


def test_a_python_on_path_is_taken_when_it_is_that_version(tmp_path):
    (tmp_path / "python3.13").symlink_to(real_python("3.13"))

    assert find_interpreter("3.13", path=str(tmp_path), pyenv_root=tmp_path / "no-pyenv") == str(tmp_path / "python3.13")


def test_a_python_on_path_of_another_version_is_passed_over_for_pyenvs(tmp_path):
    # As a pyenv shim for a version .python-version does not select: it runs, but not as 3.13.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3.13").symlink_to(real_python("3.12"))
    for patch in ("0", "11", "9"):
        folder = tmp_path / "pyenv" / "versions" / f"3.13.{patch}" / "bin"
        folder.mkdir(parents=True)
    (tmp_path / "pyenv" / "versions" / "3.13.11" / "bin" / "python3.13").symlink_to(real_python("3.13"))
    (tmp_path / "pyenv" / "versions" / "3.13.9" / "bin" / "python3.13").symlink_to(real_python("3.13"))

    # The newest patch release that runs, by number (11 after 9).
    assert find_interpreter("3.13", path=str(tmp_path / "bin"), pyenv_root=tmp_path / "pyenv") == str(
        tmp_path / "pyenv" / "versions" / "3.13.11" / "bin" / "python3.13")


def test_none_found_is_none(tmp_path):
    assert find_interpreter("3.13", path=str(tmp_path), pyenv_root=tmp_path) is None


@pytest.mark.parametrize("ci, status", [("", 0), ("true", 1)])
def test_a_missing_python_is_skipped_with_the_reason_but_fails_under_ci(tmp_path, ci, status):
    env = {**os.environ, "PATH": str(tmp_path), "PYENV_ROOT": str(tmp_path), "CI": ci}

    done = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "package_pythons.py")], env=env,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == status, done.stdout + done.stderr
    reason = "Python 3.11 is not installed (python3.11 on PATH, or pyenv install 3.11)"
    if ci:
        assert f"error: package suite on Python 3.11: {reason}; CI must run it" in done.stderr
        assert "error: the package suite did not pass on Python 3.11, 3.13" in done.stderr
    else:
        assert f"package suite on Python 3.11: skipped, {reason}" in done.stdout
        assert "package suite on Python 3.13: skipped, Python 3.13 is not installed" in done.stdout


def test_make_test_runs_the_package_suite_here_then_on_the_other_pythons_then_the_stacks(tmp_path):
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    # -n prints the recipe; -o takes the venv as made. Not as a sub-make of make test's own.
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "test", "PYTEST_ARGS="], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=30)

    lines = [line for line in done.stdout.splitlines() if "pytest" in line or "package_pythons" in line]
    assert done.returncode == 0, done.stderr
    assert lines == ["cd django-elk-logging && " + f"{tmp_path}/.venv/bin/python -m pytest",
                     ".venv/bin/python scripts/package_pythons.py",
                     ".venv/bin/python -m pytest "]
