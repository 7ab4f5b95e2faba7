"""Settings for the sample service. Every value comes from the environment.

Defaults are the production-safe choice; the local conveniences (DEBUG,
plain-HTTP cookies) must be asked for explicitly.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django_elk_logging.denylist import parse_networks
from django_elk_logging.logging_settings import (
    ACCESS_LOG,
    ACCESS_LOGGER,
    APP_LOG,
    LOG_FILTERS,
    NOT_SECURITY,
    SECURITY_LOG,
    SECURITY_ONLY,
    access_file_handler,
    log_file_handler,
    writable_log_folder,
)

from config.env import EnvReader, service_identity
from config.sentry import init_sentry
from config.time_zones import time_zone_problem

env = EnvReader(error=ImproperlyConfigured)

BASE_DIR = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required unless DJANGO_DEBUG=true; "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "insecure-development-only-key-never-use-in-production-0123456789"
elif not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is too weak: use at least 50 random characters "
        "(and not Django's generated 'django-insecure-' key)."
    )

# Retired keys still accepted while a rotation settles (docs/incident-response.md, "Rotating secrets").
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", [])


def _networks(name: str) -> list[str]:
    """The comma-separated IPs and CIDR networks of the variable ``name``; a bad entry stops the app."""
    try:
        return [str(network) for network in parse_networks(env.list(name, []))]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} {error}") from None


# The reverse proxies in front of the app (IPs and CIDR networks), and how many of them append to
# X-Forwarded-For: the header is believed only from these addresses, one hop per proxy. A count
# without the list would believe no one, so it stops the app; 0 trusts none, so clients cannot
# choose the IP that security events record.
TRUSTED_PROXIES = _networks("DJANGO_TRUSTED_PROXIES")
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=10)
if TRUSTED_PROXY_COUNT and not TRUSTED_PROXIES:
    raise ImproperlyConfigured(
        f"DJANGO_TRUSTED_PROXY_COUNT={TRUSTED_PROXY_COUNT} needs DJANGO_TRUSTED_PROXIES: the addresses or CIDR "
        "networks of the proxies whose X-Forwarded-For is believed (e.g. 172.16.0.0/12 for a proxy on a Docker "
        "network). Set both, or DJANGO_TRUSTED_PROXY_COUNT=0."
    )
# Client addresses refused with 403 (comma-separated IPs and CIDR networks; incident
# containment, docs/incident-response.md). Resolved like the logs' client_ip, above.
BLOCKED_IPS = _networks("DJANGO_BLOCKED_IPS")

TIME_ZONE = env.str("TIME_ZONE", "UTC")
# Logstash's date filter reads the app's timestamps in this zone too, with Joda-Time.
if _time_zone_problem := time_zone_problem(TIME_ZONE):
    raise ImproperlyConfigured(_time_zone_problem)
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------------------------
# Apps and middleware
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    # First: its changepassword (which logs its refusals) wins over django.contrib.auth's.
    "django_elk_logging",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "myapp",
]

MIDDLEWARE = [
    # First, so every response (even an error) returns the request id.
    "django_elk_logging.request_context.RequestIdMiddleware",
    # Next, before anything reads a session or the database: a refused request costs nothing
    # more, and still returns its request id. Empty BLOCKED_IPS switches it off.
    "django_elk_logging.ip_blocking.BlockedIPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After AuthenticationMiddleware: rejected sessions, refused logins and password forms, and the
    # user on permission_denied and csrf_failure records.
    "django_elk_logging.auth_events.AuthEventsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ------------------------------------------------------------------------------
# Database: embedded SQLite on a volume
# ------------------------------------------------------------------------------
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env.str("DJANGO_SQLITE_PATH", "/var/lib/django/db.sqlite3"),
        # Several gunicorn workers write sessions at once: WAL lets readers run beside
        # the writer, and IMMEDIATE takes the write lock up front instead of failing
        # with "database is locked" when a read transaction tries to upgrade.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}

# ------------------------------------------------------------------------------
# Auth and sessions
# ------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# ------------------------------------------------------------------------------
# HTTP security
# ------------------------------------------------------------------------------
# Secure cookies need HTTPS; the local stack serves plain HTTP and turns them off in .env.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# ------------------------------------------------------------------------------
# Static files, served by WhiteNoise
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles"))

# ------------------------------------------------------------------------------
# Logging
# ------------------------------------------------------------------------------
# The directory is a volume that Logstash tails.
LOG_DIR = writable_log_folder(env.str("DJANGO_LOG_DIR", "/var/log/django"), "DJANGO_LOG_DIR")

# INFO by default: Django then logs every 4xx/5xx and the app its events. DEBUG
# would add a line per SQL query and template lookup, which floods production.
DJANGO_LOG_LEVEL = env.log_level("DJANGO_LOG_LEVEL", "INFO")
APP_LOG_LEVEL = env.log_level("APP_LOG_LEVEL", "INFO")
# Logins, logouts and failures are INFO: the security dashboard needs them all.
SECURITY_LOG_LEVEL = env.log_level("SECURITY_LOG_LEVEL", "INFO")
# The console (docker compose logs app) repeats what the files already hold for Logstash: by
# default only warnings and errors, so an operator sees problems without a second copy of
# every INFO line (a write per record in each worker). INFO brings the full copy back.
CONSOLE_LOG_LEVEL = env.log_level("CONSOLE_LOG_LEVEL", "WARNING")

# Who the lines say wrote them (django-elk-logging's identity settings: ECS service.name, service.version,
# service.environment; config/env.py, SERVICE_IDENTITY); the host is the container's. A bad value is a
# system-check error (E023-E025).
_identity = service_identity(env)
LOG_SERVICE_NAME = _identity["LOG_SERVICE_NAME"]
LOG_SERVICE_VERSION = _identity["LOG_SERVICE_VERSION"]
LOG_SERVICE_ENVIRONMENT = _identity["LOG_SERVICE_ENVIRONMENT"]


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "verbose": {
            "()": "django_elk_logging.log_lines.SafeFormatter",
            "format": "{levelname} {asctime} {module} {message}",
            "style": "{",
        },
        "simple": {
            "()": "django_elk_logging.log_lines.SafeFormatter",
            "format": "{levelname} {message}",
            "style": "{",
            "with_context": False,
        },
        "access": {"format": "%(message)s"},
    },
    "filters": LOG_FILTERS,
    "handlers": {
        "file": log_file_handler(LOG_DIR / APP_LOG, NOT_SECURITY),
        "security_file": log_file_handler(LOG_DIR / SECURITY_LOG, SECURITY_ONLY),
        # The access lines of config/asgi.py; under gunicorn (config/wsgi.py) gunicorn writes them.
        "access_file": access_file_handler(LOG_DIR / ACCESS_LOG, "access"),
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "simple",
            "level": CONSOLE_LOG_LEVEL,
        },
    },
    # Each record is routed by the handlers' filters: security records (our
    # "security" logger, django.security.* and 403s) to security.log, the
    # rest to django_debug.log, so no record is written to both.
    "loggers": {
        "django": {
            "handlers": ["file", "security_file", "console"],
            "level": DJANGO_LOG_LEVEL,
            "propagate": False,
        },
        "django.security": {"level": SECURITY_LOG_LEVEL},
        "myapp": {
            "handlers": ["file", "console"],
            "level": APP_LOG_LEVEL,
            "propagate": False,
        },
        "security": {
            "handlers": ["security_file", "console"],
            "level": SECURITY_LOG_LEVEL,
            "propagate": False,
        },
        ACCESS_LOGGER: {"handlers": ["access_file"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["file", "console"], "level": "WARNING"},
}

# ------------------------------------------------------------------------------
# Sentry: errors and traces, only when SENTRY_DSN is set
# ------------------------------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN")
if SENTRY_DSN:
    init_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", "production"),
        release=env.str("SENTRY_RELEASE") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0, maximum=1.0),
        send_default_pii=env.bool("SENTRY_SEND_DEFAULT_PII", False),
        max_request_body_size=env.choice(
            "SENTRY_MAX_REQUEST_BODY_SIZE", "never", ("never", "small", "medium", "always")
        ),
    )
