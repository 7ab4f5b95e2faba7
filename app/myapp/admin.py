"""The User admin with the containment action (myapp/containment.py)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from myapp.containment import deactivate_user

User = get_user_model()


@admin.action(description="Deactivate selected users and end their sessions", permissions=["change"])
def deactivate_and_end_sessions(modeladmin, request, queryset):
    actor = request.user.get_username()
    for user in queryset.order_by("pk"):
        if user.pk == request.user.pk:
            # An incident lead locked out of the admin mid-incident helps no one; the command can do it.
            modeladmin.message_user(request, f"You cannot deactivate yourself ({actor}) here.", messages.ERROR)
            continue
        result = deactivate_user(user, actor=actor, via="admin")
        state = "deactivated" if result.was_active else "was already inactive"
        modeladmin.log_change(request, user, f"Deactivated; {result.sessions_ended} session(s) ended")
        modeladmin.message_user(
            request, f"User {result.username!r} {state}; {result.sessions_ended} session(s) ended.", messages.SUCCESS
        )


admin.site.unregister(User)


@admin.register(User)
class ContainmentUserAdmin(UserAdmin):
    actions = [deactivate_and_end_sessions]
