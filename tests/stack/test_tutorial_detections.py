"""Which rules the tutorial format's security events reach: written by Python's real logging with the
tutorial's `verbose` formatter, made into documents as the offline drill makes them (drill/app_logs.py: the
pipeline model, on Joni and Joda when jruby is here, and a document id seen twice kept once), then every
rule of kibana/rules/ evaluated on them as Kibana would (stack_models/alert_rules.py).

The tutorial's lines carry a user name but no client address, so only the rules keyed on `user.name`
can count them; those keyed on `source.ip` never see them.
"""

import datetime as dt
import logging
import time
import zoneinfo

import pytest

from drill.app_logs import AppLogs
from drill.rules import load_rules
from provision.settings import DETECTION_VARIABLES
from stack_models.alert_rules import firing_alerts
from tests.support.engines import engine_for_tests

TIME_ZONE = "Europe/Paris"
TUTORIAL_FORMAT = "{levelname} {asctime} {module} {message}"
DEFAULTS = {name: default for name, (default, _low, _high) in DETECTION_VARIABLES.items()}
FAILURES = DEFAULTS["BRUTE_FORCE_FAILURES"]
MILLISECOND = 0.002  # asctime's resolution, and a little more


@pytest.fixture(scope="module")
def assets():
    return load_rules(DEFAULTS)


@pytest.fixture
def security_log(tmp_path):
    """The tutorial's `security` logger writing to django_debug.log through its `file` handler."""
    path = tmp_path / "django_debug.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    formatter = logging.Formatter(TUTORIAL_FORMAT, style="{")
    zone = zoneinfo.ZoneInfo(TIME_ZONE)
    formatter.converter = lambda seconds: dt.datetime.fromtimestamp(seconds, zone).timetuple()
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"tutorial-security.{id(path)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logs = AppLogs(tmp_path, TIME_ZONE, engine=engine_for_tests())
    yield logger, handler, logs
    handler.close()


def fired(assets, security_log) -> dict[str, list[str]]:
    _, handler, logs = security_log
    handler.close()
    hits = [{"_index": document.index, "_source": document.source} for document in logs.new_documents()]
    assert hits and all("source" not in hit["_source"] for hit in hits)  # no client address in this format
    now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    alerts = {stem: firing_alerts(rule.body["params"], hits, assets.logs_mappings, now) for stem, rule in assets.rules.items()}
    return {stem: [alert.id for alert in found] for stem, found in alerts.items() if found}


def test_more_failed_logins_for_one_account_than_the_threshold_fire_the_account_rule_only(assets, security_log):
    logger, _, _ = security_log
    for _ in range(FAILURES + 1):
        logger.warning("Login failed: alice")

    assert fired(assets, security_log) == {"brute-force-account": ["alice"]}


def test_failed_logins_at_the_threshold_or_spread_over_accounts_fire_nothing(assets, security_log):
    logger, _, _ = security_log
    for _ in range(FAILURES):
        logger.warning("Login failed: alice")
    for number in range(FAILURES + 1):
        logger.warning(f"Login failed: user-{number}")

    assert fired(assets, security_log) == {}


def test_failed_logins_spread_over_case_variants_of_one_name_fire_the_account_rules(assets, security_log):
    # ModelBackend's exact lookup matches every case of a name on a case-insensitive collation (MySQL's
    # default): each variant stays at or below the threshold, the account is above it.
    logger, _, _ = security_log
    variants = ("alice", "Alice", "ALICE")
    per_variant = FAILURES // len(variants) + 1
    assert per_variant <= FAILURES < per_variant * len(variants)
    for name in variants:
        for _ in range(per_variant):
            logger.warning(f"Login failed: {name}")
    time.sleep(MILLISECOND)
    logger.info("User logged in: Alice")

    assert fired(assets, security_log) == {
        "brute-force-account": ["alice"], "brute-force-account-success": ["alice"],
    }


def test_a_login_after_the_failures_fires_the_account_success_rule(assets, security_log):
    logger, _, _ = security_log
    for _ in range(FAILURES + 1):
        logger.warning("Login failed: alice")
    time.sleep(MILLISECOND)  # the rule wants the login later than the first failure, in milliseconds
    logger.info("User logged in: alice")
    logger.info("User logged in: bob")  # no failures for bob

    assert fired(assets, security_log) == {
        "brute-force-account": ["alice"], "brute-force-account-success": ["alice"],
    }


def test_a_login_before_the_failures_is_no_success_after_them(assets, security_log):
    logger, _, _ = security_log
    logger.info("User logged in: alice")
    time.sleep(MILLISECOND)
    for _ in range(FAILURES + 1):
        logger.warning("Login failed: alice")

    assert fired(assets, security_log) == {"brute-force-account": ["alice"]}
