"""Security events from Django's auth signals, logged to the ``security`` logger.

Credentials are never logged: only the account name, which the formatter escapes.
The app config (apps.py) connects these receivers.
"""

import logging
import re

from django.contrib.auth import get_user_model

logger = logging.getLogger("security")

# Keys whose value is never logged. Django masks values under keys matching
# "api|token|key|secret|password|signature" before it sends user_login_failed
# (django/contrib/auth/__init__.py, _clean_credentials); the rest are secrets a custom
# backend may take (one-time codes, PINs, passphrases, credentials of any kind).
_SECRET_KEY = re.compile(r"api|token|key|secret|pass|signature|otp|code|pin|credential|auth|hash|nonce|cvv", re.I)
# Keys that name an account, in the order they are believed: Django's LoginView and the admin send
# "username" whatever USERNAME_FIELD is; django-allauth sends "email", "username" or "phone".
_ACCOUNT_KEYS = ("username", "email", "login", "phone", "user", "identifier")


def attempted_account(credentials: dict) -> str:
    """The account a failed login named: USERNAME_FIELD's key if sent, then the usual keys, then any
    other key that does not look like a secret; "" when there is none.

    Only text is taken (a masked value, a number or an object is not an account name).
    """
    preferred = (get_user_model().USERNAME_FIELD, *_ACCOUNT_KEYS)
    keys = [*(key for key in preferred if key in credentials), *(key for key in credentials if key not in preferred)]
    for key in keys:
        value = credentials[key]
        if isinstance(key, str) and not _SECRET_KEY.search(key) and isinstance(value, str) and value:
            return value
    return ""


def log_user_logged_in(sender, request, user, **kwargs):
    username = user.get_username()
    logger.info("User logged in: %s", username, extra={"event": "user_logged_in", "user": username})


def log_user_logged_out(sender, request, user, **kwargs):
    username = user.get_username() if user is not None else ""
    logger.info("User logged out: %s", username, extra={"event": "user_logged_out", "user": username})


def log_user_login_failed(sender, credentials, request=None, **kwargs):
    account = attempted_account(credentials)
    logger.warning("Login failed: %s", account, extra={"event": "user_login_failed", "user": account})
