"""Security events for accounts changed through the ORM, whoever changes them: the admin, a command, a view.

user_created and user_deleted, and privilege_changed for the user model's is_superuser, is_staff and
is_active (only those the model has: a custom user model may lack them). The receivers are connected by
apps.py to the user model and its proxies (a proxy's save sends its own class as the sender,
django/db/models/base.py, save_base).

A save reads the stored flags first (pre_save, one query) and compares them once the save has succeeded
(post_save). No query when the save cannot change them: a save whose update_fields leaves them out, as
update_last_login's ``update_fields=["last_login"]`` at every login (django/contrib/auth/models.py).
The same query reads the stored password hash for password_events.py when the save may write a hash that
set_password() did not set (set_unusable_password(), an assigned hash).
"""

import logging

from .committed import when_committed
from .request_context import current_request
from .security_events import log_security_event, process_name

logger = logging.getLogger("security")

# In the contract's order (privilege=...). Only flags that are database fields are watched:
# AbstractBaseUser's is_active is a class attribute unless the model declares the field.
PRIVILEGE_FLAGS = ("is_superuser", "is_staff", "is_active")
# A new user with these set has gained them (is_active is every new user's default: no record).
GAINED_AT_CREATION = ("is_superuser", "is_staff")
# The flags a save is about to change, kept on the instance between pre_save and post_save.
_STORED_FLAGS = "_elk_logging_stored_privileges"
# The stored password hash, kept the same way for password_events.log_password_saved.
STORED_PASSWORD = "_elk_logging_stored_password"


def privilege_flags(model) -> tuple[str, ...]:
    """The flags of PRIVILEGE_FLAGS that ``model`` stores as fields."""
    stored = {field.attname for field in model._meta.concrete_fields}
    return tuple(flag for flag in PRIVILEGE_FLAGS if flag in stored)


def flag_text(value) -> str:
    return "true" if value else "false"


def actor() -> tuple[str, str]:
    """Who acts now, as (the ``user`` field, the words for the message).

    In a request: its user, once the request knows it. Outside one: no user, and the process
    (security_events.process_name).
    """
    request = current_request()
    if request is not None:
        return request.username, f"by {request.username}" if request.username else "in a request by no known user"
    return "", f"via {process_name()}"


def log_privilege_change(privilege: str, old: bool, new: bool, *, using: str | None, target_user: str = "",
                         target_group: str = "") -> None:
    """privilege_changed, once the change is committed on database ``using`` (committed.py)."""
    user, acting = actor()
    target = f"user {target_user}" if target_user else f"group {target_group}"
    when_committed(using, lambda: log_security_event(
        logger, "privilege_changed", "Privilege changed: %s of %s %s -> %s %s", privilege, target, flag_text(old),
        flag_text(new), acting, user=user, target_user=target_user, target_group=target_group, privilege=privilege,
        old=flag_text(old), new=flag_text(new),
    ))


def _may_replace_hash(instance, update_fields) -> bool:
    """The save may write a hash set_password() did not set. After set_password(), ``_password`` holds the
    raw password (AbstractBaseUser, django/contrib/auth/base_user.py): that change is known without the hash.
    Not the hash upgrade at login: check_password's setter calls set_password(), clears ``_password`` and
    saves with update_fields=["password"] (base_user.py); the password stays the same."""
    if getattr(instance, "_password", None) is not None:
        return False
    return update_fields is None or ("password" in update_fields and set(update_fields) != {"password"})


def read_stored_flags(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    """pre_save: the flags as stored, when this save may change them, and the password hash likewise."""
    instance.__dict__.pop(_STORED_FLAGS, None)
    instance.__dict__.pop(STORED_PASSWORD, None)
    flags = privilege_flags(sender)
    if update_fields is not None:
        flags = tuple(flag for flag in flags if flag in update_fields)
    password = ("password",) if _may_replace_hash(instance, update_fields) else ()
    # A new object with a primary key may still overwrite a stored row (save() tries an UPDATE first).
    if not (flags or password) or instance.pk is None:
        return
    stored = sender._base_manager.using(using).filter(pk=instance.pk).values(*flags, *password).first()
    if stored is not None:
        if password:
            instance.__dict__[STORED_PASSWORD] = stored.pop("password")
        instance.__dict__[_STORED_FLAGS] = stored


def log_saved_user(sender, instance, created, raw=False, using=None, update_fields=None, **kwargs):
    """post_save: user_created for a new user (and the privileges it starts with), else each changed flag;
    written once the save is committed."""
    stored = instance.__dict__.pop(_STORED_FLAGS, None)
    username = instance.get_username()
    if created:
        user, acting = actor()
        when_committed(using, lambda: log_security_event(logger, "user_created", "User created: %s %s", username,
                                                         acting, user=user, target_user=username))
        for flag in privilege_flags(sender):
            if flag in GAINED_AT_CREATION and getattr(instance, flag):
                log_privilege_change(flag, False, True, using=using, target_user=username)
        return
    for flag, old in (stored or {}).items():
        new = getattr(instance, flag)
        if bool(old) != bool(new):
            log_privilege_change(flag, old, new, using=using, target_user=username)


def log_deleted_user(sender, instance, using=None, **kwargs):
    """post_delete: sent once per user, also by a queryset's delete() (the admin's "delete selected"), since
    a model with delete receivers is never fast-deleted (django/db/models/deletion.py, can_fast_delete).
    Written once the deletion is committed: one rolled back leaves no record."""
    username = instance.get_username()
    user, acting = actor()
    when_committed(using, lambda: log_security_event(logger, "user_deleted", "User deleted: %s %s", username, acting,
                                                     user=user, target_user=username))
