"""elk_logging(): the package's files added to a project's LOGGING, Django's defaults and the project's own kept.

In a real project (a fresh interpreter): errors still e-mail ADMINS, the project's own handler still gets
its records, the console still shows Django's records in development, and our files get every record
once. On the dict: what is kept, what is added, and the errors for what cannot be merged.
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_elk_logging.logging_settings import (
    ACCESS_LOGGER,
    APP_HANDLER,
    NOT_SECURITY,
    SECURITY_HANDLER,
    TEST_DIR_VARIABLE,
    elk_logging,
    log_file_handler,
)
from projects import new_project, readme_block
from servers import environment, free_port, request, serving
from test_request_events import ORIGIN, RECORD_ID, REQUEST_ID, TIMESTAMP

OURS = [APP_HANDLER, SECURITY_HANDLER]
NOBODY = 65534
PROJECT_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"shop_file": {"class": "logging.FileHandler", "filename": "/tmp/shop.log", "formatter": "plain"}},
    "loggers": {
        "shop": {"handlers": ["shop_file"], "level": "INFO", "propagate": False},
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
    },
}


@pytest.fixture(autouse=True)
def no_test_folder(monkeypatch):
    # These tests name their folders; the test-run folder would move the files elsewhere.
    monkeypatch.delenv(TEST_DIR_VARIABLE)


def test_without_a_project_logging_django_defaults_stay_and_our_files_hang_on_the_root(tmp_path):
    merged = elk_logging(tmp_path)

    assert merged["disable_existing_loggers"] is False
    # Django's defaults, under names of their own.
    assert merged["handlers"]["django_defaults.console"] == {
        "level": "INFO", "filters": ["django_defaults.require_debug_true"], "class": "logging.StreamHandler"}
    assert merged["handlers"]["django_defaults.mail_admins"] == {
        "level": "ERROR", "filters": ["django_defaults.require_debug_false"], "class": "django.utils.log.AdminEmailHandler"}
    assert merged["filters"]["django_defaults.require_debug_true"] == {"()": "django.utils.log.RequireDebugTrue"}
    assert merged["loggers"]["django"] == {
        "handlers": ["django_defaults.console", "django_defaults.mail_admins"], "level": "INFO"}
    assert merged["loggers"]["django.server"] == {
        "handlers": ["django_defaults.django.server"], "level": "INFO", "propagate": False}
    assert merged["root"] == {"level": "INFO", "handlers": OURS}
    assert merged["loggers"]["security"] == {"level": "INFO"}
    assert merged["loggers"][ACCESS_LOGGER]["propagate"] is False
    assert {merged["handlers"][name]["filename"] for name in (*OURS, "django_elk_logging.access_file")} == {
        str(tmp_path / "django_debug.log"), str(tmp_path / "security.log"), str(tmp_path / "access.log")}
    assert {merged["handlers"][name]["level"] for name in OURS} == {"INFO"}


def test_the_projects_own_definitions_are_kept_and_non_propagating_loggers_get_our_files(tmp_path):
    project = copy.deepcopy(PROJECT_LOGGING)
    project["root"] = {"level": "WARNING", "handlers": ["shop_file"]}

    merged = elk_logging(tmp_path, project)

    assert project == {**PROJECT_LOGGING, "root": {"level": "WARNING", "handlers": ["shop_file"]}}, "changed the input"
    assert merged["formatters"]["plain"] == PROJECT_LOGGING["formatters"]["plain"]
    assert merged["handlers"]["shop_file"] == PROJECT_LOGGING["handlers"]["shop_file"]
    assert merged["loggers"]["shop"] == {"handlers": ["shop_file", *OURS], "level": "INFO", "propagate": False}
    # Silenced for e-mail, the security event still reaches security.log.
    assert merged["loggers"]["django.security.DisallowedHost"] == {"handlers": OURS, "propagate": False}
    assert merged["root"] == {"level": "WARNING", "handlers": ["shop_file", *OURS]}


def test_a_projects_console_handler_does_not_replace_djangos_on_the_django_logger(tmp_path):
    # Django keeps its own handler objects on the django logger when a project defines "console"
    # (logging/config.py leaves unnamed loggers' handlers): one print per record, not two.
    project = {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
               "root": {"handlers": ["console"], "level": "INFO"}}

    merged = elk_logging(tmp_path, project)

    assert merged["loggers"]["django"]["handlers"] == ["django_defaults.console", "django_defaults.mail_admins"]
    assert merged["handlers"]["console"] == {"class": "logging.StreamHandler"}


def test_a_root_given_as_the_logger_named_empty_is_the_root(tmp_path):
    project = {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
               "loggers": {"": {"handlers": ["console"], "level": "DEBUG"}}}

    merged = elk_logging(tmp_path, project)

    assert "" not in merged["loggers"]
    assert merged["root"] == {"handlers": ["console", *OURS], "level": "DEBUG"}


def test_a_root_without_a_level_keeps_pythons_warning(tmp_path):
    project = {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}}, "root": {"handlers": ["console"]}}

    assert elk_logging(tmp_path, project)["root"] == {"handlers": ["console", *OURS]}


def test_loggers_the_project_silenced_stay_silent_unless_they_hold_security_events(tmp_path):
    project = {
        "version": 1,
        "handlers": {"null": {"class": "logging.NullHandler"}, "sql_console": {"class": "logging.StreamHandler"}},
        "loggers": {
            "noisy.library": {"handlers": [], "propagate": False},
            "other.library": {"handlers": ["null"], "propagate": False},
            "django.db.backends": {"handlers": ["sql_console"], "level": "DEBUG", "propagate": False},
            "django.request": {"handlers": ["null"], "propagate": False},
            "security.audit": {"handlers": [], "propagate": False},
        },
    }

    loggers = elk_logging(tmp_path, project)["loggers"]

    assert loggers["noisy.library"]["handlers"] == [] and loggers["other.library"]["handlers"] == ["null"]
    assert loggers["django.request"]["handlers"] == ["null", *OURS]
    assert loggers["security.audit"]["handlers"] == OURS
    # Not silenced: the SQL logger gets our files, whose INFO level keeps its DEBUG queries out.
    assert loggers["django.db.backends"]["handlers"] == ["sql_console", *OURS]


def test_existing_loggers_stay_on_unless_the_project_says_otherwise(tmp_path):
    # gunicorn and uvicorn set up their loggers before Django configures LOGGING in each worker.
    assert elk_logging(tmp_path, {"version": 1})["disable_existing_loggers"] is False
    assert elk_logging(tmp_path, {"version": 1, "disable_existing_loggers": True})["disable_existing_loggers"] is True


def test_merging_twice_changes_nothing(tmp_path):
    once = elk_logging(tmp_path, PROJECT_LOGGING)

    assert elk_logging(tmp_path, once) == once


def test_dictconfig_takes_the_result(tmp_path):
    import logging.config

    logging.config.dictConfig(elk_logging(tmp_path, PROJECT_LOGGING))
    try:
        assert [type(handler).__name__ for handler in logging.getLogger().handlers] == [
            "AppendOnlyFileHandler", "AppendOnlyFileHandler"]
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)


@pytest.mark.parametrize(
    "project, message",
    [
        ({"version": 2}, "LOGGING version 2 is not 1"),
        ({"version": 1, "incremental": True}, "an incremental LOGGING only changes levels"),
        ({"version": 1, "filters": {"request_context": {"()": "myproject.Filter"}}},
         "LOGGING filters already defines 'request_context' otherwise"),
        ({"version": 1, "loggers": {ACCESS_LOGGER: {"level": "DEBUG"}}},
         f"LOGGING configures the logger '{ACCESS_LOGGER}', which the package routes"),
    ],
)
def test_what_cannot_be_merged_is_named(tmp_path, project, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        elk_logging(tmp_path, project)


def test_a_handler_of_the_project_writing_one_of_our_files_is_named(tmp_path):
    # The tutorial's own file handler, left in place: two formats would be glued in one file.
    project = {"version": 1, "handlers": {"file": {"class": "logging.FileHandler",
                                                   "filename": str(tmp_path / "django_debug.log")}}}

    with pytest.raises(ValueError, match=re.escape(f"LOGGING handler 'file' already writes {tmp_path / 'django_debug.log'}")):
        elk_logging(tmp_path, project)


def test_a_project_handler_on_our_file_is_named_during_a_test_run_too(tmp_path, monkeypatch):
    # Under the pytest plugin both the package's files and the project's log_file_handler move to the
    # test folder: the two handlers would write one file there, as they would in production.
    test_dir = tmp_path / "test-run"
    monkeypatch.setenv(TEST_DIR_VARIABLE, str(test_dir))
    project = {"version": 1, "handlers": {"file": log_file_handler(tmp_path / "logs" / "django_debug.log", NOT_SECURITY)}}

    with pytest.raises(ValueError, match=re.escape(f"LOGGING handler 'file' already writes {test_dir / 'django_debug.log'}")):
        elk_logging(tmp_path / "logs", project)


def test_an_unwritable_folder_is_named():
    # In a folder any user can reach; root writes into any folder, so then the check runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="elk-logging-locked-", dir="/tmp")) / "locked"
    folder.mkdir(mode=0o555)
    folder.parent.chmod(0o755)
    drop_root = f"os.setgid({NOBODY}); os.setuid({NOBODY})" if os.geteuid() == 0 else "pass"
    code = ("import os, django.core.exceptions, django.utils.log\n"  # imported while the venv is readable
            "from django_elk_logging.logging_settings import elk_logging\n"
            f"{drop_root}\nelk_logging({str(folder)!r})")
    result = subprocess.run([sys.executable, "-c", code], env=environment(), capture_output=True, text=True, timeout=60)
    shutil.rmtree(folder.parent)

    assert result.returncode == 1
    assert re.search(rf"ImproperlyConfigured: elk_logging log_dir='{re.escape(str(folder))}' is not writable "
                     rf"by this user \(uid {NOBODY if os.geteuid() == 0 else os.geteuid()}\)\.", result.stderr), result.stderr


def test_a_folder_that_cannot_be_created_is_named(tmp_path):
    (tmp_path / "a-file").write_text("")

    with pytest.raises(ImproperlyConfigured, match=re.escape(f"elk_logging log_dir='{tmp_path / 'a-file' / 'logs'}' cannot be created")):
        elk_logging(tmp_path / "a-file" / "logs")


# ---- in a real project ------------------------------------------------------------------------------------------

MERGED_SETTINGS = """
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_elk_logging"]
MIDDLEWARE = ["django_elk_logging.request_context.RequestIdMiddleware"]
ADMINS = [("Ops", "ops@example.com")]
import os
DEBUG = os.environ.get("PROJECT_DEBUG") == "1"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"shop_file": {"class": "logging.FileHandler", "filename": str(BASE_DIR / "shop.log"), "formatter": "plain"}},
    "loggers": {"shop": {"handlers": ["shop_file"], "level": "INFO", "propagate": False}},
}
from django_elk_logging.logging_settings import elk_logging
LOGGING = elk_logging(BASE_DIR / "logs", LOGGING)
"""
MERGED_URLS = """
from django.urls import path


def boom(request):
    raise RuntimeError("this view fails on purpose")


urlpatterns = [path("boom/", boom)]
"""
MERGED_DRIVER = """
import logging
from django.core import mail
boom = Client(raise_request_exception=False).get("/boom/")
missing = Client().get("/nope/")
logging.getLogger("shop.orders").info("order placed")
logging.getLogger("thirdparty.client").info("a library's record")
print(json.dumps({"boom": [boom.status_code, boom["X-Request-ID"]], "missing": missing["X-Request-ID"],
                  "outbox": [message.subject for message in mail.outbox]}))
"""


@pytest.fixture(scope="module")
def merged_project(tmp_path_factory):
    return new_project(tmp_path_factory.mktemp("merged"), MERGED_SETTINGS, urls=MERGED_URLS)


def test_errors_still_mail_the_admins_and_reach_our_file_once(merged_project):
    answers, _ = merged_project.run(MERGED_DRIVER)

    assert answers["outbox"] == ["[Django] ERROR (EXTERNAL IP): Internal Server Error: /boom/"]
    status, request_id = answers["boom"]
    lines = merged_project.lines("django_debug.log")
    records = [line for line in lines if not line.startswith("\t")]
    expected = [
        rf"ERROR {TIMESTAMP} log \[request_id={request_id} record_id={RECORD_ID}{ORIGIN}\] Internal Server Error: /boom/",
        rf"WARNING {TIMESTAMP} log \[request_id={answers['missing']} record_id={RECORD_ID}{ORIGIN}\] Not Found: /nope/",
        # getLogger(__name__) records: the project's non-propagating logger and a library's, through the root.
        rf"INFO {TIMESTAMP} <string> \[request_id=- record_id={RECORD_ID}{ORIGIN}\] order placed",
        rf"INFO {TIMESTAMP} <string> \[request_id=- record_id={RECORD_ID}{ORIGIN}\] a library's record",
    ]
    assert status == 500 and len(records) == len(expected), records
    for pattern, line in zip(expected, records, strict=True):
        assert re.fullmatch(pattern, line), line
    assert lines[lines.index(records[1]) - 1] == "\tRuntimeError: this view fails on purpose"
    assert re.fullmatch(REQUEST_ID, request_id)


def test_the_projects_own_handler_still_gets_its_records(merged_project):
    assert (merged_project.folder / "shop.log").read_text().splitlines() == ["INFO shop.orders order placed"]


def test_in_development_django_still_prints_to_the_console(tmp_path):
    project = new_project(tmp_path, MERGED_SETTINGS, urls=MERGED_URLS)

    answers, stderr = project.run(MERGED_DRIVER, PROJECT_DEBUG="1")

    assert answers["outbox"] == []  # mail_admins sends only when DEBUG is off (require_debug_false)
    assert "Internal Server Error: /boom/" in stderr and "Not Found: /nope/" in stderr


def test_a_project_logging_without_disable_existing_loggers_keeps_gunicorns_access_log(tmp_path):
    # Django configures LOGGING in each worker after gunicorn set up its loggers (gunicorn/workers/base.py):
    # dictConfig's own default, True, would switch gunicorn.access off there.
    project = new_project(tmp_path, """
        INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_elk_logging"]
        MIDDLEWARE = ["django_elk_logging.request_context.RequestIdMiddleware"]
        from django_elk_logging.logging_settings import elk_logging
        LOGGING = elk_logging(BASE_DIR / "logs", {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}}})
    """)
    port = free_port()
    project.write("gunicorn.conf.py", readme_block("WSGI under gunicorn") + f'bind = "127.0.0.1:{port}"\n')
    project.write("project_wsgi.py", "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n")

    with serving(["gunicorn", "project_wsgi"], port, environment(tmp_path, DJANGO_SETTINGS_MODULE="project_settings"),
                 tmp_path):
        status, answer, _ = request(port, "GET", "/nope/")

    [line] = project.lines("access.log")
    assert status == 404 and '"GET /nope/ HTTP/1.1" 404 ' in line and answer["X-Request-ID"] in line
