from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from myapp.containment import MAX_ACTOR_CHARS, deactivate_user


class Command(BaseCommand):
    help = (
        "Deactivate a user and end all their sessions, logged as a user_deactivated security event. "
        "Safe to run again: an inactive user's sessions are ended again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user to deactivate")
        parser.add_argument(
            "--actor", required=True,
            help="who runs this, as the security event records it: your own login on the host "
            '(--actor "$USER"); the container cannot know who called docker compose exec',
        )
        parser.add_argument("--reason", default="", help="why, for the security event (e.g. an incident id)")

    def handle(self, *args, username, actor, reason, **options):
        actor = actor.strip()
        if not actor:
            raise CommandError('--actor is empty: name yourself, e.g. --actor "$USER".')
        if len(actor) > MAX_ACTOR_CHARS:
            raise CommandError(f"--actor is longer than {MAX_ACTOR_CHARS} characters.")
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}: nothing was changed.") from None
        result = deactivate_user(user, actor=actor, via="manage.py deactivate_user", reason=reason.strip())
        state = "deactivated" if result.was_active else "was already inactive"
        self.stdout.write(f"User {result.username!r} {state}; {result.sessions_ended} session(s) ended.")
