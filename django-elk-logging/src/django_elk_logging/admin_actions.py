"""admin_action: every addition, change and deletion the Django admin records in its LogEntry table.

The admin writes its entries through LogEntryManager.log_actions (django/contrib/admin/models.py, 5.2 and
6.1): one entry is saved, several (the "delete selected" action's, ModelAdmin.log_deletions) are
bulk-created, and bulk_create sends no post_save. Every path builds each entry with LogEntry(...) first,
which sends post_init; so the entry is read when it is built, from what it holds. A deletion's entry is
built before the objects are deleted, as Django records it ("must be called before the deletion",
options.py, log_deletions), inside the view's transaction; so the record, read at post_init, is written once
that transaction commits (committed.py): an admin change or deletion rolled back afterwards leaves none. An
entry read from the database has its primary key when post_init is sent (Model.from_db); one being built has
none, so reading the admin's history logs nothing.

The change message is LogEntry.get_change_message(): field names and related objects, never a value (a
password change is "Changed password."), in Django's own words, untranslated. object_repr (the object's str()) is not logged: a model's str()
may be a token.
"""

import logging

from django.contrib.admin.models import ADDITION, CHANGE, DELETION
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import router
from django.utils import translation

from .committed import when_committed
from .security_events import log_security_event

logger = logging.getLogger("security")

OPERATIONS = {ADDITION: "addition", CHANGE: "change", DELETION: "deletion"}


def usernames(user_model, ids) -> dict:
    """The usernames of the users with these primary keys (given as the pk or its text), by the text of the pk."""
    pks = {user_model._meta.pk.to_python(pk) for pk in ids if pk not in (None, "")}
    rows = user_model._base_manager.filter(pk__in=pks).values_list("pk", user_model.USERNAME_FIELD)
    return {str(pk): username for pk, username in rows}


def log_admin_entry(sender, instance, **kwargs):
    """post_init of LogEntry: log an entry being built (no primary key yet)."""
    if instance.pk is not None or instance.action_flag not in OPERATIONS:
        return
    user_model = get_user_model()
    content_type = ContentType.objects.get_for_id(instance.content_type_id) if instance.content_type_id else None
    model = content_type.model_class() if content_type is not None else None
    object_id = "" if instance.object_id is None else str(instance.object_id)
    is_user = model is not None and issubclass(model, user_model)
    names = usernames(user_model, [instance.user_id, object_id if is_user else None])
    actor = names.get(str(instance.user_id), "")
    target_user = names.get(object_id, "") if is_user else ""
    object_type = f"{content_type.app_label}.{content_type.model}" if content_type is not None else ""
    operation = OPERATIONS[instance.action_flag]
    target = f" ({target_user})" if target_user else ""
    # Untranslated, as the admin stores it (django/contrib/admin/utils.py, construct_change_message): the same
    # words whatever the admin's language.
    with translation.override(None):
        change_message = instance.get_change_message()
    # The admin's atomic block is on the changed model's database (options.py, changeform_view, delete_view).
    using = router.db_for_write(model if model is not None else sender)
    when_committed(using, lambda: log_security_event(
        logger, "admin_action", "Admin %s of %s %s%s by %s%s", operation, object_type or "an unknown type",
        object_id, target, actor or "an unknown user", f": {change_message}" if change_message else "",
        user=actor, target_user=target_user, object_type=object_type, object_id=object_id, operation=operation,
    ))
