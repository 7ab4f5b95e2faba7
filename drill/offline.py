"""An offline drill: the lines the drill made the app write, parsed by the pipeline's model, and every
rule evaluated on the documents they make (stack_models/alert_rules.py), as Kibana would next run it."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from drill import traffic
from drill.app_logs import AppLogs
from drill.rules import ProvisionedAssets
from drill.scenarios import Scenario
from drill.settings import DrillError, DrillSettings
from stack_models.alert_rules import firing_alerts
from stack_models.logstash_events import Document

# Offline only the drill's own lines are judged, so any source address does; 127.0.0.1 exists everywhere.
SOURCE_ADDRESS = "127.0.0.1"
# The rule that counts lines Logstash could not parse or had to cut: a drill's lines must not make it fire.
PARSE_FAILURES_RULE = "parse-failures"


@dataclass(frozen=True)
class OfflineVerdict:
    passed: bool
    fired: dict[str, list[str]]  # rule stem -> the ids of the alerts it would raise
    problems: list[str]  # why it failed, in words
    documents: list[Document]


def _security_events(documents: list[Document], source_ip: str) -> Counter[str]:
    return Counter(
        document.source.get("event", {}).get("action")
        for document in documents
        if document.source.get("event", {}).get("dataset") == "django.security"
        and document.source.get("source", {}).get("ip") == source_ip
    )


def _errors(documents: list[Document]) -> int:
    return sum(1 for document in documents if document.source.get("log", {}).get("level") in ("ERROR", "CRITICAL"))


def judge(scenario: Scenario, size: int, below_threshold: bool, source_ip: str, report: traffic.TrafficReport,
          documents: list[Document], assets: ProvisionedAssets, now: dt.datetime) -> OfflineVerdict:
    hits = [{"_index": document.index, "_source": document.source} for document in documents]
    alerts = {}
    for stem, rule in sorted(assets.rules.items()):
        try:
            alerts[stem] = firing_alerts(rule.body["params"], hits, assets.logs_mappings, now)
        except ValueError as error:  # a rule or a document outside what the models read
            raise DrillError(f"{stem}: the offline model cannot evaluate it: {error}") from None
    fired = {stem: [alert.id for alert in found] for stem, found in alerts.items() if found}
    problems = []
    for alert in alerts.get(PARSE_FAILURES_RULE, []):
        problems.append(f"{alert.value} line(s) did not parse or were cut: {PARSE_FAILURES_RULE} would fire")
    expected, written = report.expected_security_events, _security_events(documents, source_ip)
    if written != expected:
        problems.append(f"security events from {source_ip}: expected {dict(sorted(expected.items()))}, "
                        f"the logs hold {dict(sorted(written.items()))}")
    errors = _errors(documents)
    if errors != report.expected_error_records:
        problems.append(f"expected {report.expected_error_records} ERROR records, the logs hold {errors}")
    own = fired.get(scenario.rule, [])
    own_fired = source_ip in own if scenario.per_source_ip else bool(own)
    if below_threshold and own_fired:
        problems.append(f"{scenario.rule} fired at its threshold ({size}); it must fire only above it")
    if not below_threshold and not own_fired:
        problems.append(f"{scenario.rule} would not fire on these documents (alerts: {own or 'none'})")
    return OfflineVerdict(not problems, fired, problems, documents)


def run(scenario: Scenario, size: int, below_threshold: bool, settings: DrillSettings, assets: ProvisionedAssets,
        base_url: str, log_dir: Path, engine=None) -> OfflineVerdict:
    """Send the scenario to the app at ``base_url`` and judge what it wrote to ``log_dir`` (grok and dates on
    Joni and Joda too, when given their engine)."""
    logs = AppLogs(log_dir, settings.time_zone, engine=engine)
    if size:
        env = {**os.environ, "DEMO_USERNAME": settings.demo_username, "DEMO_PASSWORD": settings.demo_password}
        report = traffic.run_here(scenario, size, base_url, SOURCE_ADDRESS, env)
    else:  # a threshold of 0: the scenario at its threshold sends nothing
        report = traffic.TrafficReport(Counter(), 0, dt.datetime.now(dt.timezone.utc))
    documents = logs.new_documents()
    return judge(scenario, size, below_threshold, SOURCE_ADDRESS, report, documents, assets,
                 dt.datetime.now(dt.timezone.utc))
