"""Which credential a failed login's record names (signals.attempted_account), as Django hands them over:
the values of secret-looking keys already masked (django/contrib/auth/__init__.py, _clean_credentials)."""

import pytest

from django_elk_logging.signals import attempted_account

MASKED = "********************"


@pytest.mark.parametrize(
    "credentials, expected",
    [
        ({"username": "alice", "password": MASKED}, "alice"),  # LoginView and the admin, whatever USERNAME_FIELD is
        ({"email": "bob@example.com", "password": MASKED}, "bob@example.com"),  # django-allauth
        ({"password": MASKED, "phone": "+15550100"}, "+15550100"),
        ({"account_number": "ACC-42", "pin": "4242"}, None),  # a key the project did not name (LOGIN_ACCOUNT_KEYS)
        ({"sesame": "AAAA-token", "scope": "login"}, None),  # django-sesame: a token under an innocent name
        ({"remote_user": "gina"}, "gina"),  # RemoteUserBackend
        ({"pin": "4242", "passcode": "987654", "otp_code": "111111"}, None),  # secrets Django does not mask
        ({"api_token": MASKED}, None),
        ({"username": "", "password": MASKED}, ""),  # an empty name is still the name sent
        ({"username": "", "email": "carol@example.com"}, "carol@example.com"),  # an empty one names nobody
        ({"username": 42, "login": "dave"}, "dave"),  # only text is an account name
        ({"domain": "corp", "username": "erin"}, "erin"),
        ({}, None),
    ],
)
def test_the_account_the_attempt_named_and_never_a_secret(credentials, expected):
    assert attempted_account(credentials) == expected


def test_username_field_comes_first(settings):
    # The test project's user model is Django's: USERNAME_FIELD is "username".
    assert attempted_account({"email": "frank@example.com", "username": "frank"}) == "frank"


def test_a_project_names_its_backends_account_keys_but_never_a_secret_one(settings):
    settings.LOGIN_ACCOUNT_KEYS = ["account_number", "pin_code"]

    assert attempted_account({"account_number": "ACC-42", "pin": "4242"}) == "ACC-42"
    assert attempted_account({"pin_code": "4242"}) is None
