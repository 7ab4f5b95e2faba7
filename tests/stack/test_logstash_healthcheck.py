"""logstash/healthcheck.sh, run by sh with the real curl and grep against node stats answers.

The answers follow /_node/stats/pipelines/<id> as logstash-core builds it (lib/logstash/api/commands/stats.rb,
PluginsStats.report; the example in docs/static/spec/openapi/logstash-api.yaml), with the elasticsearch
output's own counters (logstash-output-elasticsearch lib/logstash/plugin_mixins/elasticsearch/common.rb:
bulk_requests.successes/failures/with_errors, bulk_requests.responses.<code>, documents.*) and grok's
matches/failures (logstash-filter-grok lib/logstash/filters/grok.rb): tests/stack/node_stats/.
"""

import copy
import http.server
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.support.paths import LOGSTASH_DIR

SCRIPT = LOGSTASH_DIR / "healthcheck.sh"
SAMPLE = json.loads((Path(__file__).parent / "node_stats" / "django_pipeline.json").read_text())
# dash is Debian's sh; the image's sh is bash: the script must mean the same on both.
SHELLS = [shell for shell in ("dash", "bash") if shutil.which(shell)]


class NodeStats(http.server.BaseHTTPRequestHandler):
    answer: tuple[int, str] = (404, "")

    def do_GET(self):  # noqa: N802 (http.server's name)
        status, body = self.answer if self.path == "/_node/stats/pipelines/django" else (404, "")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def logstash():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("Answers", (NodeStats,), {}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(params=SHELLS)
def check(request, logstash, tmp_path):
    """Run the healthcheck once against ``logstash``'s current answer: (exit code, its one line)."""
    state = tmp_path / "state"

    def run(answer: tuple[int, str] | None = None) -> tuple[int, str]:
        if answer is not None:
            logstash.RequestHandlerClass.answer = answer
        result = subprocess.run(
            [request.param, str(SCRIPT)], capture_output=True, text=True, timeout=30,
            env={"PATH": "/usr/bin:/bin", "LOGSTASH_API": f"http://127.0.0.1:{logstash.server_address[1]}",
                 "HEALTHCHECK_STATE": str(state)},
        )
        assert result.stderr == "" or result.returncode == 1, result.stderr
        return result.returncode, result.stdout.strip()

    run.state = state
    return run


def stats(settled: int | None, failures: int | None, grok_failures: int = 7, indent: int | None = None,
          reordered: bool = False, *, retryable: int | None = None, non_retryable: int | None = None,
          dlq_routed: int | None = None, with_errors: int | None = None) -> tuple[int, str]:
    """The sample with the output's counters set: ``settled`` documents.successes, ``failures``
    bulk_requests.failures, the keywords the other document counters and bulk_requests.with_errors. None:
    not created yet (the metric store creates a counter at its first increment); all None, an output
    that sent nothing. ``reordered`` puts the output's two objects first, their keys reversed."""
    body = copy.deepcopy(SAMPLE)
    plugins = body["pipelines"]["django"]["plugins"]
    plugins["filters"][0]["failures"] = grok_failures
    output = plugins["outputs"][0]
    bulk, documents = output.pop("bulk_requests"), output.pop("documents")
    bulk.update(failures=failures, with_errors=with_errors)
    documents = {"successes": settled, "non_retryable_failures": non_retryable, "dlq_routed": dlq_routed,
                 "retryable_failures": retryable}
    counters = {name: {key: value for key, value in values.items() if value is not None}
                for name, values in (("bulk_requests", bulk), ("documents", documents))}
    if all(value is None for value in (settled, failures, retryable, non_retryable, dlq_routed, with_errors)):
        counters = {}
    if reordered:
        plugins["outputs"][0] = {**{name: dict(reversed(values.items())) for name, values in counters.items()}, **output}
    else:
        output.update(counters)
    return 200, json.dumps(body, indent=indent)


def test_not_healthy_until_the_pipeline_is_loaded(check):
    code, line = check((404, '{"path":"/_node/stats/pipelines/django","status":404}'))
    assert (code, line) == (1, "the django pipeline is not running yet (no node stats for it)")


def test_not_healthy_when_logstash_does_not_answer(check, logstash):
    logstash.shutdown()
    logstash.server_close()
    assert check()[0] == 1


def test_an_idle_pipeline_whose_output_sent_nothing_is_healthy(check):
    assert check(stats(None, None)) == (
        0, "the django pipeline runs; its output: 0 documents settled, 0 failed bulk requests and documents to retry")


def test_failing_bulk_requests_make_it_unhealthy_until_one_succeeds(check):
    assert check(stats(4, 0))[0] == 0
    code, line = check(stats(4, 3))
    assert (code, line) == (1, "the Elasticsearch output is failing: 3 failed bulk requests and documents to retry, "
                               "none settled since; make logs SERVICE=logstash")
    assert check(stats(4, 3))[0] == 1  # backing off between retries: nothing new, still failing
    assert check(stats(4, 5))[0] == 1
    assert check(stats(5, 5))[0] == 0  # the retried bulk got through
    assert check(stats(5, 5))[0] == 0


def test_documents_dropped_as_duplicates_or_sent_to_the_dead_letter_queue_are_settled(check):
    # After an outage the retried bulk meets the documents Elasticsearch had already written: 409s,
    # dropped (non_retryable_failures); a mapping error goes to the dead letter queue (common.rb, submit).
    assert check(stats(5, 0))[0] == 0
    assert check(stats(5, 3))[0] == 1
    assert check(stats(5, 3, non_retryable=1, with_errors=1)) == (
        0, "the django pipeline runs; its output: 6 documents settled, 3 failed bulk requests and documents to retry")
    assert check(stats(5, 3, non_retryable=1, with_errors=1))[0] == 0  # then idle: still healthy
    assert check(stats(5, 4, non_retryable=1, with_errors=1))[0] == 1
    assert check(stats(5, 4, non_retryable=1, dlq_routed=1, with_errors=2))[0] == 0


def test_documents_elasticsearch_refuses_for_now_are_failures_whatever_with_errors_counts(check):
    # A read-only index (403), too many requests (429), a red index (503): Elasticsearch answers the bulk,
    # with_errors grows, and each refused document is retried for ever (retryable_failures).
    assert check(stats(5, 0))[0] == 0
    assert check(stats(5, 0, retryable=10, with_errors=3))[0] == 1
    assert check(stats(5, 0, retryable=20, with_errors=6))[0] == 1
    assert check(stats(6, 0, retryable=20, with_errors=7))[0] == 0  # a retried document got in


def test_a_first_check_that_finds_only_failures_is_unhealthy(check):
    assert check(stats(None, 2))[0] == 1


def test_counters_that_start_again_after_a_restart_are_read_afresh(check):
    assert check(stats(4, 0))[0] == 0
    assert check(stats(4, 9))[0] == 1
    assert check(stats(None, None))[0] == 0  # Logstash restarted in the same container: counters at 0
    assert check(stats(None, 1))[0] == 1


def test_grok_failures_are_not_the_outputs(check):
    assert check(stats(4, 0, grok_failures=7))[0] == 0
    assert check(stats(4, 0, grok_failures=900))[0] == 0


@pytest.mark.parametrize("indent", [None, 2])
def test_key_order_and_pretty_printing_do_not_matter(check, indent):
    assert check(stats(4, 0, indent=indent, reordered=True))[0] == 0
    assert check(stats(4, 2, indent=indent, reordered=True))[0] == 1


@pytest.mark.parametrize("saved", ["", "garbage\n", "1 2\n", "x 2 ok\n", "3 2 failing extra\n", "-1 0 ok\n"])
def test_a_state_file_it_did_not_write_starts_afresh(check, saved):
    check.state.write_text(saved)
    assert check(stats(4, 0))[0] == 0
    assert check.state.read_text() == "4 0 ok\n"


def test_it_asks_logstashs_own_plain_http_api_and_never_skips_verification():
    """Logstash's API is plain HTTP inside its container (api.http.host in logstash/config/logstash.yml)."""
    text = SCRIPT.read_text()
    assert "api=${LOGSTASH_API:-http://localhost:9600}" in text
    assert not re.search(r"(?<![\w-])(-k|--insecure)(?![\w-])", text)
