"""A pytest plugin that keeps a test run's log records out of the folder Logstash reads.

Switch it on in the project's pytest configuration: ``addopts = "-p django_elk_logging.pytest_plugin"``.
``-p`` loads it before pytest-django sets Django up (and configures LOGGING), which a conftest.py
would be too late for. It sets logging_settings.TEST_DIR_VARIABLE to a new temporary folder unless
it is already set, so the package's files go there; the report header says where.
"""

import os
import tempfile

from .logging_settings import TEST_DIR_VARIABLE

if not os.environ.get(TEST_DIR_VARIABLE, "").strip():
    os.environ[TEST_DIR_VARIABLE] = tempfile.mkdtemp(prefix="django-elk-logging-tests-")


def pytest_report_header(config):
    return f"django-elk-logging: log files written to {os.environ[TEST_DIR_VARIABLE]} ({TEST_DIR_VARIABLE})"
