"""Security events from Django's auth signals, logged to the ``security`` logger.

Credentials are never logged: only the account name, which the formatter escapes.
The app config (apps.py) connects these receivers.
"""

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model

from .request_context import current_request
from .security_events import log_security_event

logger = logging.getLogger("security")

# Keys that name an account, besides the user model's USERNAME_FIELD and EMAIL_FIELD: Django's LoginView
# and the admin send "username" whatever USERNAME_FIELD is (django/contrib/auth/forms.py); django-allauth
# sends "email", "username" or "phone" (allauth/account/forms.py); RemoteUserBackend "remote_user". A
# project adds its own backends' keys in the LOGIN_ACCOUNT_KEYS setting. No other value is logged: a
# backend's unknown key may hold a token (django-sesame's "sesame", a CAS "ticket").
ACCOUNT_KEYS = ("username", "email", "login", "phone", "remote_user")
# Never logged, even when a project names them: what Django masks before it sends user_login_failed
# (django/contrib/auth/__init__.py, _clean_credentials), and other secrets' usual names.
_SECRET_KEY = re.compile(r"api|token|key|secret|pass|signature|otp|code|pin|credential|auth|hash|nonce|cvv", re.I)


def is_secret_key(name: str) -> bool:
    """A credential key whose value is never logged, whoever names it."""
    return bool(_SECRET_KEY.search(name))


def account_keys() -> tuple[str, ...]:
    """The credential keys that name an account, in the order they are believed."""
    model = get_user_model()
    extra = tuple(getattr(settings, "LOGIN_ACCOUNT_KEYS", ()))
    names = (model.USERNAME_FIELD, model.get_email_field_name(), *ACCOUNT_KEYS, *extra)
    return tuple(dict.fromkeys(name for name in names if not is_secret_key(name)))


def attempted_account(credentials: dict) -> str | None:
    """The account a failed login named: the first non-empty text under one of account_keys(), "" when those
    keys hold only empty text, None when the credentials have none of them."""
    named = [value for value in map(credentials.get, account_keys()) if isinstance(value, str)]
    return next((value for value in named if value), "" if named else None)


def _set_request_user(request, username: str) -> None:
    """The request's user changed: later security records of the request carry the new one. Client.login()
    sends the signal with a request of its own, outside any request: no context to change then."""
    context = current_request()
    if request is not None and context is not None and context.meta is request.META:
        context.username = username


def log_user_logged_in(sender, request, user, **kwargs):
    username = user.get_username()
    _set_request_user(request, username)
    log_security_event(logger, "user_logged_in", "User logged in: %s", username, user=username)


def log_user_logged_out(sender, request, user, **kwargs):
    username = user.get_username() if user is not None else ""
    log_security_event(logger, "user_logged_out", "User logged out: %s", username, user=username)
    _set_request_user(request, "")


def log_user_login_failed(sender, credentials, request=None, **kwargs):
    account = attempted_account(credentials)
    if account is not None:
        log_security_event(logger, "user_login_failed", "Login failed: %s", account, user=account)
    else:
        # Only the keys, never their values: which kind of login failed, without a secret.
        keys = ", ".join(sorted(str(key) for key in credentials))
        log_security_event(logger, "user_login_failed", "Login failed: no account name in the credentials (keys: %s)",
                           keys)
