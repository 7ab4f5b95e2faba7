"""The smallest Django project that switches the package on, as its README shows: the package's tests' own settings.

The package's pytest plugin (``-p django_elk_logging.pytest_plugin`` in pyproject.toml) sends the log files
to a temporary folder, LOG_DIR; MONITORED_DIR, the folder LOGGING names, must stay empty (test_pytest_plugin.py).
Subprocesses of the tests (gunicorn, uvicorn) inherit the variable, so they write to LOG_DIR too.
"""

import os
import tempfile
from pathlib import Path

from django_elk_logging.logging_settings import TEST_DIR_VARIABLE, elk_logging

LOG_DIR = Path(os.environ[TEST_DIR_VARIABLE])
MONITORED_DIR = Path(tempfile.mkdtemp(prefix="django-elk-logging-monitored-"))

SECRET_KEY = "package-tests-only-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
ROOT_URLCONF = "urls_for_tests"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
INSTALLED_APPS = [
    "django_elk_logging",  # first: its changepassword command wins over django.contrib.auth's
    "django.contrib.admin",  # the password and login flows of the admin, and the registration templates
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django_elk_logging.request_context.RequestIdMiddleware",
    "django_elk_logging.ip_blocking.BlockedIPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_elk_logging.auth_events.AuthEventsMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; these users are throwaway
ADMINS = [("Ops", "ops@example.com")]
# Empty here; the tests that run a server set it to block one loopback address.
BLOCKED_IPS = [entry for entry in os.environ.get("PACKAGE_TESTS_BLOCKED_IPS", "").split(",") if entry]
# None here; the tests that run a server behind pretended proxies set them.
TRUSTED_PROXIES = [entry for entry in os.environ.get("PACKAGE_TESTS_TRUSTED_PROXIES", "").split(",") if entry]
TRUSTED_PROXY_COUNT = int(os.environ.get("PACKAGE_TESTS_TRUSTED_PROXY_COUNT", "0"))

# Redacted besides the defaults (redaction.py): the servers' tests see them reach gunicorn's access logger.
LOG_REDACTED_PARAMETERS = ["voucher"]
LOG_REDACTED_PATHS = [r"/invite/([^/]+)"]

# None here; the tests that run a server set them (identity.py).
LOG_SERVICE_VERSION = os.environ.get("PACKAGE_TESTS_SERVICE_VERSION")
LOG_SERVICE_ENVIRONMENT = os.environ.get("PACKAGE_TESTS_SERVICE_ENVIRONMENT")

LOGGING = elk_logging(MONITORED_DIR)
