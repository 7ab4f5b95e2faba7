"""Security events from Django's auth signals, logged to the ``security`` logger.

Credentials are never logged: only the username, which the formatter escapes.
The app config (apps.py) connects these receivers.
"""

import logging

from django.contrib.auth import get_user_model

logger = logging.getLogger("security")


def log_user_logged_in(sender, request, user, **kwargs):
    username = user.get_username()
    logger.info("User logged in: %s", username, extra={"event": "user_logged_in", "user": username})


def log_user_logged_out(sender, request, user, **kwargs):
    username = user.get_username() if user is not None else ""
    logger.info("User logged out: %s", username, extra={"event": "user_logged_out", "user": username})


def log_user_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get(get_user_model().USERNAME_FIELD, ""))
    logger.warning("Login failed: %s", username, extra={"event": "user_login_failed", "user": username})
