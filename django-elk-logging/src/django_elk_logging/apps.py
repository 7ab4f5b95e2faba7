from django.apps import AppConfig, apps
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.signals import request_finished, request_started, setting_changed
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_delete, pre_save

# The many-to-many fields that grant privileges: (app model label, field name).
MEMBERSHIPS = (("user", "groups"), ("user", "user_permissions"), ("auth.group", "permissions"))


class ElkLoggingConfig(AppConfig):
    """Connects the request context (request_started/finished), the auth security events and the account, password,
    privilege and admin events; registers the checks; applies the redaction settings; reads the identity settings
    again when they change (override_settings)."""

    name = "django_elk_logging"
    verbose_name = "ELK logging"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
        from .redaction import configure, parameter_names, path_patterns
        from .request_context import begin_request, end_request
        from .signals import log_user_logged_in, log_user_logged_out, log_user_login_failed

        setting_changed.connect(_forget_identity, dispatch_uid="django_elk_logging.identity")
        request_started.connect(begin_request, dispatch_uid="django_elk_logging.begin_request")
        request_finished.connect(end_request, dispatch_uid="django_elk_logging.end_request")
        user_logged_in.connect(log_user_logged_in, dispatch_uid="django_elk_logging.user_logged_in")
        user_logged_out.connect(log_user_logged_out, dispatch_uid="django_elk_logging.user_logged_out")
        user_login_failed.connect(log_user_login_failed, dispatch_uid="django_elk_logging.user_login_failed")
        # Here, in the process that serves: gunicorn's access logger redacts with them too. A bad value is the
        # checks' error (E017, E018); until it is fixed, redaction goes on without it.
        configure(_valid(parameter_names, getattr(settings, "LOG_REDACTED_PARAMETERS", ())),
                  _valid(path_patterns, getattr(settings, "LOG_REDACTED_PATHS", ())))
        if apps.is_installed("django.contrib.auth"):
            connect_account_changes()
        if apps.is_installed("django.contrib.admin"):
            from django.contrib.admin.models import LogEntry

            from .admin_actions import log_admin_entry

            post_init.connect(log_admin_entry, sender=LogEntry, dispatch_uid="django_elk_logging.admin_action")


def _forget_identity(setting, **kwargs):
    # django/test/utils.py (override_settings.enable, disable) sends setting_changed for each setting it changes.
    from .identity import SETTINGS, forget

    if setting in SETTINGS:
        forget()


def _valid(parse, value):
    try:
        return parse(value)
    except ValueError:
        return parse(())


def connect_account_changes():
    """The user model's saves and deletions, and its proxies' (each sends its own class), and the memberships."""
    from django.contrib.auth import get_user_model

    from .account_changes import log_deleted_user, log_saved_user, read_stored_flags
    from .membership_changes import Membership
    from .password_events import log_password_saved

    user_model = get_user_model()
    for model in apps.get_models():
        if model._meta.concrete_model is user_model:
            label = model._meta.label_lower
            pre_save.connect(read_stored_flags, sender=model, dispatch_uid=f"django_elk_logging.stored_flags.{label}")
            post_save.connect(log_saved_user, sender=model, dispatch_uid=f"django_elk_logging.saved_user.{label}")
            post_save.connect(log_password_saved, sender=model, dispatch_uid=f"django_elk_logging.password_saved.{label}")
            post_delete.connect(log_deleted_user, sender=model, dispatch_uid=f"django_elk_logging.deleted_user.{label}")
    for owner_label, field_name in MEMBERSHIPS:
        owner = user_model if owner_label == "user" else apps.get_model(owner_label)
        field = next((field for field in owner._meta.many_to_many if field.name == field_name), None)
        if field is not None:
            membership = Membership(owner, field_name)
            # weak=False: the bound method is the only reference to its Membership.
            uid = f"django_elk_logging.membership.{owner._meta.label_lower}.{field_name}"
            m2m_changed.connect(membership.changed, sender=membership.through, weak=False, dispatch_uid=uid)
            pre_delete.connect(membership.related_deleting, sender=membership.related_model, weak=False,
                               dispatch_uid=f"{uid}.related_deleting")
            post_delete.connect(membership.related_deleted, sender=membership.related_model, weak=False,
                                dispatch_uid=f"{uid}.related_deleted")
