"""Containment: deactivate a user and end every session they have, logged as a security event.

Used by the deactivate_user management command and the User admin's action. ``is_active=False``
already stops the user's sessions on their next request (ModelBackend.get_user returns None for
an inactive user, django/contrib/auth/backends.py), but leaves the session rows: reactivating
the user would bring a stolen session back. So the sessions are deleted too. The database
session store keeps no index from user to session, so every unexpired session is decoded once
(the cost grows with the number of live sessions, not of users). Rotating the user's password
hash would also end them (django/contrib/auth/__init__.py get_user compares the session's
HASH_SESSION_KEY), but it destroys the password, which is a decision of its own.
"""

import logging
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.utils import timezone
from django_elk_logging.security_events import log_security_event

logger = logging.getLogger("security")

# An operator's name as the log records it (Django's own username limit).
MAX_ACTOR_CHARS = 150


@dataclass(frozen=True)
class Deactivation:
    username: str
    was_active: bool
    sessions_ended: int


def end_sessions(user) -> int:
    """Deletes the user's unexpired sessions from the configured database-backed session store."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    store = store_class()
    user_id = str(user.pk)
    ended = 0
    rows = store_class.get_model_class().objects.filter(expire_date__gt=timezone.now())
    for session_key, session_data in rows.values_list("session_key", "session_data").iterator():
        # SessionBase.decode (django/contrib/sessions/backends/base.py) without its "Session data
        # corrupted" warning: a session signed with a retired SECRET_KEY is dead already.
        try:
            data = signing.loads(session_data, salt=store.key_salt, serializer=store.serializer)
        except (signing.BadSignature, ValueError):
            continue
        if data.get(SESSION_KEY) == user_id:
            # Through the store, so a cached_db engine drops its cached copy too.
            store.delete(session_key)
            ended += 1
    return ended


def deactivate_user(user, *, actor: str, via: str, reason: str = "") -> Deactivation:
    """Sets is_active=False first (no new login can then succeed), then ends the sessions; logs one event."""
    was_active = user.is_active
    if was_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    ended = end_sessions(user)
    username = user.get_username()
    state = "User deactivated" if was_active else "User already inactive"
    because = f"; reason: {reason}" if reason else ""
    log_security_event(
        logger, "user_deactivated", "%s: %s by %s via %s; %d session(s) ended%s", state, username, actor, via, ended,
        because, user=actor, target_user=username,
    )
    return Deactivation(username=username, was_active=was_active, sessions_ended=ended)
