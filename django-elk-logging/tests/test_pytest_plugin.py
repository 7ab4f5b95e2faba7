"""A project's test run writes its log records to a folder of its own, never to the folder Logstash reads:
the pytest plugin, switched on as the README says, and the variable itself."""

import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.test import Client

from projects import new_project, readme_block
from servers import environment

PROJECT_TEST = """
from django.contrib.auth import authenticate


def test_a_failed_login(db):
    assert authenticate(username="mallory", password="wrong") is None
"""


def test_this_suite_writes_nothing_into_the_folder_its_logging_names():
    Client().get("/missing")

    assert list(settings.MONITORED_DIR.iterdir()) == []
    assert "Not Found: /missing" in (settings.LOG_DIR / "django_debug.log").read_text()


def test_the_plugin_moves_a_projects_files_before_pytest_django_sets_django_up(tmp_path):
    project = new_project(tmp_path, """
        INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_elk_logging"]
        from django_elk_logging.logging_settings import elk_logging
        LOGGING = elk_logging(BASE_DIR / "logs")
    """)
    # The README's lines, and pytest-django's setting.
    project.write("pyproject.toml", readme_block("Tests of your project", "toml") + 'DJANGO_SETTINGS_MODULE = "project_settings"\n')
    project.write("test_login.py", PROJECT_TEST)

    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=tmp_path,
                            env=environment(tmp_path), capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    header = re.search(r"^django-elk-logging: log files written to (\S+) \(DJANGO_ELK_LOGGING_TEST_DIR\)$",
                       result.stdout, re.M)
    assert header, result.stdout
    assert not (tmp_path / "logs").exists()
    [event] = Path(header[1], "security.log").read_text().splitlines()
    assert " event=user_login_failed event_code=authn_login_fail user=mallory logger=security " in event
    assert event.endswith("] Login failed: mallory")
