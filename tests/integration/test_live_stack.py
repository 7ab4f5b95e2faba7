"""End to end through the running stack (`make up`).

The app's requests must become fully parsed Elasticsearch documents, each
exactly once, and Kibana must hold the data view, dashboards and alert rules
that the setup service installs. The app answers every request with an
X-Request-ID of its own (never the client's, which it keeps as
django.client_request_id), so the tests find their own documents among
whatever else is indexed.
"""

import ipaddress
import json
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright

from tests.integration.http_client import csrf_token, json_body, text_by_id
from tests.integration.stack_clients import kibana_browser_flags
from tests.support.browser import CHROMIUM_FLAGS, cannot_launch, chromium_executable
from tests.support.ecs_fields import ECS_VERSION
from tests.support.paths import KIBANA_DIR, REPO_ROOT, SAVED_OBJECTS_PATH

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ARTIFACTS_DIR = REPO_ROOT / "artifacts"
INDEX_PATTERN = "django-logs-*"
DATA_VIEW_ID = "django-logs"
INGEST_TIMEOUT_SECONDS = 120
INGEST_POLL_SECONDS = 0.5
# Once every document is found, count again after this pause: a replayed or
# split record shows up as a second document.
SETTLE_SECONDS = 5
# The setup service may still be importing Kibana objects right after `make up`.
KIBANA_OBJECT_TIMEOUT_SECONDS = 60
KIBANA_POLL_SECONDS = 2

BROWSER_TIMEOUT_MS = 30_000
RENDER_TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1600, "height": 1200}

RUN_ID = secrets.token_hex(4)
USER_AGENT = f"Mozilla/5.0 (live-stack-test; run {RUN_ID})"
BOOM_EXCEPTION_LINE = "RuntimeError: Boom: this view fails on purpose"


# ---------------------------------------------------------------------------
# Driving the app
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Sent:
    """One request to the app: the id the app gave it, the one the test sent, and when it left."""

    request_id: str
    client_request_id: str
    sent_at: float
    status: int
    location: str | None
    body: bytes


def send(client: httpx.Client, method: str, path: str, step: str, form: dict[str, str] | None = None) -> Sent:
    client_request_id = f"live{RUN_ID}{step}{secrets.token_hex(6)}"
    sent_at = time.monotonic()
    response = client.request(method, path, headers={"X-Request-ID": client_request_id}, data=form)
    request_id = response.headers.get("X-Request-ID", "")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), (
        f"{method} {path}: the app answered with X-Request-ID {request_id!r}, not an id of its own "
        f"(it was sent {client_request_id}, which it must never adopt)"
    )
    return Sent(request_id, client_request_id, sent_at, response.status_code, response.headers.get("Location"),
                response.content)


@pytest.fixture
def app_client(live_stack):
    """A fresh client for the app, with its own cookie jar, closed after the test."""
    with live_stack.app_client(USER_AGENT) as client:
        yield client


# ---------------------------------------------------------------------------
# Reading Elasticsearch
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    """One document the pipeline must index exactly once for a request."""

    label: str
    sent: Sent
    terms: dict[str, str]

    def query(self) -> dict:
        filters = [{"term": {"http.request.id": self.sent.request_id}}]
        filters += [{"term": {name: value}} for name, value in self.terms.items()]
        return {"bool": {"filter": filters}}


def field(document: dict, dotted_name: str) -> Any:
    value: Any = document
    for part in dotted_name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def fields(document: dict, names) -> dict[str, Any]:
    return {name: field(document, name) for name in names}


def instant(text: str) -> datetime:
    """A date as Logstash and Elasticsearch write it into _source: ISO 8601, any fraction of a second (none, millis,
    nanos), "Z"; _ingest.timestamp drops zero seconds ("...T03:00Z")."""
    return datetime.fromisoformat(text)


def failure_tags(document: dict) -> list[str]:
    tags = field(document, "tags") or []
    # Logstash's filters tag what they could not parse with a leading underscore.
    return [tag for tag in ([tags] if isinstance(tags, str) else tags) if tag.startswith("_")]


def summary(hit: dict) -> str:
    source = hit["_source"]
    shown = fields(source, ("event.dataset", "event.action", "log.level", "tags", "message"))
    return f"{hit['_index']}/{hit['_id']} {json.dumps(shown)[:300]}"


def documents_for_requests(live_stack, request_ids) -> list[str]:
    response = live_stack.es.search(
        index=INDEX_PATTERN, query={"terms": {"http.request.id": sorted(request_ids)}}, size=50
    )
    return [summary(hit) for hit in response["hits"]["hits"]] or ["none"]


def await_documents(live_stack, expectations: list[Expected]) -> dict[str, dict]:
    """Poll until each expected document is searchable, then check each stays exactly one.

    Returns each document's _source by label, and notes each one's latency:
    the time from sending its request to the document being searchable.
    """
    found: dict[str, dict] = {}
    latency: dict[str, float] = {}
    deadline = time.monotonic() + INGEST_TIMEOUT_SECONDS
    while len(found) < len(expectations):
        for expected in expectations:
            if expected.label in found:
                continue
            hits = live_stack.es.search(index=INDEX_PATTERN, query=expected.query(), size=10)["hits"]["hits"]
            if hits:
                latency[expected.label] = time.monotonic() - expected.sent.sent_at
                duplicates = "\n".join(map(summary, hits))
                assert len(hits) == 1, f"{expected.label}: indexed {len(hits)} times:\n{duplicates}"
                found[expected.label] = hits[0]
        if len(found) < len(expectations):
            if time.monotonic() >= deadline:
                missing = [expected.label for expected in expectations if expected.label not in found]
                present = documents_for_requests(live_stack, {expected.sent.request_id for expected in expectations})
                pytest.fail(
                    f"not searchable in {INDEX_PATTERN} within {INGEST_TIMEOUT_SECONDS} s: {', '.join(missing)}.\n"
                    "Documents with these request ids:\n" + "\n".join(present)
                )
            time.sleep(INGEST_POLL_SECONDS)

    time.sleep(SETTLE_SECONDS)
    for expected in expectations:
        count = live_stack.es.count(index=INDEX_PATTERN, query=expected.query())["count"]
        assert count == 1, f"{expected.label}: {count} documents {SETTLE_SECONDS} s after the first appeared"
    for request_id in {expected.sent.request_id for expected in expectations}:
        wanted = sum(expected.sent.request_id == request_id for expected in expectations)
        count = live_stack.es.count(index=INDEX_PATTERN, query={"term": {"http.request.id": request_id}})["count"]
        assert count == wanted, (
            f"request {request_id} has {count} documents, expected {wanted}:\n"
            + "\n".join(documents_for_requests(live_stack, {request_id}))
        )
    for expected in expectations:
        hit = found[expected.label]
        assert failure_tags(hit["_source"]) == [], f"{expected.label} was not fully parsed: {summary(hit)}"
        live_stack.note(f"{expected.label}: searchable {latency[expected.label]:.1f} s after its request")
    return {label: hit["_source"] for label, hit in found.items()}


def assert_no_unparsed_line_mentions(live_stack, since: datetime, markers: list[str]) -> None:
    """No line that failed to parse since `since` carries one of these markers (a split or mangled record)."""
    response = live_stack.es.search(
        index=INDEX_PATTERN,
        query={
            "bool": {
                "filter": [
                    {"term": {"tags": "_grokparsefailure"}},
                    {"range": {"@timestamp": {"gte": since.isoformat(timespec="seconds")}}},
                ]
            }
        },
        size=500,
    )
    offending = [
        summary(hit)
        for hit in response["hits"]["hits"]
        if any(marker in json.dumps(hit["_source"]) for marker in markers)
    ]
    assert offending == [], "documents that failed to parse carry this test's markers:\n" + "\n".join(offending)


def assert_ip_address(value: Any, label: str) -> None:
    try:
        ipaddress.ip_address(value)
    except (TypeError, ValueError):
        pytest.fail(f"{label}: source.ip {value!r} is not an IP address")


# ---------------------------------------------------------------------------
# Logs to Elasticsearch
# ---------------------------------------------------------------------------
def test_page_view_becomes_two_app_documents_and_one_access_document(live_stack, app_client):
    since = datetime.now(UTC) - timedelta(minutes=1)
    page = send(app_client, "GET", "/", "page")
    assert (page.status, page.body) == (200, b"Hello, World!")

    documents = await_documents(
        live_stack,
        [
            Expected("GET / INFO record", page, {"event.dataset": "django.app", "log.level": "INFO"}),
            Expected("GET / ERROR record", page, {"event.dataset": "django.app", "log.level": "ERROR"}),
            Expected("GET / access line", page, {"event.dataset": "django.access"}),
        ],
    )

    app_records = {"GET / INFO record": "This is an info message", "GET / ERROR record": "This is an error message"}
    for label, message in app_records.items():
        assert fields(documents[label], ("log.logger", "log.origin.file.name", "log.origin.function", "message",
                                         "error.stack_trace")) == {
            "log.logger": "myapp",
            "log.origin.file.name": "views.py",
            "log.origin.function": "hello",
            "message": message,
            "error.stack_trace": None,
        }, label
    access = documents["GET / access line"]
    assert fields(
        access,
        (
            "http.request.method",
            "url.original",
            "http.version",
            "http.response.status_code",
            "http.response.body.bytes",
            "user_agent.original",
        ),
    ) == {
        "http.request.method": "GET",
        "url.original": "/",
        "http.version": "1.1",
        "http.response.status_code": 200,
        "http.response.body.bytes": len(page.body),
        "user_agent.original": USER_AGENT,
    }
    duration = field(access, "event.duration")
    assert isinstance(duration, int) and duration > 0, f"event.duration should be a positive number of ns: {duration!r}"
    assert_ip_address(field(access, "source.ip"), "GET / access line")
    assert_no_unparsed_line_mentions(live_stack, since, [page.request_id])


def test_error_traceback_is_one_document(live_stack, app_client):
    since = datetime.now(UTC) - timedelta(minutes=1)
    boom = send(app_client, "GET", "/boom/", "boom")
    assert boom.status == 500

    documents = await_documents(
        live_stack,
        [
            Expected("GET /boom/ error record", boom, {"event.dataset": "django.app"}),
            Expected("GET /boom/ access line", boom, {"event.dataset": "django.access"}),
        ],
    )

    record = documents["GET /boom/ error record"]
    assert fields(record, ("log.level", "log.logger", "log.origin.file.name", "message", "error.type",
                           "error.message", "event.kind", "ecs.version", "service.name")) == {
        "log.level": "ERROR",
        "log.logger": "django.request",
        "log.origin.file.name": "log.py",
        "message": "Internal Server Error: /boom/",
        "error.type": "RuntimeError",
        "error.message": "Boom: this view fails on purpose",
        "event.kind": "event",
        "ecs.version": ECS_VERSION,
        "service.name": "django-app",
    }
    # Where it happened (the app's container), not the shipper; the same worker wrote the access line.
    access = documents["GET /boom/ access line"]
    # docker-compose.yml names the app's host "app"; the shipper is Logstash's container.
    assert (field(record, "host.name"), field(record, "agent.type")) == ("app", "logstash"), record
    assert field(record, "agent.name") not in (None, "app"), record
    assert fields(record, ("host.name", "process.pid")) == fields(access, ("host.name", "process.pid"))
    # Read by Logstash, then indexed by Elasticsearch (the django-logs ingest pipeline), in that order.
    assert instant(record["@timestamp"]) <= instant(field(record, "event.created")) <= instant(
        field(record, "event.ingested")), record
    stack_trace = field(record, "error.stack_trace")
    assert isinstance(stack_trace, str), f"the error record has no error.stack_trace: {record}"
    # From its first line to its last, the whole traceback is in this one document.
    assert stack_trace.lstrip().startswith("Traceback (most recent call last):"), stack_trace
    assert "in boom" in stack_trace, stack_trace
    assert stack_trace.rstrip().endswith(BOOM_EXCEPTION_LINE), stack_trace
    assert fields(documents["GET /boom/ access line"], ("url.original", "http.response.status_code")) == {
        "url.original": "/boom/",
        "http.response.status_code": 500,
    }
    # A traceback line split off into its own event would fail to parse and lack the request id.
    assert_no_unparsed_line_mentions(live_stack, since, [boom.request_id, BOOM_EXCEPTION_LINE])


@dataclass(frozen=True)
class SecurityEvent:
    """A security record the app must write for one request, and that request's access line."""

    action: str
    code: str  # the OWASP vocabulary's identifier (ECS event.code)
    sent: Sent
    level: str
    user: str
    path: str
    message: str
    status: int
    # ECS event.kind, event.category, event.type, event.outcome (docs/ecs.md, "Categorization").
    categorization: dict


def categorization(category: list[str], types: list[str], outcome: str) -> dict:
    return {"event.kind": "event", "event.category": category, "event.type": types, "event.outcome": outcome}


def test_login_logout_and_failed_login_become_security_documents(live_stack, app_client):
    username, password = live_stack.settings.demo_username, live_stack.settings.demo_password
    if not (username and password):
        pytest.fail("DEMO_USERNAME and DEMO_PASSWORD are not set in the environment or .env: the app has no demo user.")
    since = datetime.now(UTC) - timedelta(minutes=1)
    client = app_client

    login_form = send(client, "GET", "/accounts/login/", "loginform")
    assert login_form.status == 200
    login = send(
        client,
        "POST",
        "/accounts/login/",
        "login",
        {"csrfmiddlewaretoken": csrf_token(client, login_form.body.decode()), "username": username, "password": password,
         "next": ""},
    )
    assert (login.status, login.location) == (302, "/account/"), "the demo user could not sign in"
    account = send(client, "GET", "/account/", "account")
    assert account.status == 200
    assert text_by_id(account.body.decode()).get("username") == username
    logout_token = csrf_token(client, account.body.decode())
    logout = send(client, "POST", "/accounts/logout/", "logout", {"csrfmiddlewaretoken": logout_token})
    assert (logout.status, logout.location) == (302, "/accounts/login/")

    intruder = f"intruder{RUN_ID}"
    retry_form = send(client, "GET", "/accounts/login/", "retryform")
    assert retry_form.status == 200
    failed = send(
        client,
        "POST",
        "/accounts/login/",
        "loginfailed",
        {
            "csrfmiddlewaretoken": csrf_token(client, retry_form.body.decode()),
            "username": intruder,
            "password": secrets.token_urlsafe(16),
        },
    )
    assert failed.status == 200
    assert "login-error" in text_by_id(failed.body.decode())

    events = [
        SecurityEvent(
            "user_logged_in", "authn_login_success", login, "INFO", username, "/accounts/login/",
            f"User logged in: {username}", 302, categorization(["authentication", "session"], ["start"], "success"),
        ),
        SecurityEvent(
            "user_logged_out", "session_expired", logout, "INFO", username, "/accounts/logout/",
            f"User logged out: {username}", 302, categorization(["authentication", "session"], ["end"], "success"),
        ),
        SecurityEvent(
            "user_login_failed", "authn_login_fail", failed, "WARNING", intruder, "/accounts/login/",
            f"Login failed: {intruder}", 200, categorization(["authentication"], ["start"], "failure"),
        ),
    ]
    expectations = []
    for event in events:
        security_terms = {"event.dataset": "django.security", "event.action": event.action}
        expectations.append(Expected(event.action, event.sent, security_terms))
        expectations.append(Expected(f"{event.action} access line", event.sent, {"event.dataset": "django.access"}))
    documents = await_documents(live_stack, expectations)

    for event in events:
        security, access = documents[event.action], documents[f"{event.action} access line"]
        assert fields(security, ("log.level", "log.logger", "user.name", "url.path", "user_agent.original",
                                 "message", "django.client_request_id", "event.code")) == {
            "log.level": event.level,
            "log.logger": "security",
            "user.name": event.user,
            "url.path": event.path,
            "user_agent.original": USER_AGENT,
            "message": event.message,
            "django.client_request_id": event.sent.client_request_id,
            "event.code": event.code,
        }, event.action
        assert fields(access, ("http.request.method", "url.original", "http.response.status_code")) == {
            "http.request.method": "POST",
            "url.original": event.path,
            "http.response.status_code": event.status,
        }, event.action
        assert fields(security, ("event.kind", "event.category", "event.type", "event.outcome")) == (
            event.categorization), event.action
        assert field(security, "related.user") == [event.user], event.action
        # The app and gunicorn each record the client address on their own: they must agree.
        assert_ip_address(field(security, "source.ip"), event.action)
        assert field(security, "source.ip") == field(access, "source.ip"), event.action
    assert_no_unparsed_line_mentions(live_stack, since, [intruder, *(event.sent.request_id for event in events)])


# ---------------------------------------------------------------------------
# Kibana objects
# ---------------------------------------------------------------------------
def kibana_object(live_stack, path: str) -> dict:
    """GET a Kibana API object, waiting (bounded) while setup may still be creating it."""
    deadline = time.monotonic() + KIBANA_OBJECT_TIMEOUT_SECONDS
    while True:
        response = live_stack.kibana.get(path)
        if response.status_code == 200:
            return json_body(response)
        if response.status_code != 404 and response.status_code < 500:
            pytest.fail(f"Kibana GET {path}: HTTP {response.status_code}: {response.text[:300]}")
        if time.monotonic() >= deadline:
            pytest.fail(
                f"Kibana GET {path}: still HTTP {response.status_code} after {KIBANA_OBJECT_TIMEOUT_SECONDS} s "
                f"(did the setup service import it?): {response.text[:300]}"
            )
        time.sleep(KIBANA_POLL_SECONDS)


def saved_objects_in_file() -> list[dict]:
    path = SAVED_OBJECTS_PATH
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO_ROOT)} is missing: it defines the dashboards to check.")
    objects = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            pytest.fail(f"{path.relative_to(REPO_ROOT)}:{number} is not JSON: {error}")
        # An export may end with a summary line that is not an object.
        if "type" in item and "id" in item:
            objects.append(item)
    return objects


def dashboards_in_file() -> list[tuple[str, str]]:
    dashboards = [
        (item["id"], item["attributes"]["title"]) for item in saved_objects_in_file() if item["type"] == "dashboard"
    ]
    assert dashboards, f"{SAVED_OBJECTS_PATH.relative_to(REPO_ROOT)} defines no dashboard"
    return dashboards


def quoted(identifier: str) -> str:
    return urllib.parse.quote(identifier, safe="")


def test_kibana_has_the_django_logs_data_view(live_stack):
    data_view = kibana_object(live_stack, f"/api/data_views/data_view/{DATA_VIEW_ID}")["data_view"]
    assert (data_view["id"], data_view["title"], data_view.get("timeFieldName")) == (
        DATA_VIEW_ID,
        INDEX_PATTERN,
        "@timestamp",
    )


def test_securitys_data_view_reads_django_logs_and_keeps_its_defaults(live_stack):
    """Setup added django-logs-* to securitySolution:defaultIndex (kibana/advanced_settings/), keeping Kibana's own
    patterns: Security's Users, Hosts and Network pages read our documents."""
    settings = kibana_object(live_stack, "/api/kibana/settings")["settings"]
    patterns = settings["securitySolution:defaultIndex"]["userValue"]
    assert INDEX_PATTERN in patterns and "logs-*" in patterns, patterns


def test_kibana_has_every_dashboard_of_saved_objects_ndjson_with_its_panels(live_stack):
    for dashboard_id, title in dashboards_in_file():
        dashboard = kibana_object(live_stack, f"/api/saved_objects/dashboard/{quoted(dashboard_id)}")
        assert dashboard["attributes"]["title"] == title
        # The import reports success per object; a panel whose object failed is simply missing.
        missing = []
        for reference in dashboard.get("references", []):
            response = live_stack.kibana.get(f"/api/saved_objects/{quoted(reference['type'])}/{quoted(reference['id'])}")
            if response.status_code != 200:
                missing.append(f"{reference['type']}/{reference['id']} (HTTP {response.status_code})")
        assert missing == [], f"dashboard {title!r} references objects Kibana does not have: {missing}"


def test_kibana_has_every_alert_rule_enabled_and_owned_by_the_rules_user(live_stack):
    rule_files = sorted((KIBANA_DIR / "rules").glob("*.json"))
    assert rule_files, "kibana/rules/ has no rule file"
    for path in rule_files:
        spec = json.loads(path.read_text(encoding="utf-8"))
        rule = kibana_object(live_stack, f"/api/alerting/rule/{quoted(spec['id'])}")
        # The rule's API key, which its searches and its Index connector's writes use, is django_alerting's.
        assert (rule["name"], rule["rule_type_id"], rule["enabled"], rule.get("api_key_owner")) == (
            spec["body"]["name"],
            spec["body"]["rule_type_id"],
            True,
            "django_alerting",
        ), path.name
        execution = rule.get("execution_status", {})
        assert execution.get("status") != "error", f"rule {rule['name']!r} fails to run: {execution.get('error')}"


# ---------------------------------------------------------------------------
# Dashboard screenshots
# ---------------------------------------------------------------------------
# Kibana's own reporting waits the same way: the viewport announces how many
# panels it holds, and each panel flags data-render-complete once drawn.
RENDER_PROGRESS = """() => {
  const viewport = document.querySelector('[data-shared-items-container]');
  return {
    expected: viewport ? Number(viewport.getAttribute('data-shared-items-count')) : 0,
    rendered: document.querySelectorAll('[data-shared-item][data-render-complete="true"]').length,
    errors: Array.from(document.querySelectorAll('[data-render-error]'), (e) => e.getAttribute('data-render-error')),
  };
}"""
PANELS_RENDERED = f"() => {{ const p = ({RENDER_PROGRESS})(); return p.expected > 0 && p.rendered >= p.expected; }}"


def test_dashboards_render_and_are_saved_as_screenshots(live_stack):
    dashboards = dashboards_in_file()
    for dashboard_id, _title in dashboards:
        kibana_object(live_stack, f"/api/saved_objects/dashboard/{quoted(dashboard_id)}")
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    executable = chromium_executable()
    # Under TLS, the Kibana certificate verified against the stack's CA (the browser takes no CA file).
    browser_flags = [*CHROMIUM_FLAGS, *kibana_browser_flags(live_stack.settings)]
    problems = {}
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=browser_flags, timeout=BROWSER_TIMEOUT_MS
            )
        except PlaywrightError as error:
            cannot_launch(executable, error, required=live_stack.required)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(BROWSER_TIMEOUT_MS)
            login_page = context.new_page()
            login_page.goto(live_stack.kibana_url + "/login")
            login_page.locator('[data-test-subj="loginUsername"]').fill("elastic")
            login_page.locator('[data-test-subj="loginPassword"]').fill(live_stack.settings.elastic_password)
            login_page.locator('[data-test-subj="loginSubmit"]').click()
            login_page.wait_for_url(lambda url: "/login" not in url)
            login_page.close()

            for dashboard_id, title in dashboards:
                # A fresh page per dashboard: nothing of the previous one can count as rendered.
                page = context.new_page()
                page.goto(f"{live_stack.kibana_url}/app/dashboards#/view/{quoted(dashboard_id)}")
                expect(page.locator("[data-shared-items-container]")).to_have_attribute(
                    "data-title", title, timeout=BROWSER_TIMEOUT_MS
                )
                try:
                    page.wait_for_function(PANELS_RENDERED, timeout=RENDER_TIMEOUT_MS)
                except PlaywrightTimeoutError:
                    pass  # reported below, with the screenshot taken all the same
                progress = page.evaluate(RENDER_PROGRESS)
                screenshot = ARTIFACTS_DIR / f"kibana-dashboard-{re.sub(r'[^A-Za-z0-9._-]', '_', dashboard_id)}.png"
                page.screenshot(path=str(screenshot), full_page=True)
                page.close()
                live_stack.note(f"dashboard {title!r}: screenshot {screenshot}")
                if progress["expected"] == 0 or progress["rendered"] < progress["expected"] or progress["errors"]:
                    problems[title] = (
                        f"{progress['rendered']} of {progress['expected']} panels rendered within "
                        f"{RENDER_TIMEOUT_MS // 1000} s, render errors {progress['errors']} (see {screenshot})"
                    )
        finally:
            browser.close()
    assert problems == {}, "dashboards did not render cleanly"
