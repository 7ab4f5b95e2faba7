"""System checks (``manage.py check``, and every runserver and test run): the settings the package needs."""

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .denylist import parse_networks
from .identity import HOST_NAME, MAX_CHARS, SERVICE_ENVIRONMENT, SERVICE_NAME, SERVICE_VERSION, setting_error
from .ip_blocking import BlockedIPMiddleware
from .logging_settings import LOG_FILTERS, REQUEST_CONTEXT
from .redaction import parameter_names, path_patterns
from .request_context import RequestIdMiddleware, trusted_proxies, trusted_proxy_count
from .signals import is_secret_key


def _dotted_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


REQUEST_ID_MIDDLEWARE = _dotted_path(RequestIdMiddleware)
BLOCKED_IP_MIDDLEWARE = _dotted_path(BlockedIPMiddleware)
# By name: importing auth_events imports Django's auth and admin forms, hence their models, which a project
# without django.contrib.auth cannot load.
AUTH_EVENTS_MIDDLEWARE = "django_elk_logging.auth_events.AuthEventsMiddleware"
AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
# What a refused request must not reach: a session read, a user loaded from the database.
_STATEFUL_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    AUTHENTICATION_MIDDLEWARE,
)
_REQUEST_CONTEXT_FILTER = LOG_FILTERS[REQUEST_CONTEXT]["()"]


@checks.register()
def check_middleware(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    found = []
    if REQUEST_ID_MIDDLEWARE not in middleware:
        found.append(checks.Warning(
            f"{REQUEST_ID_MIDDLEWARE} is not in MIDDLEWARE: responses carry no X-Request-ID, and under ASGI "
            "log records carry no request id or client address.",
            hint=f'MIDDLEWARE = ["{REQUEST_ID_MIDDLEWARE}", *MIDDLEWARE]  (first, so every response gets the header)',
            id="django_elk_logging.W001",
        ))
    elif middleware.index(REQUEST_ID_MIDDLEWARE) != 0:
        found.append(checks.Warning(
            f"{REQUEST_ID_MIDDLEWARE} is not the first of MIDDLEWARE: under ASGI, records the middleware above it "
            "logs (a disallowed host, a CSRF failure) carry no request id or client address, and a response it "
            "answers has no X-Request-ID.",
            hint="Move it to the top of MIDDLEWARE.",
            id="django_elk_logging.W009",
        ))
    if BLOCKED_IP_MIDDLEWARE in middleware:
        position = middleware.index(BLOCKED_IP_MIDDLEWARE)
        late = [name for name in _STATEFUL_MIDDLEWARE if name in middleware[:position]]
        if late:
            found.append(checks.Warning(
                f"{BLOCKED_IP_MIDDLEWARE} comes after {', '.join(late)}: a refused request still reads its session.",
                hint="Put it before them, right after RequestIdMiddleware.",
                id="django_elk_logging.W002",
            ))
    return [*found, *_auth_events_middleware_findings(middleware)]


def _auth_events_middleware_findings(middleware: list) -> list[checks.CheckMessage]:
    if AUTHENTICATION_MIDDLEWARE not in middleware:
        return []  # no logins, no sessions' users: nothing for it to log
    if AUTH_EVENTS_MIDDLEWARE not in middleware:
        return [checks.Warning(
            f"{AUTH_EVENTS_MIDDLEWARE} is not in MIDDLEWARE: no session_rejected, password_reset_requested or "
            "password_change_failed events, no refused logins with the right password, and permission_denied "
            "and csrf_failure records carry no user.",
            hint=f"Add it after {AUTHENTICATION_MIDDLEWARE}.",
            id="django_elk_logging.W020",
        )]
    if middleware.index(AUTH_EVENTS_MIDDLEWARE) < middleware.index(AUTHENTICATION_MIDDLEWARE):
        return [checks.Warning(
            f"{AUTH_EVENTS_MIDDLEWARE} comes before {AUTHENTICATION_MIDDLEWARE}: it finds no user to read.",
            hint=f"Move it after {AUTHENTICATION_MIDDLEWARE}.",
            id="django_elk_logging.W021",
        )]
    return []


@checks.register()
def check_app_order(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    names = [config.name for config in apps.get_app_configs()]
    # The first app with a command of a name wins (get_commands, django/core/management/__init__.py).
    if "django.contrib.auth" in names and names.index("django.contrib.auth") < names.index("django_elk_logging"):
        return [checks.Warning(
            "django_elk_logging comes after django.contrib.auth in INSTALLED_APPS: manage.py changepassword runs "
            "Django's command, whose refusals are not logged.",
            hint='INSTALLED_APPS = ["django_elk_logging", *INSTALLED_APPS]',
            id="django_elk_logging.W022",
        )]
    return []


@checks.register()
def check_client_address_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    found = []
    try:
        parse_networks(getattr(settings, "BLOCKED_IPS", ()))
    except ValueError as error:
        found.append(checks.Error(f"BLOCKED_IPS {error}", id="django_elk_logging.E004"))
    try:
        hops = trusted_proxy_count()
    except ImproperlyConfigured as error:
        return [*found, checks.Error(
            str(error),
            hint="0 (the default) believes no X-Forwarded-For, so no client can choose the address the logs record.",
            id="django_elk_logging.E003",
        )]
    try:
        proxies = trusted_proxies()
    except ImproperlyConfigured as error:
        return [*found, checks.Error(str(error), id="django_elk_logging.E010")]
    if hops and not proxies:
        found.append(checks.Error(
            f"TRUSTED_PROXY_COUNT is {hops} but TRUSTED_PROXIES is empty: X-Forwarded-For is believed only from a "
            "trusted proxy's address, so RequestIdMiddleware refuses to start.",
            hint="List the proxies' addresses or networks in TRUSTED_PROXIES, or set TRUSTED_PROXY_COUNT to 0.",
            id="django_elk_logging.E011",
        ))
    elif proxies and not hops:
        found.append(checks.Warning(
            "TRUSTED_PROXIES is set but TRUSTED_PROXY_COUNT is 0: no X-Forwarded-For is believed, so the logs "
            "record the proxy's address as the client.",
            hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front of the app.",
            id="django_elk_logging.W012",
        ))
    return found


@checks.register()
def check_login_account_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    keys = getattr(settings, "LOGIN_ACCOUNT_KEYS", ())
    if isinstance(keys, str) or not all(isinstance(key, str) for key in keys):
        return [checks.Error(f"LOGIN_ACCOUNT_KEYS must be a list of credential key names; it is {keys!r}.",
                             id="django_elk_logging.E006")]
    secret = [key for key in keys if is_secret_key(key)]
    if secret:
        return [checks.Warning(
            f"LOGIN_ACCOUNT_KEYS names {', '.join(secret)}, which look like secrets: their values are never logged.",
            id="django_elk_logging.W007",
        )]
    return []


@checks.register()
def check_redaction_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    found = []
    for name, parse, check_id in (("LOG_REDACTED_PARAMETERS", parameter_names, "django_elk_logging.E017"),
                                  ("LOG_REDACTED_PATHS", path_patterns, "django_elk_logging.E018")):
        try:
            parse(getattr(settings, name, ()))
        except ValueError as error:
            found.append(checks.Error(f"{name} {error}; until it is fixed, redaction goes on without it.",
                                      id=check_id))
    return found


# Each identity setting's check id and an example; a bad value is left out of the lines (identity.py), its default
# taking its place.
_IDENTITY_SETTINGS = {
    SERVICE_NAME: ("django_elk_logging.E023", "shop"),
    SERVICE_VERSION: ("django_elk_logging.E024", "1.4.2"),
    SERVICE_ENVIRONMENT: ("django_elk_logging.E025", "production"),
    HOST_NAME: ("django_elk_logging.E026", "web-1"),
}


@checks.register()
def check_identity_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    found = []
    for name, (check_id, example) in _IDENTITY_SETTINGS.items():
        error = setting_error(getattr(settings, name, None))
        if error is not None:
            found.append(checks.Error(
                f"{name} {error}; until it is fixed, the log lines leave it out (or use its default).",
                hint=f"At most {MAX_CHARS} printable characters, such as {name} = {example!r}, or None (unset).",
                id=check_id,
            ))
    return found


@checks.register()
def check_logging(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    config = getattr(settings, "LOGGING", None) or {}
    found = []
    if config.get("disable_existing_loggers", True) and config:
        found.append(checks.Warning(
            "LOGGING disables the loggers that exist when Django configures it (disable_existing_loggers is True, "
            "or absent: dictConfig's default): under gunicorn and uvicorn that switches off their access and "
            "error logs in every worker.",
            hint='Set "disable_existing_loggers": False, or build LOGGING with elk_logging().',
            id="django_elk_logging.W008",
        ))
    context_filters = {name for name, spec in (config.get("filters") or {}).items()
                       if isinstance(spec, dict) and spec.get("()") == _REQUEST_CONTEXT_FILTER}
    handlers = (config.get("handlers") or {}).values()
    if any(context_filters & set(handler.get("filters", ())) for handler in handlers if isinstance(handler, dict)):
        return found
    return [*found, checks.Warning(
        "No LOGGING handler uses the package's request-context filter: log records carry no request id "
        "or record id, and security events no client address, path or user agent.",
        hint='LOGGING = django_elk_logging.logging_settings.elk_logging(BASE_DIR / "logs", LOGGING)',
        id="django_elk_logging.W005",
    )]
