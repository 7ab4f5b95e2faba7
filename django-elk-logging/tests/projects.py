"""Small Django projects written out by a test and driven in a fresh interpreter, as a project we never saw
would use the package: its own settings module, apps and URLs, then requests through Django's test client.

A driver prints one JSON document on stdout; the log files are then read from the project's folder.
"""

import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from servers import environment

README = Path(__file__).resolve().parents[1] / "README.md"
RUN_TIMEOUT = 120
# The common start of every driver: Django set up, the test environment (locmem e-mail), the tables.
DRIVER_PREAMBLE = """
import json
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
PASSWORD = "Right-Horse-42"  # the users drivers create log in with it
call_command("migrate", verbosity=0, run_syncdb=True)
"""


COMMON_SETTINGS = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "project-tests-only-" + "y" * 40
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "project_urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""


@dataclass
class Project:
    folder: Path
    log_dir: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def run(self, driver: str, **variables: str) -> tuple[dict, str]:
        """Run ``driver`` after DRIVER_PREAMBLE; its JSON and its stderr."""
        code = DRIVER_PREAMBLE + textwrap.dedent(driver)
        env = environment(self.folder, DJANGO_SETTINGS_MODULE="project_settings", **variables)
        result = subprocess.run([sys.executable, "-c", code], cwd=self.folder, env=env, capture_output=True,
                                text=True, timeout=RUN_TIMEOUT)
        assert result.returncode == 0, f"the driver failed:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr

    def lines(self, name: str) -> list[str]:
        path = self.log_dir / name
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def new_project(folder: Path, *settings: str, urls: str = "urlpatterns = []\n") -> Project:
    """A project in ``folder`` whose settings module is COMMON_SETTINGS then each of ``settings``; its package files in
    ``folder``/logs (the folder the README's lines name)."""
    project = Project(folder, folder / "logs")
    project.write("project_settings.py", COMMON_SETTINGS + "".join(textwrap.dedent(part) for part in settings))
    project.write("project_urls.py", urls)
    return project


def readme_block(heading: str, language: str = "python") -> str:
    """The first ``language`` code block under the package README's ``## heading`` (indented blocks too)."""
    section = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", README.read_text(encoding="utf-8"), re.S | re.M)
    assert section, f"the package README has no section {heading!r}"
    block = re.search(rf"^( *)```{language}\n(.*?)^\1```", section[1], re.S | re.M)
    assert block, f"README section {heading!r} shows no {language} block"
    return textwrap.dedent(block[2])
