from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.signals import request_finished, request_started


class ElkLoggingConfig(AppConfig):
    """Connects the request context (request_started/finished) and the auth security events; registers the checks;
    applies the redaction settings."""

    name = "django_elk_logging"
    verbose_name = "ELK logging"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
        from .redaction import configure, parameter_names, path_patterns
        from .request_context import begin_request, end_request
        from .signals import log_user_logged_in, log_user_logged_out, log_user_login_failed

        request_started.connect(begin_request, dispatch_uid="django_elk_logging.begin_request")
        request_finished.connect(end_request, dispatch_uid="django_elk_logging.end_request")
        user_logged_in.connect(log_user_logged_in, dispatch_uid="django_elk_logging.user_logged_in")
        user_logged_out.connect(log_user_logged_out, dispatch_uid="django_elk_logging.user_logged_out")
        user_login_failed.connect(log_user_login_failed, dispatch_uid="django_elk_logging.user_login_failed")
        # Here, in the process that serves: gunicorn's access logger redacts with them too. A bad value is the
        # checks' error (E017, E018); until it is fixed, redaction goes on without it.
        configure(_valid(parameter_names, getattr(settings, "LOG_REDACTED_PARAMETERS", ())),
                  _valid(path_patterns, getattr(settings, "LOG_REDACTED_PATHS", ())))


def _valid(parse, value):
    try:
        return parse(value)
    except ValueError:
        return parse(())
