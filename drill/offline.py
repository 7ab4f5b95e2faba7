"""An offline drill: the lines the drill made the app write, parsed by the pipeline's model, and every
rule evaluated on the documents they make (stack_models/alert_rules.py), as Kibana would next run it.

Before it judges, it makes sure the app it drilled is one it can judge (else DrillError, exit 2, saying what
it needs): the app answered as the sample app does, wrote the drill's records into the log folder, in the
zone the drill reads them in, with the request context of django_elk_logging on its security events."""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from drill import traffic
from drill.app_logs import AppLogs
from drill.rules import ProvisionedAssets
from drill.scenarios import SOURCE_IP, Scenario
from drill.settings import DrillError, DrillSettings
from myapp import drills as generator
from stack_models.alert_rules import firing_alerts
from stack_models.logstash_events import Document, field_value

# Offline only the drill's own lines are judged, so any source address does; 127.0.0.1 exists everywhere.
SOURCE_ADDRESS = "127.0.0.1"
# The rule that counts lines Logstash could not parse or had to cut: a drill's lines must not make it fire.
PARSE_FAILURES_RULE = "parse-failures"
# The drill's records are written between its start and its reading of the logs, on this machine's clock; a
# timestamp further off was written in another zone (zones differ by 15 minutes at least).
CLOCK_SLACK = dt.timedelta(seconds=60)
ACCESS_DATASET = "django.access"


@dataclass(frozen=True)
class OfflineVerdict:
    passed: bool
    fired: dict[str, list[str]]  # rule stem -> the ids of the alerts it would raise
    problems: list[str]  # why it failed, in words
    documents: list[Document]


def _security_events(documents: list[Document], field: str, value: str) -> Counter[str]:
    """The security events whose ``field`` is ``value`` (the drill's address or account), per action."""
    return Counter(
        document.source.get("event", {}).get("action")
        for document in documents
        if document.source.get("event", {}).get("dataset") == "django.security"
        and field_value(document.source, tuple(field.split("."))) == value
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
    field, value = scenario.drill_events(source_ip)
    expected, written = report.expected_security_events, _security_events(documents, field, value)
    if written != expected:
        whose = f"from {value}" if field == SOURCE_IP else f"for the user name {value}"
        problems.append(f"security events {whose}: expected {dict(sorted(expected.items()))}, "
                        f"the logs hold {dict(sorted(written.items()))}")
    errors = _errors(documents)
    if errors != report.expected_error_records:
        problems.append(f"expected {report.expected_error_records} ERROR records, the logs hold {errors}")
    own = fired.get(scenario.rule, [])
    own_fired = scenario.drill_alert(own, source_ip)
    if below_threshold and own_fired:
        problems.append(f"{scenario.rule} fired at its threshold ({size}); it must fire only above it")
    if not below_threshold and not own_fired:
        problems.append(f"{scenario.rule} would not fire on these documents (alerts: {own or 'none'})")
    return OfflineVerdict(not problems, fired, problems, documents)


def requirements(scenario: Scenario, log_dir: Path, file_names: list[str]) -> str:
    """What the offline drill needs of the app it drills, in words."""
    return (f"The offline drill needs the sample app (make run-app) or an app that answers like it (for "
            f"{scenario.name}: {scenario.needs}) and writes its records into {log_dir} ({', '.join(file_names)}) "
            "with django_elk_logging's request context (request_id=, and client_ip= on security events).")


def _timestamp(document: Document) -> dt.datetime:
    return dt.datetime.fromisoformat(document.source["@timestamp"].replace("Z", "+00:00"))


def _clock_skew(documents: list[Document], started: dt.datetime, read_at: dt.datetime) -> tuple[int, dt.timedelta]:
    """How many documents are stamped outside the drill's run, and how far the first of them is."""
    outside = []
    for document in documents:
        stamp = _timestamp(document)
        if stamp < started - CLOCK_SLACK:
            outside.append(stamp - started)
        elif stamp > read_at + CLOCK_SLACK:
            outside.append(stamp - read_at)
    return len(outside), (outside[0] if outside else dt.timedelta(0))


def _utc_offset(offset: dt.timedelta) -> str:
    minutes = round(offset.total_seconds() / 60)
    return f"UTC{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _how_far(skew: dt.timedelta) -> str:
    minutes = round(abs(skew.total_seconds()) / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min {'ahead of' if skew > dt.timedelta(0) else 'behind'}"


def _zone_problem(time_zone: str, count: int, skew: dt.timedelta, read_at: dt.datetime) -> str:
    try:
        drill_offset = read_at.astimezone(zoneinfo.ZoneInfo(time_zone)).utcoffset() or dt.timedelta(0)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        drill_offset = None
    # Written in zone A, read in zone B: the timestamp is off by A's offset minus B's, to the quarter hour.
    quarters = round(skew / dt.timedelta(minutes=15))
    written_in = ("" if drill_offset is None else
                  f" (they look written at {_utc_offset(drill_offset + quarters * dt.timedelta(minutes=15))})")
    return (f"{count} record(s) the app wrote during the drill are stamped {_how_far(skew)} the drill's clock "
            f"when read in TIME_ZONE={time_zone}, as the drill and the pipeline read them: the "
            f"app writes its timestamps in another zone{written_in}. The app and the drill must use the same "
            "TIME_ZONE; make run-app and make drill both take it from the environment first, then .env: restart "
            "make run-app after changing it in .env, or give the drill the app's zone (TIME_ZONE=... make drill ...).")


def _lacks_request_context(documents: list[Document]) -> bool:
    """Records of the app that all parsed, and none carries a request id: the app's LOGGING adds no request context."""
    records = [document for document in documents
               if document.source.get("event", {}).get("dataset") != ACCESS_DATASET]
    failed = any(tag.startswith("_") for document in documents for tag in document.source.get("tags", []))
    return bool(records) and not failed and not any(
        document.source.get("http", {}).get("request", {}).get("id") for document in records)


def check_judgeable(scenario: Scenario, report: traffic.TrafficReport, documents: list[Document], time_zone: str,
                    started: dt.datetime, read_at: dt.datetime, base_url: str, log_dir: Path,
                    file_names: list[str]) -> None:
    """DrillError (the drill cannot run) when what the app wrote cannot show whether the rule detects the drill:
    nothing at all, timestamps in another zone, or records without the request context the rules group by."""
    needs = requirements(scenario, log_dir, file_names)
    expected = report.expected_security_events
    if (expected or report.expected_error_records) and not documents:
        raise DrillError(f"the app at {base_url} answered the drill's {report.requests} requests as the sample app "
                         f"does, but wrote nothing to {log_dir} while the drill ran: that folder is not where this "
                         "app writes its logs (make run-app writes var/log; LOG_DIR= names another), or this app "
                         "logs nothing for these requests (the sample app's security events come from "
                         f"django_elk_logging). {needs}")
    count, skew = _clock_skew(documents, started, read_at)
    if count:
        raise DrillError(_zone_problem(time_zone, count, skew, read_at))
    if (expected and scenario.alerts_per == SOURCE_IP and _security_events(documents, SOURCE_IP, SOURCE_ADDRESS) != expected
            and _lacks_request_context(documents)):
        raise DrillError(f"the app at {base_url} wrote {len(documents)} record(s) to {log_dir} during the drill, and "
                         "none carries django_elk_logging's request context (request_id=, and client_ip= on "
                         "security events): the rules count the drill's security events by client address "
                         "(source.ip), which only that context gives. The app's LOGGING lacks the package's "
                         "request-context filter, which elk_logging() of django_elk_logging.logging_settings adds "
                         "(django-elk-logging/README.md, \"Switch it on\"). "
                         f"{needs}")


def run(scenario: Scenario, size: int, below_threshold: bool, settings: DrillSettings, assets: ProvisionedAssets,
        base_url: str, log_dir: Path, engine=None, app_env: dict[str, str] | None = None) -> OfflineVerdict:
    """Send the scenario to the app at ``base_url`` and judge what it wrote to ``log_dir`` (grok and dates on
    Joni and Joda too, when given their engine); a change the app makes itself (privilege-gain) runs with
    ``app_env``, by default make run-app's environment."""
    started = dt.datetime.now(dt.timezone.utc)
    logs = AppLogs(log_dir, settings.time_zone, engine=engine)
    if size:
        env = {**os.environ, "DEMO_USERNAME": settings.demo_username, "DEMO_PASSWORD": settings.demo_password}
        try:
            report = traffic.run_here(scenario, size, base_url, SOURCE_ADDRESS, env, app_env)
        except traffic.GeneratorFailed as error:
            if error.status != generator.EXIT_UNEXPECTED:
                raise
            detail = error.detail.removeprefix(f"drill {scenario.name}: ")
            if scenario.size_option is None:  # the app's own command, not traffic
                raise DrillError(f"the drill's change in the app failed: {detail}. "
                                 f"{requirements(scenario, log_dir, logs.file_names)}") from None
            raise DrillError(f"the app at {base_url} did not answer as the drill needs: {detail}. "
                             f"{requirements(scenario, log_dir, logs.file_names)}") from None
    else:  # a threshold of 0: the scenario at its threshold sends nothing
        report = traffic.TrafficReport(Counter(), 0, dt.datetime.now(dt.timezone.utc))
    documents = logs.new_documents()
    read_at = dt.datetime.now(dt.timezone.utc)
    check_judgeable(scenario, report, documents, settings.time_zone, started, read_at, base_url, log_dir,
                    logs.file_names)
    return judge(scenario, size, below_threshold, SOURCE_ADDRESS, report, documents, assets, read_at)
