"""password_changed and password_reset_completed: every set_password() followed by save() of a user.

Django's forms and views (PasswordChangeView, the admin's password change, PasswordResetConfirmView),
``manage.py changepassword`` and code of a project's own all end in ``user.set_password(raw)`` and then
``user.save()``; AbstractBaseUser.save (django/contrib/auth/base_user.py) sends post_save, through
Model.save, while ``user._password`` still holds the raw password, and clears it after. So one post_save
receiver sees them all. The raw password is only tested for None, never read: a hash upgrade on login
clears it before its save (check_password's setter), so an upgrade is not a change.

A save that replaces the hash without set_password() is a change too: set_unusable_password() (the admin's
"Disable password-based authentication", SetUnusablePasswordMixin in django/contrib/auth/forms.py) or a hash
assigned to ``user.password``. account_changes.read_stored_flags reads the stored hash before such a save.

Inside a request the actor is the request's user when the save is made (``user``); outside one, the message
names the process. The record is written once the save is committed (committed.py), still inside the request. The middleware (auth_events.py) tells which request runs.
"""

import contextvars
import logging

from django.contrib.auth.views import PasswordResetConfirmView

from .account_changes import STORED_PASSWORD
from .committed import when_committed
from .request_context import current_request
from .security_events import log_security_event, process_name

logger = logging.getLogger("security")

_http_request = contextvars.ContextVar("django_elk_logging_http_request", default=None)


def set_http_request(request) -> contextvars.Token:
    """Makes ``request`` the one whose view runs now (reset with the token it returns)."""
    return _http_request.set(request)


def reset_http_request(token: contextvars.Token) -> None:
    _http_request.reset(token)


def runs_view(request, view_class) -> bool:
    """The request runs ``view_class`` (or a subclass), a class-based view (its as_view() function's view_class)."""
    match = getattr(request, "resolver_match", None)
    found = getattr(match.func, "view_class", None) if match is not None else None
    return isinstance(found, type) and issubclass(found, view_class)


def _change_words(instance) -> str | None:
    """What the save did to the password, or None when it kept it."""
    stored_hash = instance.__dict__.pop(STORED_PASSWORD, None)
    if getattr(instance, "_password", None) is not None:
        return "changed"
    if stored_hash is None or stored_hash == instance.password:
        return None
    return "hash replaced" if instance.has_usable_password() else "disabled"


def log_password_saved(sender, instance, created, using=None, **kwargs):
    """post_save receiver of the user model: a saved password is a password change, or a reset's end."""
    words = _change_words(instance)
    if created or words is None:
        return  # a new user (user_created is its event), or a save that kept the password
    target = instance.get_username()
    context = current_request()
    # Who acts, as the request knows it now: by the commit, a reset's view may have logged the user in.
    user = context.username if context is not None else ""
    request = _http_request.get()
    if words == "changed" and request is not None and runs_view(request, PasswordResetConfirmView):
        action, message, args = "password_reset_completed", "Password reset completed: %s", (target,)
    elif context is not None:
        action, message, args = "password_changed", f"Password {words}: %s", (target,)
    else:
        action, message, args = "password_changed", f"Password {words} by %s: %s", (process_name(), target)
    when_committed(using, lambda: log_security_event(logger, action, message, *args, user=user, target_user=target))
