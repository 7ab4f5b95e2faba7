"""The package in projects shaped like real ones, each in a fresh interpreter: settings in tuples switched on
with the README's lines as written, a custom user model that logs in by e-mail through Django's LoginView,
django-allauth's login form, and custom authentication backends. A failed login always names the account
the attempt named, and never a secret."""

import re

import pytest

from projects import new_project, readme_block
from test_request_events import ORIGIN, RECORD_ID, REQUEST_ID, TIMESTAMP

STARTPROJECT_LIKE_TUPLES = """
INSTALLED_APPS = (
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
)
MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [BASE_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
"""


def login_twice(address: str, path: str, account: dict) -> str:
    """A driver's end: from ``address``, a failed login and then a login through the form at ``path``."""
    return f"""
        client = Client(REMOTE_ADDR={address!r})
        failed = client.post({path!r}, {{**{account!r}, "password": "wrong"}})
        success = client.post({path!r}, {{**{account!r}, "password": PASSWORD}})
        print(json.dumps({{"failed": failed.status_code, "success": success.status_code}}))
    """


def failed_login(account: str, module: str = "signals", context: str = "") -> re.Pattern:
    user = f" user={re.escape(account)}" if account else ""
    return re.compile(rf"WARNING {TIMESTAMP} {module} \[request_id=(-|{REQUEST_ID}) record_id={RECORD_ID} "
                      rf"event=user_login_failed event_code=authn_login_fail{user}{context}{ORIGIN}\] Login failed: {re.escape(account)}")


def user_created(username: str) -> re.Pattern:
    """The record of the driver creating ``username`` (account_changes), before any login."""
    return re.compile(rf"WARNING {TIMESTAMP} account_changes \[request_id=- record_id={RECORD_ID} event=user_created "
                      rf"event_code=user_created target_user={re.escape(username)}{ORIGIN}\] "
                      rf"User created: {re.escape(username)} via \S+ \(pid \d+\)")


def no_account(keys: str) -> re.Pattern:
    return re.compile(rf"WARNING {TIMESTAMP} signals \[request_id=- record_id={RECORD_ID} event=user_login_failed event_code=authn_login_fail{ORIGIN}\] "
                      rf"Login failed: no account name in the credentials \(keys: {keys}\)")


# ---- tuples, and the README's lines as written ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tuple_project(tmp_path_factory):
    project = new_project(tmp_path_factory.mktemp("tuples"), STARTPROJECT_LIKE_TUPLES, readme_block("Switch it on"),
                          urls='from django.contrib import admin\nfrom django.urls import path\n\n'
                          'urlpatterns = [path("admin/", admin.site.urls)]\n')
    answers, _ = project.run("""
        from django.core.checks import run_checks
        from django.contrib.auth import get_user_model
        get_user_model().objects.create_superuser("alice", "alice@example.com", "Right-Horse-42")
        client = Client(REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="tuple-test/1")
        missing = client.get("/nope/")
        failed = client.post("/admin/login/", {"username": "alice", "password": "wrong"})
        print(json.dumps({
            "checks": [message.id for message in run_checks(include_deployment_checks=False)],
            "missing": [missing.status_code, missing["X-Request-ID"]],
            "failed": [failed.status_code, failed["X-Request-ID"]],
        }))
    """)
    return project, answers


def test_the_readme_lines_switch_the_package_on_in_a_project_of_tuples(tuple_project):
    project, answers = tuple_project

    assert answers["checks"] == []
    status, request_id = answers["missing"]
    [line] = project.lines("django_debug.log")
    assert status == 404 and re.fullmatch(
        rf"WARNING {TIMESTAMP} log \[request_id={request_id} record_id={RECORD_ID}{ORIGIN}\] Not Found: /nope/", line), line
    status, request_id = answers["failed"]
    created, superuser, staff, event = project.lines("security.log")
    assert user_created("alice").fullmatch(created), created
    assert " target_user=alice privilege=is_superuser old=false new=true logger=" in superuser, superuser
    assert " target_user=alice privilege=is_staff old=false new=true logger=" in staff, staff
    assert status == 200 and failed_login(
        "alice", context=r" client_ip=192\.0\.2\.10 peer_ip=192\.0\.2\.10 path=/admin/login/ user_agent=tuple-test/1").fullmatch(event), event
    assert request_id in event


# ---- a custom user model, Django's LoginView ------------------------------------------------------------------

EMAIL_USER_MODEL = """
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models


class EmailUserManager(BaseUserManager):
    def create_user(self, email, password=None):
        user = self.model(email=self.normalize_email(email))
        user.set_password(password)
        user.save()
        return user


class EmailUser(AbstractBaseUser):
    email = models.EmailField(unique=True)
    USERNAME_FIELD = "email"
    objects = EmailUserManager()
"""


@pytest.fixture(scope="module")
def email_project(tmp_path_factory):
    project = new_project(tmp_path_factory.mktemp("email-user"), STARTPROJECT_LIKE_TUPLES, """
        INSTALLED_APPS = (*INSTALLED_APPS[1:], "accounts")  # a tuple still; no admin: it needs the model's migrations
        AUTH_USER_MODEL = "accounts.EmailUser"
    """, readme_block("Switch it on"), urls="""
        from django.contrib.auth.views import LoginView
        from django.urls import path

        urlpatterns = [path("login/", LoginView.as_view(template_name="login.html"))]
    """)
    project.write("accounts/__init__.py", "")
    project.write("accounts/models.py", EMAIL_USER_MODEL)
    project.write("templates/login.html", "{{ form }}")
    answers, _ = project.run("""
        from django.contrib.auth import get_user_model
        get_user_model().objects.create_user("ann@example.com", PASSWORD)
    """ + login_twice("192.0.2.11", "/login/", {"username": "ann@example.com"}))
    return project, answers


def check_login_twice(project, answers, account: str, address: str, path: str, username: str) -> None:
    """login_twice's records: the failed login names ``account`` with the client; the login ``username``."""
    assert answers == {"failed": 200, "success": 302}
    created, failed, success = project.lines("security.log")
    assert user_created(username).fullmatch(created), created
    context = rf" client_ip={re.escape(address)} peer_ip={re.escape(address)} path={re.escape(path)}"
    assert failed_login(account, context=context).fullmatch(failed), failed
    assert f" event=user_logged_in event_code=authn_login_success user={username} " in success
    assert "wrong" not in failed and "Right-Horse" not in "".join(project.lines("security.log"))


def test_django_login_view_with_an_email_user_model_names_the_email(email_project):
    # LoginView sends username= whatever USERNAME_FIELD is (django/contrib/auth/forms.py, AuthenticationForm).
    check_login_twice(*email_project, "ann@example.com", "192.0.2.11", "/login/", "ann@example.com")


# ---- django-allauth ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def allauth_project(tmp_path_factory):
    project = new_project(tmp_path_factory.mktemp("allauth"), STARTPROJECT_LIKE_TUPLES, """
        INSTALLED_APPS = [*INSTALLED_APPS, "allauth", "allauth.account"]
        MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
        AUTHENTICATION_BACKENDS = [
            "django.contrib.auth.backends.ModelBackend",
            "allauth.account.auth_backends.AuthenticationBackend",
        ]
        ACCOUNT_LOGIN_METHODS = {"email"}
        ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
    """, readme_block("Switch it on"), urls="""
        from django.urls import include, path

        urlpatterns = [path("accounts/", include("allauth.urls"))]
    """)
    answers, _ = project.run("""
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model
        user = get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
        EmailAddress.objects.create(user=user, email="bob@example.com", primary=True, verified=True)
    """ + login_twice("192.0.2.12", "/accounts/login/", {"login": "bob@example.com"}))
    return project, answers


def test_allauth_login_form_names_the_email_it_sent(allauth_project):
    # allauth's LoginForm authenticates with email= (allauth/account/forms.py, user_credentials).
    check_login_twice(*allauth_project, "bob@example.com", "192.0.2.12", "/accounts/login/", "bob")


# ---- custom authentication backends ---------------------------------------------------------------------------

BACKENDS = """
class AccountPinBackend:
    def authenticate(self, request, account_number=None, pin=None):
        return None


class PasscodeBackend:
    def authenticate(self, request, passcode=None, api_token=None):
        return None

    def get_user(self, user_id):
        return None
"""


@pytest.fixture(scope="module")
def backend_project(tmp_path_factory):
    project = new_project(tmp_path_factory.mktemp("backends"), STARTPROJECT_LIKE_TUPLES, """
        AUTHENTICATION_BACKENDS = ["backends.AccountPinBackend", "backends.PasscodeBackend"]
        LOGIN_ACCOUNT_KEYS = ["account_number"]  # this project's backend names its accounts so
    """, readme_block("Switch it on"))
    project.write("backends.py", BACKENDS)
    project.run("""
        from django.contrib.auth import authenticate
        authenticate(None, account_number="ACC-42", pin="4242-PIN")
        authenticate(None, passcode="987654-PASSCODE")
        authenticate(None, api_token="tok-SECRET-99")
        print(json.dumps({}))
    """)
    return project


def test_a_custom_backend_names_the_account_key_the_project_declares_and_never_a_secret(backend_project):
    account, passcode, token = backend_project.lines("security.log")

    assert failed_login("ACC-42").fullmatch(account), account
    # Django masks api_token (django/contrib/auth/__init__.py, _clean_credentials) but not passcode: only
    # the keys are named.
    assert no_account("passcode").fullmatch(passcode), passcode
    assert no_account("api_token").fullmatch(token), token
    text = "\n".join(backend_project.lines("security.log") + backend_project.lines("django_debug.log"))
    assert "4242-PIN" not in text and "987654-PASSCODE" not in text and "tok-SECRET-99" not in text
