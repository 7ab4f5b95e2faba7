"""The system checks (checks.py): each misconfiguration named by its id, and none for the README's settings."""

import re

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler

from projects import new_project

OURS = ["django_elk_logging.request_context.RequestIdMiddleware", "django_elk_logging.ip_blocking.BlockedIPMiddleware"]
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"
AUTH_EVENTS = "django_elk_logging.auth_events.AuthEventsMiddleware"


def found() -> dict[str, str]:
    return {message.id: message.msg for message in run_checks() if message.id.startswith("django_elk_logging.")}


def test_the_test_projects_settings_pass(settings):
    assert found() == {}


@pytest.mark.parametrize(
    "middleware, expected",
    [
        ([SESSION, AUTHENTICATION, AUTH_EVENTS], {"django_elk_logging.W001"}),
        ([SESSION, OURS[0], AUTHENTICATION, AUTH_EVENTS], {"django_elk_logging.W009"}),
        ([OURS[0], SESSION, OURS[1], AUTHENTICATION, AUTH_EVENTS], {"django_elk_logging.W002"}),
        ([OURS[0], SESSION, AUTHENTICATION, OURS[1], AUTH_EVENTS], {"django_elk_logging.W002"}),
        ((*OURS, SESSION, AUTHENTICATION, AUTH_EVENTS), set()),  # a tuple, as some projects keep it
        ([*OURS, SESSION, AUTHENTICATION], {"django_elk_logging.W020"}),
        ([*OURS, SESSION, AUTH_EVENTS, AUTHENTICATION], {"django_elk_logging.W021"}),
        ([*OURS], set()),  # no authentication: nothing for it to read
    ],
)
def test_middleware_missing_or_misplaced(settings, middleware, expected):
    settings.MIDDLEWARE = middleware

    assert set(found()) == expected


def test_the_package_after_django_contrib_auth_leaves_changepassword_unlogged(settings):
    settings.INSTALLED_APPS = [name for name in settings.INSTALLED_APPS if name != "django_elk_logging"] + [
        "django_elk_logging"]

    assert found() == {"django_elk_logging.W022": (
        "django_elk_logging comes after django.contrib.auth in INSTALLED_APPS: manage.py changepassword runs "
        "Django's command, whose refusals are not logged.")}


def test_a_blocked_ip_middleware_after_the_session_says_which(settings):
    settings.MIDDLEWARE = [OURS[0], SESSION, AUTHENTICATION, OURS[1]]

    assert found()["django_elk_logging.W002"] == (
        f"{OURS[1]} comes after {SESSION}, {AUTHENTICATION}: a refused request still reads its session.")


@pytest.mark.parametrize("value", [-1, "1", 1.5, True, None])
def test_a_trusted_proxy_count_that_is_not_a_count_is_an_error(settings, value):
    settings.TRUSTED_PROXY_COUNT = value

    assert found() == {"django_elk_logging.E003":
                       f"TRUSTED_PROXY_COUNT must be a whole number of proxies, 0 or more; it is {value!r}."}


@pytest.mark.parametrize(
    "value, message",
    [
        ("10.0.0.1", "BLOCKED_IPS must be a list of addresses or networks, not the string '10.0.0.1'"),
        (["10.0.0.300"], "BLOCKED_IPS entry '10.0.0.300' is not an IP address or CIDR network"),
    ],
)
def test_a_bad_blocked_ips_is_an_error(settings, value, message):
    settings.BLOCKED_IPS = value

    assert found()["django_elk_logging.E004"].startswith(message)


COUNT_WITHOUT_LIST = ("TRUSTED_PROXY_COUNT is 2 but TRUSTED_PROXIES is empty: X-Forwarded-For is believed only from a "
                      "trusted proxy's address")


@pytest.mark.parametrize(
    "proxies, count, expected",
    [
        (["10.0.0.0/8", "::1"], 2, {}),
        ([], 2, {"django_elk_logging.E011": COUNT_WITHOUT_LIST + ", so RequestIdMiddleware refuses to start."}),
        (["10.0.0.0/8"], 0, {"django_elk_logging.W012": "TRUSTED_PROXIES is set but TRUSTED_PROXY_COUNT is 0: no "
                             "X-Forwarded-For is believed, so the logs record the proxy's address as the client."}),
        (["10.0.0.0/8", "proxy.internal"], 1, {"django_elk_logging.E010": "TRUSTED_PROXIES entry 'proxy.internal' is "
                                               "not an IP address or CIDR network: 'proxy.internal' does not appear to "
                                               "be an IPv4 or IPv6 network"}),
        ("10.0.0.1", 1, {"django_elk_logging.E010": "TRUSTED_PROXIES must be a list of addresses or networks, not the "
                         "string '10.0.0.1'"}),
    ],
)
def test_trusted_proxies_and_their_count_agree(settings, proxies, count, expected):
    settings.TRUSTED_PROXIES = proxies
    settings.TRUSTED_PROXY_COUNT = count

    assert found() == expected


def test_a_count_without_proxies_stops_the_middleware_before_any_request(settings):
    # What gunicorn sees: no system check, but the handler builds the middleware chain at start.
    settings.TRUSTED_PROXY_COUNT = 2

    with pytest.raises(ImproperlyConfigured, match=re.escape(COUNT_WITHOUT_LIST)):
        WSGIHandler()


def test_logging_without_the_request_context_filter_is_a_warning(settings):
    settings.LOGGING = {"version": 1, "disable_existing_loggers": False,
                        "handlers": {"file": {"class": "logging.FileHandler", "filename": "/dev/null"}}}

    assert set(found()) == {"django_elk_logging.W005"}


@pytest.mark.parametrize("disable", [True, None])
def test_logging_that_disables_existing_loggers_is_a_warning(settings, disable):
    settings.LOGGING = {**settings.LOGGING, "disable_existing_loggers": disable}
    if disable is None:
        del settings.LOGGING["disable_existing_loggers"]  # dictConfig's default is True

    assert set(found()) == {"django_elk_logging.W008"}


@pytest.mark.parametrize(
    "keys, expected",
    [
        (["account_number"], {}),
        ("account_number", {"django_elk_logging.E006": "LOGIN_ACCOUNT_KEYS must be a list of credential key names; "
                                                       "it is 'account_number'."}),
        (["account_number", "pin_code"], {"django_elk_logging.W007": "LOGIN_ACCOUNT_KEYS names pin_code, which look "
                                                                      "like secrets: their values are never logged."}),
    ],
)
def test_login_account_keys_are_names_and_never_secrets(settings, keys, expected):
    settings.LOGIN_ACCOUNT_KEYS = keys

    assert found() == expected


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("LOG_REDACTED_PARAMETERS", "ticket", "LOG_REDACTED_PARAMETERS must be a list of parameter names, not 'ticket'"),
        ("LOG_REDACTED_PARAMETERS", ["ticket", None], "LOG_REDACTED_PARAMETERS must be a list of parameter names; "
                                                      "None is not one"),
        ("LOG_REDACTED_PATHS", r"/invite/([^/]+)", r"LOG_REDACTED_PATHS must be a list of regular expressions, not "
                                                   r"'/invite/([^/]+)'"),
        ("LOG_REDACTED_PATHS", [r"/invite/([^/]+"], r"LOG_REDACTED_PATHS entry '/invite/([^/]+' is not a regular "
                                                    r"expression: missing ), unterminated subpattern at position 8"),
        ("LOG_REDACTED_PATHS", [r"/invite/[^/]+"], r"LOG_REDACTED_PATHS entry '/invite/[^/]+' captures no group: put "
                                                   r"the secret part in parentheses"),
    ],
)
def test_a_bad_redaction_setting_is_an_error_that_says_what_is_wrong(settings, name, value, message):
    setattr(settings, name, value)

    [(check_id, text)] = found().items()
    assert check_id == {"LOG_REDACTED_PARAMETERS": "django_elk_logging.E017",
                        "LOG_REDACTED_PATHS": "django_elk_logging.E018"}[name]
    assert text == f"{message}; until it is fixed, redaction goes on without it."


def test_a_project_without_django_contrib_auth_starts_and_runs_its_checks(tmp_path):
    # The package's app loads nothing of django.contrib.auth that needs its models.
    project = new_project(tmp_path, """
        INSTALLED_APPS = ["django_elk_logging"]
        MIDDLEWARE = ["django_elk_logging.request_context.RequestIdMiddleware"]
    """)

    result, _ = project.run("""
        from django.core.checks import run_checks
        print(json.dumps({"checks": sorted(message.id for message in run_checks())}))
    """)

    assert result == {"checks": ["django_elk_logging.W005"]}
