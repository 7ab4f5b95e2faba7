"""Account and privilege events in projects whose user model is their own, each in a fresh interpreter: only the
flags and relations the model has are watched, and a model without any still logs its users' creation and
deletion."""

import re
import textwrap

from projects import new_project, readme_block
from test_projects import STARTPROJECT_LIKE_TUPLES
from test_request_events import ORIGIN, RECORD_ID, TIMESTAMP

NO_STAFF_USER_MODEL = """
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models


class MemberManager(BaseUserManager):
    def create_user(self, email, password=None, **flags):
        user = self.model(email=self.normalize_email(email), **flags)
        user.set_password(password)
        user.save()
        return user

    def create_superuser(self, email, password=None):
        return self.create_user(email, password, is_superuser=True)


class Member(AbstractBaseUser, PermissionsMixin):
    # No is_staff; is_active is a field here (AbstractBaseUser's is only a class attribute).
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    USERNAME_FIELD = "email"
    objects = MemberManager()
"""

BARE_USER_MODEL = """
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models


class BareManager(BaseUserManager):
    def create_user(self, handle, password=None):
        user = self.model(handle=handle)
        user.set_password(password)
        user.save()
        return user


class Bare(AbstractBaseUser):
    handle = models.CharField(max_length=40, unique=True)
    USERNAME_FIELD = "handle"
    objects = BareManager()
"""


def project_with_user_model(folder, model_source: str, model_name: str, driver: str):
    project = new_project(folder, STARTPROJECT_LIKE_TUPLES, f"""
        INSTALLED_APPS = (*INSTALLED_APPS[1:], "accounts")  # no admin: it needs the model's migrations
        AUTH_USER_MODEL = "accounts.{model_name}"
    """, readme_block("Switch it on"))
    project.write("accounts/__init__.py", "")
    project.write("accounts/models.py", model_source)
    project.run(textwrap.dedent(driver) + "print(json.dumps({}))\n")
    return project


def event(name: str, code: str, fields: str, message: str) -> re.Pattern:
    return re.compile(rf"WARNING {TIMESTAMP} account_changes \[request_id=- record_id={RECORD_ID} event={name} "
                      rf"event_code={code} {fields}{ORIGIN}\] {re.escape(message)} via \S+ \(pid \d+\)")


def privilege(target: str, name: str, old: str, new: str) -> re.Pattern:
    return event("privilege_changed", "authz_change",
                 rf"target_user={re.escape(target)} privilege={re.escape(name)} old={old} new={new}",
                 f"Privilege changed: {name} of user {target} {old} -> {new}")


def created(target: str) -> re.Pattern:
    return event("user_created", "user_created", f"target_user={re.escape(target)}", f"User created: {target}")


def deleted(target: str) -> re.Pattern:
    return event("user_deleted", "user_deleted", f"target_user={re.escape(target)}", f"User deleted: {target}")


def check(lines: list[str], patterns: list[re.Pattern]) -> None:
    assert len(lines) == len(patterns), "\n".join(lines)
    for line, pattern in zip(lines, patterns, strict=True):
        assert pattern.fullmatch(line), f"{line}\n!~ {pattern.pattern}"


def test_a_user_model_without_is_staff_logs_the_flags_and_groups_it_has(tmp_path):
    project = project_with_user_model(tmp_path, NO_STAFF_USER_MODEL, "Member", """
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        Member = get_user_model()
        ann = Member.objects.create_user("ann@example.com", PASSWORD)
        Member.objects.create_superuser("root@example.com", PASSWORD)
        ann.is_superuser, ann.is_active = True, False
        ann.save()
        ann.save(update_fields=["last_login"])
        ann.groups.add(Group.objects.create(name="ops"))
        ann.delete()
    """)

    check(project.lines("security.log"), [
        created("ann@example.com"),
        created("root@example.com"),
        privilege("root@example.com", "is_superuser", "false", "true"),
        privilege("ann@example.com", "is_superuser", "false", "true"),
        privilege("ann@example.com", "is_active", "true", "false"),
        privilege("ann@example.com", "group:ops", "false", "true"),
        deleted("ann@example.com"),
    ])
    assert "Right-Horse-42" not in "".join(project.lines("security.log") + project.lines("django_debug.log"))


def test_a_user_model_with_no_flag_and_no_group_still_logs_creation_and_deletion(tmp_path):
    project = project_with_user_model(tmp_path, BARE_USER_MODEL, "Bare", """
        from django.contrib.auth import get_user_model
        bare = get_user_model().objects.create_user("kim", PASSWORD)
        bare.save()
        bare.delete()
    """)

    check(project.lines("security.log"), [created("kim"), deleted("kim")])
    assert project.lines("django_debug.log") == []


# ---- the admin's "delete selected", in a project shaped like startproject's, under whichever Django runs ------


def test_the_admins_delete_selected_logs_each_bulk_created_entry_and_each_deleted_user(tmp_path):
    # The README's settings: the actor is the request's user, named by AuthEventsMiddleware.
    project = new_project(tmp_path, STARTPROJECT_LIKE_TUPLES, readme_block("Switch it on"),
                          urls='from django.contrib import admin\nfrom django.urls import path\n\n'
                               'urlpatterns = [path("admin/", admin.site.urls)]\n')
    answers, _ = project.run("""
        import re
        from django.contrib.auth import get_user_model
        User = get_user_model()
        User.objects.create_superuser("root", "root@example.com", PASSWORD)
        ids = [User.objects.create_user(name, password=PASSWORD).pk for name in ("bob", "carl")]
        browser = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="admin-test/1")

        def token(page):
            return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]

        login = browser.get("/admin/login/")
        browser.post("/admin/login/", {"csrfmiddlewaretoken": token(login), "username": "root", "password": PASSWORD})
        selection = {"action": "delete_selected", "_selected_action": ids}
        confirmation = browser.post("/admin/auth/user/", {**selection, "csrfmiddlewaretoken": token(browser.get("/admin/auth/user/"))})
        before = len(open("logs/security.log").readlines())
        done = browser.post("/admin/auth/user/", {**selection, "post": "yes", "csrfmiddlewaretoken": token(confirmation)})
        print(json.dumps({"ids": ids, "before": before, "status": [confirmation.status_code, done.status_code],
                          "request_id": done["X-Request-ID"], "left": list(User.objects.values_list("username", flat=True))}))
    """)

    assert answers["status"] == [200, 302] and answers["left"] == ["root"]
    (bob, carl), request_id = answers["ids"], answers["request_id"]
    context = rf" client_ip=127\.0\.0\.1 peer_ip=127\.0\.0\.1 path=/admin/auth/user/ user_agent=admin-test/1{ORIGIN}\] "

    def start(module: str) -> str:
        return rf"WARNING {TIMESTAMP} {module} \[request_id={request_id} record_id={RECORD_ID} "

    check(project.lines("security.log")[answers["before"]:], [
        re.compile(start("admin_actions") + rf"event=admin_action event_code=authz_admin user=root target_user={name} "
                   rf"object_type=auth\.user object_id={pk} operation=deletion{context}"
                   rf"Admin deletion of auth\.user {pk} \({name}\) by root")
        for pk, name in ((bob, "bob"), (carl, "carl"))
    ] + [
        re.compile(start("account_changes") + rf"event=user_deleted event_code=user_deleted user=root target_user={name}{context}"
                   rf"User deleted: {name} by root")
        for name in ("carl", "bob")
    ])
