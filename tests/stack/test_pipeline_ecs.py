"""Issue 20: the documents are ECS events. Real app traffic (gunicorn, Django, the package) through the pipeline's
model, grok on Joni and dates on Joda when jruby is here, checked against the categorization table
(logstash/pipeline/event_categories.json), ECS 9.4's pinned facts (tests/support/ecs_fields.py) and the template.
"""

import json
import logging
import re
import socket
import sys

import pytest
from django_elk_logging.log_lines import SafeFormatter

from myapp.traffic import Session
from stack_models.es_fields import data_view_conflicts, mapped_fields, source_values
from stack_models.esql_run import ambiguities
from stack_models.grok import PYGROK_PATTERNS_DIR
from stack_models.logstash_pipeline import Pipeline
from tests.support.app_server import APP_DIR, DEMO_PASSWORD, DEMO_USERNAME, running_app
from tests.support.ecs_fields import ECS_CATEGORY_TYPES, ECS_FIELDS, ECS_KINDS, ECS_OUTCOMES, ECS_VERSION
from tests.support.engines import engine_for_tests
from tests.support.kibana_objects import mapped_field_types
from tests.support.paths import EVENT_CATEGORIES_PATH, INDEX_TEMPLATE_PATH, REPO_ROOT

CATEGORIES = json.loads(EVENT_CATEGORIES_PATH.read_text(encoding="utf-8"))
ENVIRONMENT = {"LOGSTASH_WRITER_PASSWORD": "unused-in-this-test", "TIME_ZONE": "UTC"}
LOG_FILES = ("django_debug.log", "security.log", "access.log")
GARBAGE_LINE = "this line was not written by the app"
BLOCKED_ADDRESS = "127.0.0.2"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
CATEGORIZATION = ("kind", "category", "type", "outcome")


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, list[dict]]:
    """One garbage line first in each file, then a visit that writes every kind of line the sample app can."""
    workdir = tmp_path_factory.mktemp("ecs")
    (workdir / "log").mkdir()
    for name in LOG_FILES:
        (workdir / "log" / name).write_text(f"{GARBAGE_LINE}\n", encoding="utf-8")
    with running_app(workdir, TIME_ZONE="UTC", DJANGO_BLOCKED_IPS=BLOCKED_ADDRESS) as app:
        visitor = Session(app.base_url + "/", BROWSER, timeout=10)
        for path in ("/", "/missing/page", "/boom/"):
            visitor.request(path)
        assert visitor.login(DEMO_USERNAME, DEMO_PASSWORD) == 302
        assert visitor.request("/restricted/")[0] == 403
        assert visitor.logout() == 302
        assert visitor.login(DEMO_USERNAME, "wrong") == 200
        assert visitor.request("/accounts/login/", data={"username": "x", "password": "y"})[0] == 403  # no CSRF token
        assert visitor.request("/", headers={"Host": "evil.example"})[0] == 400
        blocked = Session(app.base_url + "/", BROWSER, timeout=10, source_address=BLOCKED_ADDRESS)
        assert blocked.request("/")[0] == 403
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())
    return {name: [document.source for _, document in pipeline.process_file(app.log_dir / name)]
            for name in LOG_FILES}


def all_documents(documents) -> list[dict]:
    return [source for name in LOG_FILES for source in documents[name]]


def parsed(documents) -> list[dict]:
    return [source for source in all_documents(documents) if source["message"] != GARBAGE_LINE]


def one(documents, **where) -> dict:
    found = [source for source in parsed(documents)
             if all(value in source_values(source).get(field.replace("__", "."), []) for field, value in where.items())]
    assert len(found) == 1, f"{len(found)} documents match {where}"
    return found[0]


def categorization(source: dict) -> tuple:
    event = source.get("event", {})
    return tuple(event.get(field) for field in CATEGORIZATION)


# ---- the table ------------------------------------------------------------------------------------------------
def test_the_issues_examples_are_categorized_as_it_says(documents):
    assert categorization(one(documents, event__action="user_login_failed")) == (
        "event", ["authentication"], ["start"], "failure")
    assert categorization(one(documents, event__action="user_logged_in")) == (
        "event", ["authentication", "session"], ["start"], "success")
    assert categorization(one(documents, event__action="user_logged_out")) == (
        "event", ["authentication", "session"], ["end"], "success")
    assert categorization(one(documents, event__action="blocked_ip")) == (
        "event", ["network", "web"], ["denied", "access"], "failure")
    assert categorization(one(documents, event__dataset="django.access", url__path="/missing/page")) == (
        "event", ["web"], ["access"], "failure")
    assert categorization(one(documents, event__dataset="django.access", url__path="/restricted/")) == (
        "event", ["web"], ["access"], "failure")
    for answered in [s for s in parsed(documents) if s["event"]["dataset"] == "django.access"]:
        status = answered["http"]["response"]["status_code"]
        assert answered["event"]["outcome"] == ("failure" if status >= 400 else "success"), answered["message"]


def test_every_document_of_every_dataset_has_its_rows_categorization(documents):
    seen_datasets = set()
    for source in parsed(documents):
        event = source["event"]
        seen_datasets.add(event["dataset"])
        key = event["action"] if event.get("action") in CATEGORIES else event["dataset"]
        row = CATEGORIES[key]
        expected = (row["kind"], row.get("category"), row.get("type"), row.get("outcome"))
        if event["dataset"] == "django.access":
            expected = expected[:3] + (event["outcome"],)  # by status, checked above
        assert categorization(source) == expected, source["message"]
    assert seen_datasets == {"django.app", "django.security", "django.access"}
    actions = {source["event"].get("action") for source in parsed(documents)}
    assert {"csrf_failure", "disallowed_host", "permission_denied", "blocked_ip"} <= actions


def test_a_line_that_did_not_parse_is_a_pipeline_error_with_no_category(documents):
    garbage = [source for source in all_documents(documents) if source["message"] == GARBAGE_LINE]
    assert len(garbage) == len(LOG_FILES)
    for source in garbage:
        assert categorization(source) == ("pipeline_error", None, None, None)


def test_the_rows_use_only_values_ecs_allows():
    for key, row in CATEGORIES.items():
        assert set(row) <= set(CATEGORIZATION) and row["kind"] in ECS_KINDS, key
        assert row.get("outcome", "success") in ECS_OUTCOMES, key
        for category in row.get("category", []):
            assert category in ECS_CATEGORY_TYPES, (key, category)
        # ECS expects each event.type with at least one of the event's categories.
        for event_type in row.get("type", []):
            assert any(event_type in ECS_CATEGORY_TYPES[category] for category in row["category"]), (key, event_type)


def test_every_action_the_package_and_django_write_has_a_row_and_every_row_is_written():
    from django.core.exceptions import SuspiciousOperation
    from django_elk_logging.log_filters import security_event_name
    from django_elk_logging.security_events import EVENTS

    for module in ("django.contrib.admin.exceptions", "django.contrib.sessions.exceptions"):
        __import__(module)

    def subclasses(cls):
        for subclass in cls.__subclasses__():
            yield subclass
            yield from subclasses(subclass)

    django_actions = {
        security_event_name(logging.LogRecord(f"django.security.{cls.__name__}", logging.ERROR, "", 0, "", None, None))
        for cls in [SuspiciousOperation, *subclasses(SuspiciousOperation)] if cls.__module__.startswith("django.")
    }
    # django/contrib/gis/gdal/raster/source.py's DisallowedRasterLookup needs GDAL to import.
    written = set(EVENTS) | django_actions | {"csrf_failure", "permission_denied", "disallowed_raster_lookup"}
    datasets = {"django.app", "django.security", "django.access"}
    assert written | datasets == set(CATEGORIES)


def test_the_docs_table_is_the_pipelines_table():
    text = (REPO_ROOT / "docs" / "ecs.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_.]+)` \| `(\w+)` \| (.+?) \| (.+?) \| (.+?) \|$", text, re.MULTILINE)

    def listed(cell: str):
        return None if cell == "–" else re.fullmatch(r"`\[(.*)\]`", cell)[1].split(", ")

    def outcome(key: str, cell: str):
        if key == "django.access":
            assert cell == "`success` below 400, `failure` from 400"
            return None
        return None if cell == "–" else cell.strip("`")

    documented = {key: {"kind": kind, "category": listed(category), "type": listed(types),
                        "outcome": outcome(key, outcome_cell)}
                  for key, kind, category, types, outcome_cell in rows}
    table = {key: {field: row.get(field) for field in CATEGORIZATION} for key, row in CATEGORIES.items()}
    assert documented == table


# ---- identity and records -------------------------------------------------------------------------------------
def test_every_document_has_ecs_version_module_and_its_shipper_as_agent(documents):
    for source in all_documents(documents):
        assert source["ecs"] == {"version": ECS_VERSION}
        assert source["event"]["module"] == "django"
        assert source["agent"] == {"name": "logstash", "type": "logstash"}  # the model's file input host name
        assert "@version" not in source
        assert source["event"]["created"] >= source["@timestamp"]


def test_the_app_host_service_and_process_are_where_the_event_happened(documents):
    info = one(documents, message="This is an info message")
    assert info["host"]["name"] == socket.gethostname()
    assert info["service"]["name"] == "django-app"  # the sample app's DJANGO_SERVICE_NAME default
    access = one(documents, event__dataset="django.access", url__path="/",
                 http__request__id=info["http"]["request"]["id"])
    # The worker that served the request wrote both lines.
    assert access["process"]["pid"] == info["process"]["pid"]
    assert access["host"]["name"] == socket.gethostname() and access["service"]["name"] == "django-app"


def test_the_record_says_its_logger_and_origin_as_ecs_logging_does(documents):
    info = one(documents, message="This is an info message")
    views = (APP_DIR / "myapp" / "views.py").read_text(encoding="utf-8").splitlines()
    line = views.index('    logger.info("This is an info message")') + 1
    assert info["log"]["logger"] == "myapp"
    assert info["log"]["origin"] == {"file": {"name": "views.py", "line": line}, "function": "hello"}
    assert "module" not in info.get("django", {})  # log.origin says it
    not_found = one(documents, message="Not Found: /missing/page")
    assert not_found["log"]["logger"] == "django.request"


def test_a_traceback_gives_the_exceptions_type_and_message(documents):
    boom = one(documents, message="Internal Server Error: /boom/")
    assert boom["error"]["type"] == "RuntimeError"
    assert boom["error"]["message"] == "Boom: this view fails on purpose"


def test_related_names_each_user_and_address_once(documents):
    login = one(documents, event__action="user_logged_in")
    assert login["related"] == {"user": [DEMO_USERNAME], "ip": ["127.0.0.1"]}
    blocked = one(documents, event__action="blocked_ip")
    assert blocked["related"]["ip"] == [BLOCKED_ADDRESS]


def test_the_user_agent_is_parsed(documents):
    login = one(documents, event__action="user_logged_in")
    assert login["user_agent"]["original"] == BROWSER
    assert login["user_agent"]["name"] == "Chrome"
    assert login["user_agent"]["version"] == "120.0.0.0"
    assert login["user_agent"]["os"]["name"] == "Linux"


def test_every_field_of_every_document_is_mapped_as_ecs_or_under_django(documents):
    mapped = mapped_field_types(json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8")))
    for source in all_documents(documents):
        for field in source_values(source):
            assert field in mapped, (field, source["message"])
            assert field in ECS_FIELDS or field.startswith("django."), field


def test_both_pipelines_write_the_ecs_version_of_the_pinned_facts():
    for path in (REPO_ROOT / "logstash" / "pipeline").glob("*.conf"):
        versions = re.findall(r'"\[ecs\]\[version\]" => "([^"]+)"', path.read_text(encoding="utf-8"))
        assert versions == [ECS_VERSION], path


# ---- tracebacks, as Python prints them ----------------------------------------------------------------------
def _raise_chained():
    try:
        {}["missing"]
    except KeyError as error:
        raise ValueError("second\nline two") from error


def _raise_group():
    raise ExceptionGroup("two failures", [OSError("disk"), TypeError("type")])


class _Silent(Exception):
    pass


def _raise_silent():
    raise _Silent


def _raise_message_on_its_next_line():
    try:
        {}["x"]
    except KeyError:
        raise ValueError("\nsecond line")  # noqa: B904 (chained: Python prints the KeyError first)


def _raise_syntax():
    compile("1 +", "<input>", "exec")


TRACEBACKS = {
    "chained": (_raise_chained, "ValueError", "second"),
    "group": (_raise_group, "ExceptionGroup", "two failures (2 sub-exceptions)"),
    "no message": (_raise_silent, f"{__name__}._Silent", None),
    "syntax": (_raise_syntax, "SyntaxError", "invalid syntax"),
    # Python prints "ValueError: " and the message on the next line; the KeyError before it is not the one.
    "message after a line break": (_raise_message_on_its_next_line, "ValueError", None),
}


@pytest.mark.parametrize("line_format", ["ours", "tutorial"])
@pytest.mark.parametrize("case", TRACEBACKS)
def test_the_last_exception_of_a_real_traceback_is_read_on_joni(tmp_path, case, line_format):
    raise_it, expected_type, expected_message = TRACEBACKS[case]
    try:
        raise_it()
    except BaseException:
        exc_info = sys.exc_info()
    record = logging.LogRecord("myapp", logging.ERROR, __file__, 10, "It failed", None, exc_info, func="view")
    if line_format == "ours":
        formatter = SafeFormatter("{levelname} {asctime} {module} {message}", style="{")
    else:
        formatter = logging.Formatter("{levelname} {asctime} {module} {message}", style="{")
    path = tmp_path / "django_debug.log"
    path.write_text(formatter.format(record) + "\n", encoding="utf-8")
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, ENVIRONMENT, engine=engine_for_tests())
    [(_, document)] = pipeline.process_file(path)
    error = document.source["error"]
    assert error.get("type") == expected_type
    assert error.get("message") == expected_message


# ---- old and new indices in one data view ---------------------------------------------------------------------
def test_old_and_new_indices_give_one_type_per_field_but_the_documented_esql_split():
    """An index created by the template before issue 20 (tests/stack/previous_assets/) beside one created by
    today's, as the data view django-logs-* and ES|QL's FROM django-logs-* read them (docs/ecs.md,
    "Upgrading from a version without these fields")."""
    previous = json.loads((REPO_ROOT / "tests/stack/previous_assets/django-logs-template-843ac78.json").read_text())
    current = json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8"))
    indices = {"django-logs-2026.12.07": mapped_fields(previous["template"]["mappings"]),
               "django-logs-2026.12.08": mapped_fields(current["template"]["mappings"])}
    assert data_view_conflicts(indices) == {}
    assert list(ambiguities(indices)) == ["error.stack_trace"]
