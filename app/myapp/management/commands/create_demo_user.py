import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create or update the demo user from DEMO_USERNAME and DEMO_PASSWORD "
        "(and optional DEMO_EMAIL). Safe to run again: it never creates a second user."
    )

    def handle(self, *args, **options):
        username = os.environ.get("DEMO_USERNAME", "").strip()
        password = os.environ.get("DEMO_PASSWORD", "")
        email = os.environ.get("DEMO_EMAIL", "").strip()
        if not username:
            raise CommandError("DEMO_USERNAME is not set: name the demo user in .env.")
        if not password:
            raise CommandError("DEMO_PASSWORD is not set: give the demo user a password in .env.")
        user_model = get_user_model()
        user = user_model(username=username, email=email)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("DEMO_PASSWORD is too weak: " + " ".join(error.messages)) from None

        user = user_model.objects.filter(username=username).first()
        created = user is None
        # A new user gets its password as it is created: only a later one is a password change, which
        # the logging package logs (event password_changed).
        if created:
            user_model.objects.create_user(username, email, password)
        changed = not created and (not user.check_password(password) or user.email != email)
        if changed:
            user.email = email
            user.set_password(password)
            user.save()
        state = "created" if created else ("updated" if changed else "unchanged")
        self.stdout.write(f"Demo user {username!r} {state}.")
