"""make's venv (`.venv/.installed`) is rebuilt when the logging package's metadata changes, as when a pin does."""

import os
import shutil
import subprocess

import pytest

from tests.support.paths import REPO_ROOT, venv_inputs

STAMP = ".venv/.installed"
INPUTS = venv_inputs()


def test_every_file_the_venv_is_installed_from_is_an_input():
    # requirements-dev.txt includes the others with -r; the package's metadata is installed with it.
    assert set(INPUTS) == {"requirements-dev.txt", "app/requirements.txt", "setup/requirements.txt",
                           "django-elk-logging/pyproject.toml", "django-elk-logging/requirements-test.txt"}


def up_to_date(checkout) -> bool:
    """`make -q`: exit 0 when the stamp is newer than its prerequisites, 1 when it would be remade."""
    result = subprocess.run(["make", "-q", STAMP], cwd=checkout, capture_output=True, text=True, timeout=30)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


@pytest.mark.parametrize("changed", INPUTS)
def test_the_venv_is_rebuilt_when_an_input_changes(tmp_path, changed):
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    for name in (*INPUTS, STAMP):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
        os.utime(tmp_path / name, (1_000_000_000, 1_000_000_000))
    os.utime(tmp_path / STAMP, (1_000_000_100, 1_000_000_100))
    assert up_to_date(tmp_path)

    os.utime(tmp_path / changed, (1_000_000_200, 1_000_000_200))
    assert not up_to_date(tmp_path)
