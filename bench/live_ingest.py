"""make bench-live: ingest throughput, write-to-searchable latency and (COLD_START=1) cold start, on the running stack.

1. A burst of BURST_RECORDS app records, written inside the app container through the app's LOGGING
   (python manage.py log_burst): the time until Elasticsearch counts all of them, and Logstash's own
   event counters (node stats API, pipeline "django") before and after.
2. MARKS records written MARK_INTERVAL apart: for each, the time from its write (the container's clock,
   the host's kernel) until a search finds it, polled every POLL_SECONDS; p50 and p99. Goal: p99 <= 3 s.
3. With COLD_START=1 (it restarts the stack, keeping the volumes): `make up` from `docker compose down`
   until the Django overview dashboard answers.
Appends the table to bench/RESULTS-live.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shlex
import subprocess
import sys
import time

from elasticsearch import ApiError, Elasticsearch, TransportError

from bench.results import LIVE_RESULTS_PATH, append_section
from drill.settings import ENV_FILE, REPO_ROOT, DrillError, StackAccess, port, stack_access, stack_values

BURST_RECORDS = 200_000
MARKS = 200
MARK_INTERVAL = 0.05
POLL_SECONDS = 0.1
BURST_TIMEOUT_SECONDS = 900
MARK_TIMEOUT_SECONDS = 120
COLD_START_TIMEOUT_SECONDS = 1200
LATENCY_GOAL_SECONDS = 3.0
INDEX = "django-logs-*"
MARK = re.compile(r"\bbench mark (\S+)")


class BenchError(Exception):
    """The benchmark cannot run: the message says why."""


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of them at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _run(command: list[str], timeout: float) -> str:
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"{shlex.join(command)}: {error}") from None
    if done.returncode != 0:
        raise BenchError(f"{shlex.join(command)} exited with {done.returncode}: {done.stderr.strip()[:500]}")
    return done.stdout


def _count(es: Elasticsearch, token: str) -> int:
    return es.count(index=INDEX, query={"match": {"message": token}}, ignore_unavailable=True)["count"]


def logstash_events(compose: list[str]) -> dict[str, int]:
    """The django pipeline's event counters (in, filtered, out) from Logstash's node stats API."""
    stats = json.loads(_run([*compose, "exec", "-T", "logstash", "curl", "-fsS",
                             "http://localhost:9600/_node/stats/pipelines/django"], 60))
    events = stats["pipelines"]["django"]["events"]
    return {name: events[name] for name in ("in", "filtered", "out")}


def burst(es: Elasticsearch, compose: list[str]) -> list[str]:
    token = f"bench{secrets.token_hex(6)}"
    before = logstash_events(compose)
    started = time.monotonic()
    writer = subprocess.Popen([*compose, "exec", "-T", "app", "python", "manage.py", "log_burst", token,
                               "--records", str(BURST_RECORDS)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    count = 0
    while count < BURST_RECORDS:
        if time.monotonic() - started > BURST_TIMEOUT_SECONDS:
            writer.kill()
            raise BenchError(f"only {count} of {BURST_RECORDS} burst records searchable after {BURST_TIMEOUT_SECONDS} s")
        time.sleep(1)
        count = _count(es, token)
    searchable = time.monotonic() - started
    output, _ = writer.communicate(timeout=60)
    if writer.returncode != 0:
        raise BenchError(f"log_burst exited with {writer.returncode}")
    written = json.loads(output)["burst_seconds"]
    after = logstash_events(compose)
    moved = {name: after[name] - before[name] for name in after}
    return [
        f"| burst written by the app | {BURST_RECORDS:,} records in {written:.1f} s ({BURST_RECORDS / written:,.0f}/s) |",
        f"| burst searchable | all {BURST_RECORDS:,} after {searchable:.1f} s: {BURST_RECORDS / searchable:,.0f} records/s end to end |",
        f"| Logstash events during the burst | in {moved['in']:,}, filtered {moved['filtered']:,}, out {moved['out']:,} "
        f"(other files' records included) |",
    ]


def marks(es: Elasticsearch, compose: list[str]) -> list[str]:
    token = f"bench{secrets.token_hex(6)}"
    unseen = {f"{token}x{index}" for index in range(MARKS)}
    seen: dict[str, float] = {}
    writer = subprocess.Popen([*compose, "exec", "-T", "app", "python", "manage.py", "log_burst", token, "--marks",
                               str(MARKS), "--mark-interval", str(MARK_INTERVAL)],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + MARK_TIMEOUT_SECONDS
    while unseen and time.monotonic() < deadline:
        hits = es.search(index=INDEX, query={"terms": {"message": sorted(unseen)[:1000]}}, size=1000,
                         source=["message"], ignore_unavailable=True)["hits"]["hits"]
        now = time.time()
        for hit in hits:
            found = MARK.search(hit["_source"]["message"])
            if found and found.group(1) in unseen:
                unseen.discard(found.group(1))
                seen[found.group(1)] = now
        time.sleep(POLL_SECONDS)
    output, _ = writer.communicate(timeout=60)
    written = json.loads(output)["marks"]
    latencies = [seen[name] - written[name] for name in seen]
    if not latencies:
        raise BenchError(f"none of the {MARKS} marks became searchable within {MARK_TIMEOUT_SECONDS} s")
    p99 = percentile(latencies, 0.99)
    verdict = "met" if not unseen and p99 <= LATENCY_GOAL_SECONDS else "NOT met"
    return [
        f"| write to searchable, {len(latencies)} of {MARKS} marks | p50 {percentile(latencies, 0.5):.2f} s, "
        f"p99 {p99:.2f} s (polled every {POLL_SECONDS:g} s): goal p99 <= {LATENCY_GOAL_SECONDS:g} s {verdict} |",
    ]


def cold_start(compose: list[str], access: StackAccess, kibana_port: int, password: str) -> list[str]:
    import httpx  # only this step needs it

    _run([*compose, "down"], 600)
    started = time.monotonic()
    _run(["make", "up"], COLD_START_TIMEOUT_SECONDS)
    # After make up: under TLS it has just copied the (possibly new) CA.
    with httpx.Client(base_url=access.url(kibana_port), auth=("elastic", password), timeout=10,
                      verify=access.ssl_context(), trust_env=False) as kibana:
        while kibana.get("/api/saved_objects/dashboard/django-overview").status_code != 200:
            if time.monotonic() - started > COLD_START_TIMEOUT_SECONDS:
                raise BenchError(f"the dashboards did not answer within {COLD_START_TIMEOUT_SECONDS} s")
            time.sleep(1)
    return [f"| cold start | `make up` from `docker compose down` to dashboards ready: {time.monotonic() - started:.0f} s |"]


def main() -> int:
    compose = shlex.split(os.environ.get("COMPOSE", "docker compose"))
    try:
        values = stack_values(os.environ, ENV_FILE)
        access = stack_access(values)
        password = values.get("ELASTIC_PASSWORD", "")
        es = Elasticsearch(access.url(port(values, "ELASTICSEARCH_PORT", 9200)), basic_auth=("elastic", password),
                           request_timeout=30, **access.elasticsearch_options())
        try:
            es.info()
        except (ApiError, TransportError) as error:
            raise BenchError(f"Elasticsearch does not answer ({error}): start the stack with make up") from None
        rows = burst(es, compose) + marks(es, compose)
        if os.environ.get("COLD_START") == "1":
            rows += cold_start(compose, access, port(values, "KIBANA_PORT", 5601), password)
    except (BenchError, DrillError) as error:
        print(f"error: make bench-live could not run: {error}", file=sys.stderr)
        return 2
    lines = ["| measure | result |", "|---|---|", *rows]
    print("\n".join(lines))
    version = values.get("ELASTIC_VERSION", "")
    append_section(f"Live stack{f', Elastic {version}' if version else ''}", lines, path=LIVE_RESULTS_PATH)
    print(f"appended to {LIVE_RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
