"""Security events from Django's auth signals.

Credentials are never logged: only the username, which the formatter escapes.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

logger = logging.getLogger("security")


@receiver(user_logged_in)
def log_user_logged_in(sender, request, user, **kwargs):
    username = user.get_username()
    logger.info("User logged in: %s", username, extra={"event": "user_logged_in", "user": username})


@receiver(user_logged_out)
def log_user_logged_out(sender, request, user, **kwargs):
    username = user.get_username() if user is not None else ""
    logger.info("User logged out: %s", username, extra={"event": "user_logged_out", "user": username})


@receiver(user_login_failed)
def log_user_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get(get_user_model().USERNAME_FIELD, ""))
    logger.warning("Login failed: %s", username, extra={"event": "user_login_failed", "user": username})
