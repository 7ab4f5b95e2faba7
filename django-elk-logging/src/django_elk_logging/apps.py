from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.signals import request_finished, request_started
from django.db.models.signals import post_save


class ElkLoggingConfig(AppConfig):
    """Connects the request context (request_started/finished), the auth security events and the password
    changes (post_save of the user model); registers the checks."""

    name = "django_elk_logging"
    verbose_name = "ELK logging"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
        from .password_events import log_password_saved
        from .request_context import begin_request, end_request
        from .signals import log_user_logged_in, log_user_logged_out, log_user_login_failed

        request_started.connect(begin_request, dispatch_uid="django_elk_logging.begin_request")
        request_finished.connect(end_request, dispatch_uid="django_elk_logging.end_request")
        user_logged_in.connect(log_user_logged_in, dispatch_uid="django_elk_logging.user_logged_in")
        user_logged_out.connect(log_user_logged_out, dispatch_uid="django_elk_logging.user_logged_out")
        user_login_failed.connect(log_user_login_failed, dispatch_uid="django_elk_logging.user_login_failed")
        post_save.connect(log_password_saved, sender=settings.AUTH_USER_MODEL,
                          dispatch_uid="django_elk_logging.password_saved")
