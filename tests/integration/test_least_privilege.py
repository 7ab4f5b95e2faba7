"""The stack's roles on the live cluster (elasticsearch/roles/): what each user may do, and what it is refused.

logstash_writer creates documents and auto-creates a day's index through the template, but cannot create
an index with settings of its own; django_responder reads the logs and the alerts and writes nothing.
Every index a test makes is a far-future day's (no real day's index is touched) and is deleted as
`elastic` afterwards, as is the temporary responder user.
"""

import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from elasticsearch import AuthorizationException, Elasticsearch, NotFoundError

from drill.settings import stack_values
from tests.integration.conftest import ENV_FILE
from tests.support.paths import INDEX_TEMPLATE_PATH

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

RUN_ID = secrets.token_hex(4)
LOGS_PATTERN = "django-logs-*"
ALERTS = "django-alerts"
RESPONDER_ROLE = "django_responder"
# A day no real index has. The name keeps the django-logs-YYYY.MM.dd(-N) form, which the template's
# index.lifecycle.parse_origination_date requires (x-pack IndexLifecycleOriginationDateParser.java,
# ^.*-(\d{4}.\d{2}.\d{2})(-[\d]+)?$), and ILM, counting its age from 2099, deletes nothing meanwhile.
FUTURE_DAY = "2099.01.01"
FUTURE_TIMESTAMP = "2099-01-01T00:00:00Z"


def future_day_index() -> str:
    return f"django-logs-{FUTURE_DAY}-{secrets.randbelow(10**9)}"


def marked_document(purpose: str, timestamp: str = FUTURE_TIMESTAMP) -> dict:
    return {"@timestamp": timestamp, "message": f"live-stack-test {RUN_ID}: {purpose}"}


def as_user(live_stack, username: str, password: str) -> Elasticsearch:
    return live_stack.es.options(basic_auth=(username, password))


@contextmanager
def deleted_afterwards(live_stack, index: str) -> Iterator[str]:
    """The index name; whatever the test did, the index is gone afterwards."""
    try:
        yield index
    finally:
        live_stack.es.options(ignore_status=404).indices.delete(index=index)


def assert_refused(live_stack, call: Callable[[], dict], what: str) -> None:
    """The call is refused by the role (403 security_exception: Elasticsearch's AuthorizationService denies
    with ElasticsearchSecurityException, RestStatus.FORBIDDEN); a document it wrote all the same is deleted."""
    try:
        written = call()
    except AuthorizationException as refused:
        error = refused.body.get("error", {}) if isinstance(refused.body, dict) else {}
        assert (refused.meta.status, error.get("type")) == (403, "security_exception"), what
        return
    if "_id" in written:
        live_stack.es.options(ignore_status=404).delete(index=written["_index"], id=written["_id"])
    pytest.fail(f"{what}: allowed, answered {dict(written)}")


@pytest.fixture
def writer(live_stack) -> Elasticsearch:
    password = stack_values(os.environ, ENV_FILE).get("LOGSTASH_WRITER_PASSWORD", "")
    if not password:
        pytest.fail("LOGSTASH_WRITER_PASSWORD is set neither in the environment nor in .env: Logstash needs it.")
    return as_user(live_stack, "logstash_writer", password)


@pytest.fixture
def responder(live_stack) -> Iterator[Elasticsearch]:
    """A native user with the responder role alone, for this test only."""
    username, password = f"live-responder-{RUN_ID}", secrets.token_urlsafe(24)
    live_stack.es.security.put_user(username=username, password=password, roles=[RESPONDER_ROLE])
    try:
        yield as_user(live_stack, username, password)
    finally:
        live_stack.es.options(ignore_status=404).security.delete_user(username=username)


def test_the_writer_cannot_create_an_index_with_settings_of_its_own(live_stack, writer):
    # PUT /<index> is indices:admin/create, which create_index grants and auto_configure does not: that
    # grants only the auto-creation an indexing request makes (IndexPrivilege.java, AUTO_CONFIGURE).
    with deleted_afterwards(live_stack, future_day_index()) as index:
        assert_refused(
            live_stack,
            lambda: writer.indices.create(index=index, settings={"index.lifecycle.name": None}),
            f"logstash_writer PUT /{index} with settings of its own",
        )
        assert not live_stack.es.indices.exists(index=index), f"{index} exists after the refused PUT"


def test_the_writer_creates_a_new_day_index_through_the_template(live_stack, writer):
    template = json.loads(INDEX_TEMPLATE_PATH.read_text(encoding="utf-8"))["template"]["settings"]
    with deleted_afterwards(live_stack, future_day_index()) as index:
        # As the Logstash output writes: op_type create, an id of its own (logstash/pipeline/django.conf).
        created = writer.create(index=index, id=f"live{RUN_ID}", document=marked_document("writer auto-create"))
        assert created["result"] == "created", created
        found = live_stack.es.indices.get_settings(index=index, name="index.lifecycle.name")
        assert found[index]["settings"]["index"]["lifecycle"]["name"] == template["index.lifecycle.name"], found


def shards_searched(client: Elasticsearch, target: str) -> int:
    shards = client.search(index=target, size=0)["_shards"]
    assert shards["failed"] == 0, shards
    return shards["total"]


def test_the_responder_reads_the_logs_and_writes_none(live_stack, responder):
    document_id = f"live{RUN_ID}responder"
    with deleted_afterwards(live_stack, future_day_index()) as index:
        live_stack.es.create(index=index, id=document_id, document=marked_document("responder read"), refresh=True)
        hits = responder.search(index=LOGS_PATTERN, query={"ids": {"values": [document_id]}})["hits"]["hits"]
        assert [hit["_index"] for hit in hits] == [index]
        # A wildcard quietly drops the indices a user may not read: the responder must search every one.
        assert shards_searched(responder, LOGS_PATTERN) == shards_searched(live_stack.es, LOGS_PATTERN)
        assert_refused(
            live_stack,
            lambda: responder.create(index=index, id=f"{document_id}2", document=marked_document("responder write")),
            f"{RESPONDER_ROLE} creating a document in {index}",
        )
        with deleted_afterwards(live_stack, future_day_index()) as new_index:
            assert_refused(
                live_stack,
                lambda: responder.create(index=new_index, id=document_id, document=marked_document("responder new")),
                f"{RESPONDER_ROLE} auto-creating {new_index}",
            )


def test_the_responder_reads_the_alerts_and_writes_none(live_stack, responder):
    if live_stack.es.indices.exists(index=ALERTS):
        shards = shards_searched(live_stack.es, ALERTS)
        assert shards > 0 and shards_searched(responder, ALERTS) == shards
    else:
        # No alert yet, so no data stream: a user allowed to read the name gets 404, one refused it 403.
        with pytest.raises(NotFoundError):
            responder.search(index=ALERTS, size=0)
        live_stack.note(f"{ALERTS} does not exist yet: the responder's read was checked by its 404, not a 403")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    assert_refused(
        live_stack,
        lambda: responder.create(index=ALERTS, id=f"live{RUN_ID}alert", document=marked_document("alert", now)),
        f"{RESPONDER_ROLE} writing to {ALERTS}",
    )
