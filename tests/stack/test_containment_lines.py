"""Containment's security lines (user_deactivated, blocked_ip), written by real gunicorn and manage.py,
through the pipeline model (grok on Joni when jruby is here), into the fields the index template maps."""

import http.client
import json
import secrets
import urllib.parse

import pytest
from django_elk_logging.identity import Identity
from django_elk_logging.log_lines import CONTEXT_FIELDS, ORIGIN_FIELDS

from myapp.traffic import Session
from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_config_tree import plugins
from stack_models.logstash_pipeline import Pipeline
from tests.support.app_server import DEMO_PASSWORD, DEMO_USERNAME, app_environment, manage, running_app
from tests.support.engines import engine_for_tests
from tests.support.kibana_objects import mapped_field_types
from tests.support.paths import INDEX_TEMPLATE_PATH

ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": "UTC"}
ACTOR = "ops carol"  # a space: the line quotes it
REASON = 'INC-7 "phished" [user=admin]'
ATTACKER = "203.0.113.7"


@pytest.fixture(scope="module")
def security_documents(tmp_path_factory) -> list[dict]:
    workdir = tmp_path_factory.mktemp("containment")
    secret = secrets.token_urlsafe(50)  # manage.py must read the sessions gunicorn signed
    with running_app(
        workdir, DJANGO_SECRET_KEY=secret, DJANGO_BLOCKED_IPS="203.0.113.0/24", DJANGO_TRUSTED_PROXY_COUNT="1",
        DJANGO_TRUSTED_PROXIES="127.0.0.1/32",
    ) as app:
        visitor = Session(app.base_url + "/", "browser/1", timeout=10)
        assert visitor.login(DEMO_USERNAME, DEMO_PASSWORD) == 302
        deactivation = manage(
            app_environment(workdir, DJANGO_SECRET_KEY=secret),
            "deactivate_user", DEMO_USERNAME, "--actor", ACTOR, "--reason", REASON,
        )
        assert deactivation.returncode == 0, deactivation.stderr
        assert deactivation.stdout == f"User '{DEMO_USERNAME}' deactivated; 1 session(s) ended.\n"
        assert visitor.request("/account/")[0] == 302  # logged out on the next request
        url = urllib.parse.urlsplit(app.base_url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.request("GET", "/account/", headers={"X-Forwarded-For": ATTACKER, "User-Agent": "hammer/2"})
        assert connection.getresponse().status == 403
        connection.close()
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())
    return [document.source for _, document in pipeline.process_file(app.log_dir / "security.log")]


def _of(documents: list[dict], action: str) -> list[dict]:
    return [d for d in documents if d.get("event", {}).get("action") == action]


def test_a_deactivation_is_one_document_with_the_actor_as_user_and_the_target_as_user_target(security_documents):
    [event] = _of(security_documents, "user_deactivated")

    assert not event.get("tags")
    assert event["user"] == {"name": ACTOR, "target": {"name": DEMO_USERNAME}}
    assert event["event"]["dataset"] == "django.security"
    assert event["log"]["level"] == "WARNING"
    assert event["event"]["code"] == "user_archived"
    assert event["message"] == (
        f"User deactivated: {DEMO_USERNAME} by {ACTOR} via manage.py deactivate_user; 1 session(s) ended; "
        f"reason: {REASON}"
    )
    assert "http" not in event and "source" not in event  # outside any request


def test_a_refusal_is_one_document_with_the_client_address_the_trusted_proxy_gave(security_documents):
    [event] = _of(security_documents, "blocked_ip")

    assert not event.get("tags")
    assert event["source"]["ip"] == ATTACKER
    assert event["url"]["path"] == "/account/"
    assert event["user_agent"]["original"] == "hammer/2"
    assert event["log"]["level"] == "WARNING"
    assert event["message"] == f"Refused a request from blocked address {ATTACKER} (BLOCKED_IPS entry 203.0.113.0/24)"
    # The demo user's creation, the login, the deactivation (its is_active change, then the containment
    # record), the visitor's next request with the session that ended, the refusal.
    assert [d["event"]["action"] for d in security_documents] == [
        "user_created", "user_logged_in", "privilege_changed", "user_deactivated", "session_rejected", "blocked_ip"]


def _kv_and_renames() -> tuple[list[str], dict[str, str]]:
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT)
    found = {item.get("id"): item for item in plugins(pipeline.config["filter"])}
    return found["django_context"].get("include_keys"), found["django_fields"].get("rename")


def test_every_context_field_the_package_writes_is_kept_renamed_and_mapped():
    include_keys, renames = _kv_and_renames()
    mapped = mapped_field_types(json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8")))

    written = [*CONTEXT_FIELDS, *(key for key, _ in ORIGIN_FIELDS), *Identity._fields]
    assert include_keys == written
    for field in written:
        target = renames[f"[@metadata][fields][{field}]"]
        if not target.startswith("[@metadata]"):
            assert ".".join(target.strip("[]").split("][")) in mapped, (field, target)
    assert renames["[@metadata][fields][target_user]"] == "[user][target][name]"
