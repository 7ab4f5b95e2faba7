"""make drill: `python -m drill SCENARIO [--offline [--below-threshold]]`; exit 0 on PASS, 1 on FAIL, 2 when
the drill cannot run. Each drill that ran appends a record to the drill log."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shlex
import sys
from pathlib import Path

from drill import drill_log, live, offline, traffic
from drill.rules import load_rules
from drill.scenarios import MAX_SIZE, SCENARIOS
from drill.settings import ENV_FILE, REPO_ROOT, DrillError, load_drill_settings

# Offline: make run-app.
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"
DEFAULT_LOG_DIR = REPO_ROOT / "var" / "log"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make drill", description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--offline", action="store_true", help="against make run-app, judged by the models")
    parser.add_argument("--below-threshold", action="store_true",
                        help="offline: send exactly the threshold; PASS when the rule would not fire")
    parser.add_argument("--base-url", help=f"offline: the app to drill (default {DEFAULT_BASE_URL}, make run-app)")
    parser.add_argument("--log-dir", type=Path, help=f"offline: the app's log folder (default {DEFAULT_LOG_DIR})")
    parser.add_argument("--drill-log", type=Path, default=REPO_ROOT / "var" / "drill-log.tsv")
    parser.add_argument("--env-file", type=Path, default=ENV_FILE, help="the .env to read after the environment")
    parser.add_argument("--compose", default="docker compose", help="live: the Compose command")
    parser.add_argument("--timeout-seconds", type=float, default=300.0, help="live: how long to wait for the alert")
    arguments = parser.parse_args(argv)
    if arguments.below_threshold and not arguments.offline:
        parser.error("--below-threshold runs offline only: live, the absence of an alert is proven only by waiting")
    if arguments.below_threshold and SCENARIOS[arguments.scenario].size_setting is None:
        parser.error(f"{arguments.scenario} has no threshold to stay below: its rule fires on every event")
    if not arguments.offline and (arguments.base_url or arguments.log_dir):
        parser.error("--base-url and --log-dir (make drill's BASE_URL and LOG_DIR) apply to an offline drill only: "
                     "live, the traffic goes to the sample app inside its container and the stack reads its logs")
    arguments.base_url = arguments.base_url or DEFAULT_BASE_URL
    arguments.log_dir = arguments.log_dir or DEFAULT_LOG_DIR
    if not 10 <= arguments.timeout_seconds <= 3600:
        parser.error(f"--timeout-seconds={arguments.timeout_seconds:g} must be from 10 to 3600")
    return arguments


def _size(scenario, detections, below_threshold: bool) -> int:
    size = scenario.size(detections, below_threshold)
    if size > MAX_SIZE:
        raise DrillError(f"{scenario.size_setting}={detections[scenario.size_setting]} needs {size} requests; "
                         f"a drill sends at most {MAX_SIZE}.")
    return size


def _offline(arguments, settings, assets, scenario) -> drill_log.DrillRecord:
    size = _size(scenario, settings.detections, arguments.below_threshold)
    verdict = offline.run(scenario, size, arguments.below_threshold, settings, assets, arguments.base_url,
                          arguments.log_dir)
    print(f"{len(verdict.documents)} documents from the lines the drill wrote (size {size}, "
          f"{'at' if arguments.below_threshold else 'above'} the threshold)")
    for stem, alert_ids in verdict.fired.items():
        print(f"  would fire: {stem} (alerts: {', '.join(alert_ids)})")
    for problem in verdict.problems:
        print(f"  problem: {problem}")
    expectation = "stays silent" if arguments.below_threshold else "would fire"
    detail = f"offline, size {size}: {scenario.rule} {expectation}" if verdict.passed else "; ".join(verdict.problems)
    return drill_log.DrillRecord(dt.datetime.now(dt.timezone.utc), scenario.name, "offline", verdict.passed, None, detail)


def _live(arguments, settings, assets, scenario) -> drill_log.DrillRecord:
    rule = assets.rules[scenario.rule]
    es = live.connect(settings)
    size = _size(scenario, settings.detections, below_threshold=False)
    # Its own loopback address: an alert still active for an earlier drill's address writes nothing new.
    source_address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    started = dt.datetime.now(dt.timezone.utc)
    caveat = ""
    if scenario.alerts_per is None:  # one alert for all matching records, the drill's and any others
        params = rule.body["params"]
        window = dt.timedelta(minutes=params["timeWindowSize"])
        earlier = live.find_alert(es, rule.rule_id, started - window, None)
        if earlier is not None:
            print(f"warning: {scenario.rule} alerted at {earlier.detected_at:%H:%M:%S} UTC; while that alert is "
                  "active Kibana writes no new one, so this drill may FAIL: wait until it recovers.")
        already = live.count_matching(es, params["esQuery"], started - window)
        if already:
            caveat = f" ({already} matching records were in the window before the drill)"
            print(f"note: {already} records in the last {params['timeWindowSize']} minutes already match {scenario.rule}")
    report = traffic.run_in_app_container(shlex.split(arguments.compose), scenario, size, source_address)
    finished = report.ended_at
    what = f"made {scenario.name}'s change" if scenario.size_option is None else f"sent {scenario.name} traffic (size {size})"
    print(f"{what} from {source_address}; waiting for the alert "
          f"(up to {arguments.timeout_seconds:g} s)")
    alert_id = scenario.alert_id(source_address)
    # One alert per event: its id holds the event's time, so it is found by the drill's target among its columns.
    target = scenario.drill_events(source_address)[1] if alert_id is None and scenario.alerts_per else None
    found = live.wait_for_alert(es, rule.rule_id, started, alert_id, arguments.timeout_seconds, target)
    if found is not None:
        # From the end of the traffic to the rule run that found it; a run may start before the traffic ends.
        latency = max(0.0, (found.detected_at - finished).total_seconds())
        print(f"  alert {found.alert_id}: {found.reason}")
        return drill_log.DrillRecord(finished, scenario.name, "live", True, latency,
                                     f"{scenario.rule} alert {found.alert_id} in django-alerts{caveat}")
    field, value = scenario.drill_events(source_address)
    events = live.indexed_events(es, field, value, started)
    detail = (f"no {scenario.rule} alert{f' for {alert_id}' if alert_id else ''} in django-alerts after "
              f"{arguments.timeout_seconds:g} s; security events with {field} {value} in django-logs-*: "
              f"{events or 'none'}")
    return drill_log.DrillRecord(finished, scenario.name, "live", False, None, detail)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    scenario = SCENARIOS[arguments.scenario]
    try:
        settings = load_drill_settings(os.environ, arguments.env_file)
        assets = load_rules(settings.detections)
        run = _offline if arguments.offline else _live
        record = run(arguments, settings, assets, scenario)
    except DrillError as error:
        print(f"error: drill {scenario.name} could not run: {error}", file=sys.stderr)
        return 2
    drill_log.append(arguments.drill_log, record)
    latency = "" if record.latency_seconds is None else f" (detected {record.latency_seconds:.1f} s after the traffic)"
    verdict = "PASS" if record.passed else "FAIL"
    print(f"{verdict}: drill {scenario.name}, {record.mode}{latency}: {record.detail}")
    print(f"recorded in {arguments.drill_log}")
    return 0 if record.passed else 1


if __name__ == "__main__":
    sys.exit(main())
