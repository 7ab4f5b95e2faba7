"""One drill end to end on the live stack: make drill's brute force, from inside the app container, until Kibana's
rule writes its alert document to django-alerts."""

import datetime as dt
import ipaddress
import json
import os
import re
import subprocess
import sys

import pytest

from drill.rules import load_rules
from drill.settings import load_drill_settings
from tests.integration.conftest import ENV_FILE
from tests.support.ecs_fields import ECS_VERSION
from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
DRILL_TIMEOUT_SECONDS = 300  # two rule runs (every minute) past the lines' arrival, with room


def run_live_drill(drill: str, drill_log) -> subprocess.CompletedProcess:
    """Runs `python -m drill DRILL` against the live stack, as `make drill` does, and checks that it passed."""
    env = {**os.environ, "PYTHONPATH": ":".join(str(REPO_ROOT / part) for part in ("app", "setup", "scripts"))}
    done = subprocess.run(
        [sys.executable, "-m", "drill", drill, "--drill-log", str(drill_log), "--env-file", str(ENV_FILE),
         "--timeout-seconds", str(DRILL_TIMEOUT_SECONDS)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=DRILL_TIMEOUT_SECONDS + 120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"PASS: drill {drill}, live" in done.stdout
    return done


def alerts_since(live_stack, rule: str, started: dt.datetime) -> list[dict]:
    """The alert documents the rule named `rule` in the drill settings wrote to django-alerts since `started`."""
    rule_id = load_rules(load_drill_settings(env_file=ENV_FILE).detections).rules[rule].rule_id
    return live_stack.es.search(
        index="django-alerts",
        query={"bool": {"filter": [{"term": {"rule.id": rule_id}},
                                   {"range": {"@timestamp": {"gte": started.isoformat()}}}]}},
        size=10,
    )["hits"]["hits"]


def test_the_brute_force_drill_passes_and_its_alert_is_in_django_alerts(live_stack, tmp_path):
    log = tmp_path / "drills.tsv"
    started = dt.datetime.now(dt.timezone.utc)

    done = run_live_drill("brute-force", log)

    record = log.read_text().splitlines()[1].split("\t")
    assert record[1:4] == ["brute-force", "live", "PASS"]
    live_stack.note(f"brute-force drill: alert {float(record[4]):.1f} s after the traffic")
    hits = alerts_since(live_stack, "brute-force-logins", started)
    # The drill's own loopback address inside the app container is its alert group.
    source_address = re.search(r"traffic \(size \d+\) from (\S+);", done.stdout).group(1)
    assert ipaddress.ip_address(source_address) in ipaddress.ip_network("127.0.0.0/8")
    ours = [hit["_source"] for hit in hits if hit["_source"]["alert"]["id"] == source_address]
    assert len(ours) == 1, json.dumps(hits)
    assert ours[0]["rule"]["reference"] == "docs/incident-response.md#brute-force-logins"
    # The alert joins its events on source.ip, indexed as an ip (a term query on it would miss a keyword).
    assert ours[0]["ecs"]["version"] == ECS_VERSION and ours[0]["source"]["ip"] == source_address
    assert live_stack.es.search(index="django-alerts", size=0, query={"bool": {"filter": [
        {"term": {"rule.id": ours[0]["rule"]["id"]}}, {"term": {"source.ip": f"{source_address}/32"}}]}},
    )["hits"]["total"]["value"] >= 1


def test_the_privilege_gain_drill_passes_and_its_per_event_alerts_name_its_user(live_stack, tmp_path):
    """A real change in the running app (manage.py drill_privilege_gain in its container): the promotion to
    staff and the deletion are each an alert of privilege-gain, their ids naming the drill's user."""
    started = dt.datetime.now(dt.timezone.utc)

    done = run_live_drill("privilege-gain", tmp_path / "drills.tsv")

    source_address = re.search(r"made privilege-gain's change from (\S+);", done.stdout).group(1)
    account = "drill-privilege-" + source_address.replace(".", "-")
    hits = alerts_since(live_stack, "privilege-gain", started)
    ours = sorted(hit["_source"]["alert"]["id"].split(",")[1:] for hit in hits
                  if account in hit["_source"]["alert"]["id"].split(","))
    # The deletion's alert may come one rule run later than the promotion's: the drill waits for the first.
    assert ["privilege_changed", account, "is_staff"] in ours, json.dumps(hits)
