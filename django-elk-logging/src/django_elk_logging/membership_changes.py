"""privilege_changed for group memberships and granted permissions: a user's groups, a user's permissions and a
group's permissions, changed from either side (``user.groups.add(group)`` or ``group.user_set.add(user)``).

One record per (user or group, group or permission) that really changed. Django's m2m_changed
(django/db/models/fields/related_descriptors.py, ManyRelatedManager) names in post_add only the rows it
inserted, but in pre_remove every object it was asked to remove, and in pre_clear none: so before a
remove or a clear the rows that are there are read (one query), and logged once they are gone. Deleting a
group or a permission takes it from everyone who held it, with no m2m_changed: that is logged too.
Each record is written once the change is committed (account_changes.log_privilege_change, committed.py).
Not seen: QuerySet.update() and bulk_update() of the user model, and rows written by raw SQL (Django sends
no signal for them).
"""

from .account_changes import log_privilege_change

# What a remove, a clear or a deletion is about to take away, kept on the instance until its post_ signal.
_LEAVING = "_elk_logging_leaving_pairs"


class Membership:
    """One many-to-many relation that grants privileges: ``owner_model.<field_name>`` (User.groups,
    User.user_permissions, Group.permissions)."""

    def __init__(self, owner_model, field_name: str):
        field = owner_model._meta.get_field(field_name)
        self.owner_model = owner_model
        self.related_model = field.related_model
        self.through = field.remote_field.through
        self.owner_column = self.through._meta.get_field(field.m2m_field_name()).attname
        self.related_column = self.through._meta.get_field(field.m2m_reverse_field_name()).attname
        # The owner is a user (target_user) unless it is a group (target_group).
        self.owner_is_group = owner_model._meta.label_lower == "auth.group"

    def present_pairs(self, owner_ids=None, related_ids=None) -> set[tuple]:
        """The (owner pk, related pk) rows stored, among the owners and related objects given (None: any)."""
        rows = self.through._base_manager.all()
        if owner_ids is not None:
            rows = rows.filter(**{f"{self.owner_column}__in": owner_ids})
        if related_ids is not None:
            rows = rows.filter(**{f"{self.related_column}__in": related_ids})
        return set(rows.values_list(self.owner_column, self.related_column))

    def owner_names(self, ids) -> dict:
        name_field = "name" if self.owner_is_group else self.owner_model.USERNAME_FIELD
        return dict(self.owner_model._base_manager.filter(pk__in=ids).values_list("pk", name_field))

    def privilege_names(self, ids) -> dict:
        rows = self.related_model._base_manager.filter(pk__in=ids)
        if self.related_model._meta.label_lower == "auth.group":
            return {pk: f"group:{name}" for pk, name in rows.values_list("pk", "name")}
        return {pk: f"permission:{app_label}.{codename}"
                for pk, app_label, codename in rows.values_list("pk", "content_type__app_label", "codename")}

    def describe(self, pairs: set[tuple]) -> list[tuple[dict, str]]:
        """Each pair's (target field, privilege), in primary-key order."""
        if not pairs:
            return []
        owners = self.owner_names({owner for owner, _ in pairs})
        privileges = self.privilege_names({related for _, related in pairs})
        target_field = "target_group" if self.owner_is_group else "target_user"
        return [({target_field: owners.get(owner, str(owner))}, privileges.get(related, str(related)))
                for owner, related in sorted(pairs)]

    @staticmethod
    def log(described: list[tuple[dict, str]], granted: bool, using: str | None) -> None:
        for target, privilege in described:
            log_privilege_change(privilege, not granted, granted, using=using, **target)

    def changed(self, sender, instance, action, reverse, model, pk_set, using=None, **kwargs):
        """The m2m_changed receiver. ``reverse``: ``instance`` is the related object and pk_set holds owners."""
        if action in ("pre_remove", "pre_clear"):
            ids = None if pk_set is None else set(pk_set)
            pairs = self.present_pairs(ids, [instance.pk]) if reverse else self.present_pairs([instance.pk], ids)
            instance.__dict__.setdefault(_LEAVING, {})[sender] = pairs
        elif action in ("post_remove", "post_clear"):
            self.log(self.describe(instance.__dict__.get(_LEAVING, {}).pop(sender, set())), False, using)
        elif action == "post_add" and pk_set:
            pairs = {(owner, instance.pk) for owner in pk_set} if reverse else {(instance.pk, related) for related in pk_set}
            self.log(self.describe(pairs), True, using)

    def related_deleting(self, sender, instance, **kwargs):
        """pre_delete of the related model (a group, a permission): its rows go without an m2m_changed (the
        collector deletes them as a cascade), so whoever held it is read now, by name, while it exists."""
        instance.__dict__.setdefault(_LEAVING, {})[self.through] = self.describe(self.present_pairs(None, [instance.pk]))

    def related_deleted(self, sender, instance, using=None, **kwargs):
        """post_delete of the related model: everyone who held it lost it."""
        self.log(instance.__dict__.get(_LEAVING, {}).pop(self.through, []), False, using)
