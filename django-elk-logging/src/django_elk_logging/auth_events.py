"""AuthEventsMiddleware: the login, session and password events Django sends no signal for.

Place it after AuthenticationMiddleware (checks.py warns otherwise). For each request it

- loads the session its cookie names: a cookie that names no session (expired, ended, forged) is a
  ``session_rejected``; so is a session whose user Django no longer accepts (deleted, inactive, or its
  password changed since), naming that user, and that session is ended: logged once, its cookie deleted;
- resolves the user when the session holds one (anonymous traffic costs no query), before the view and
  before CsrfViewMiddleware.process_view, so permission_denied and csrf_failure records carry ``user``;
- makes the request the one password_events.py sees, so the save inside PasswordResetConfirmView is
  logged as ``password_reset_completed`` (one record, not a ``password_changed`` too);
- reads the forms Django's auth views render (process_template_response): a refused login with the
  right password, a login sent with an empty username or password, a password change the form refused;
  and logs ``password_reset_requested`` when PasswordResetView accepted its form.
"""

import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.forms import AdminPasswordChangeForm, AuthenticationForm, SetPasswordForm
from django.contrib.auth.views import PasswordResetView
from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare

from .password_events import reset_http_request, runs_view, set_http_request
from .request_context import SyncAndAsyncMiddleware, request_context_for
from .security_events import log_security_event

logger = logging.getLogger("security")

# PasswordChangeForm and the admin's own password form are SetPasswordForms; the admin's form for
# another user's password is not (django/contrib/auth/forms.py).
PASSWORD_FORMS = (SetPasswordForm, AdminPasswordChangeForm)
# What a session says of its user, read before the user is resolved: get_user flushes a session it refuses.
_SAVED_KEYS = (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY)


def error_codes(form) -> str:
    """The codes of the form's errors (password_incorrect, password_mismatch, required...): never a value."""
    codes = (error.code or "invalid" for errors in form.errors.as_data().values() for error in errors)
    return ", ".join(dict.fromkeys(codes))


def rejection_reason(user, backend_path, session_hash) -> str:
    """Why django.contrib.auth.get_user (django/contrib/auth/__init__.py) refused an existing user's session."""
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return "its authentication backend is no longer configured"
    if not user.is_active:
        return "the user is inactive"
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return "the password (or SECRET_KEY) changed since the session began"
    return "the authentication backend refused the user"


def _user_by_id(user_id):
    try:
        return get_user_model()._default_manager.filter(pk=user_id).first()
    except (ValueError, TypeError, ValidationError):  # not a key of this user model
        return None


def _log_unknown_session():
    # Never the cookie's value: it is a session id.
    log_security_event(logger, "session_rejected",
                       "Session rejected: the session cookie names no session (expired, ended or forged)")


def _log_refused_user(user, saved):
    """The caller ends the session: django.contrib.auth.get_user (django/contrib/auth/__init__.py) flushes it
    only on a hash mismatch; for a deleted or inactive user ModelBackend.get_user returns None and the
    session keeps its user, so each request would log it again."""
    if user is None:
        log_security_event(logger, "session_rejected", "Session rejected: its user (id %s) no longer exists",
                           saved[SESSION_KEY])
        return
    username = user.get_username()
    reason = rejection_reason(user, saved[BACKEND_SESSION_KEY], saved[HASH_SESSION_KEY])
    # The reason first: a long name is cut at the end of the message.
    log_security_event(logger, "session_rejected", "Session rejected (%s): %s", reason, username, user=username)


class AuthEventsMiddleware(SyncAndAsyncMiddleware):
    """Logs session_rejected, the login and password failures of the auth forms, and password resets;
    gives the request's user to the request context (log_filters adds it to security records)."""

    def call(self, request):
        if self._has_session_cookie(request):
            saved = {key: request.session.get(key) for key in _SAVED_KEYS}
            if request.session.session_key is None:
                _log_unknown_session()
            elif saved[SESSION_KEY] is not None:
                user = request.user
                if user.is_authenticated:
                    request_context_for(request).username = user.get_username()
                else:
                    _log_refused_user(_user_by_id(saved[SESSION_KEY]), saved)
                    request.session.flush()
        token = set_http_request(request)
        try:
            response = self.get_response(request)
        finally:
            reset_http_request(token)
        self._log_reset_request(request, response)
        return response

    async def acall(self, request):
        if self._has_session_cookie(request):
            saved = {key: await request.session.aget(key) for key in _SAVED_KEYS}
            if request.session.session_key is None:
                _log_unknown_session()
            elif saved[SESSION_KEY] is not None:
                user = await request.auser()
                if user.is_authenticated:
                    request_context_for(request).username = user.get_username()
                else:
                    _log_refused_user(await sync_to_async(_user_by_id)(saved[SESSION_KEY]), saved)
                    await request.session.aflush()
        token = set_http_request(request)
        try:
            response = await self.get_response(request)
        finally:
            reset_http_request(token)
        self._log_reset_request(request, response)
        return response

    @staticmethod
    def _has_session_cookie(request) -> bool:
        # Without Django's session and authentication middleware above it there is nothing to read. An empty
        # cookie claims no session: it is what SessionMiddleware sends to delete one.
        return hasattr(request, "session") and hasattr(request, "auser") and bool(
            request.COOKIES.get(settings.SESSION_COOKIE_NAME))

    @staticmethod
    def _log_reset_request(request, response):
        # PasswordResetView redirects once its form is valid (form_valid, django/contrib/auth/views.py),
        # and renders the form again when it is not. request.POST was parsed by the view already.
        # The address is whoever the sender typed: target_user, never user (who acted; the request context
        # gives it when the sender is logged in).
        if request.method == "POST" and response.status_code == 302 and runs_view(request, PasswordResetView):
            email = request.POST.get("email", "")
            log_security_event(logger, "password_reset_requested", "Password reset requested: %s", email,
                               target_user=email)

    def process_template_response(self, request, response):
        form = (getattr(response, "context_data", None) or {}).get("form")
        # cleaned_data exists once the form was validated: form.errors on an unvalidated form would run
        # its clean(), and AuthenticationForm.clean authenticates.
        if not getattr(form, "is_bound", False) or not hasattr(form, "cleaned_data") or not form.errors:
            return response
        if isinstance(form, PASSWORD_FORMS):
            target = form.user.get_username()
            log_security_event(logger, "password_change_failed", "Password change failed (%s): %s",
                               error_codes(form), target, target_user=target)
        elif isinstance(form, AuthenticationForm):
            self._log_refused_login(form)
        return response

    @staticmethod
    def _log_refused_login(form):
        """Failed logins that send no user_login_failed: authenticate() accepted the password, or never ran
        (AuthenticationForm.clean, django/contrib/auth/forms.py, skips it without a username or a password)."""
        user = form.get_user()
        if user is not None:
            username = user.get_username()
            # AdminAuthenticationForm (django/contrib/admin/forms.py) refuses a non-staff user as invalid_login.
            refused = isinstance(form, AdminAuthenticationForm) and not user.is_staff
            reason = "not staff" if refused else error_codes(form)
            log_security_event(logger, "user_login_failed", "Login failed (correct password, login refused: %s): %s",
                               reason, username, user=username)
        elif form.cleaned_data.get("username") is None or not form.cleaned_data.get("password"):
            # authenticate() never ran: the form refused a field first. The account as typed, escaped.
            typed = form.data.get(form.add_prefix("username"), "")
            if not typed.strip():
                log_security_event(logger, "user_login_failed", "Login failed (empty username)")
                return
            refused = form.errors.as_data().get("username")
            reason = ("username refused: " + ", ".join(error.code or "invalid" for error in refused) if refused
                      else "empty password")
            log_security_event(logger, "user_login_failed", "Login failed (%s): %s", reason, typed, user=typed)
