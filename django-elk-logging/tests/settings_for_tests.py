"""The smallest Django project that switches the package on, as its README shows: the package's tests' own settings."""

import tempfile
from pathlib import Path

from django_elk_logging.logging_settings import LOG_FILTERS, NOT_SECURITY, SECURITY_ONLY, log_file_handler

LOG_DIR = Path(tempfile.mkdtemp(prefix="django-elk-logging-tests-"))

SECRET_KEY = "package-tests-only-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "urls_for_tests"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_elk_logging",
]
MIDDLEWARE = [
    "django_elk_logging.request_context.RequestIdMiddleware",
    "django_elk_logging.ip_blocking.BlockedIPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; these users are throwaway


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "verbose": {
            "()": "django_elk_logging.log_lines.SafeFormatter",
            "format": "{levelname} {asctime} {module} {message}",
            "style": "{",
        },
    },
    "filters": LOG_FILTERS,
    "handlers": {
        "file": log_file_handler(LOG_DIR / "django.log", NOT_SECURITY),
        "security_file": log_file_handler(LOG_DIR / "security.log", SECURITY_ONLY),
    },
    "loggers": {
        "django": {"handlers": ["file", "security_file"], "level": "INFO", "propagate": False},
        "security": {"handlers": ["security_file"], "level": "INFO", "propagate": False},
        "views_for_tests": {"handlers": ["file"], "level": "INFO", "propagate": False},
    },
}
