"""The drill scenarios: the rule each proves and how much traffic it sends.

Each sends one more than its rule's threshold (or, below the threshold, exactly the threshold), from
one source address (and, for a per-account rule, for a user name of that address's own), so the rule
fires (or would not) on the drill's traffic alone. The traffic
itself, and what the app logs for it, is the generator's (app/myapp/drills.py). A rule with no threshold
(privilege-gain: every event) is drilled by one change the app makes itself, named after the source
address too (app/myapp/management/commands/drill_privilege_gain.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The generator (standard library only; app/ is on make drill's PYTHONPATH) owns its bounds and options.
from myapp import drills as generator

MAX_SIZE = generator.MAX_SIZE


# What the scenarios need of the app they drill: the sample app's answers, which the generator checks
# request by request (offline, --base-url may name another app).
LOGIN_FORM = "/accounts/login/ served by Django's LoginView (a failed login shows the form again)"
# What a rule's alerts are grouped by, hence the field that tells the drill's security events from others'.
SOURCE_IP, ACCOUNT = "source.ip", "user.name"
# One alert per event, whose id holds the target user's name among its other columns.
TARGET = "user.target.name"
PRIVILEGE_COMMAND = "manage.py drill_privilege_gain, run where the app runs (its database and LOGGING)"


@dataclass(frozen=True)
class Scenario:
    name: str
    rule: str  # the rule it proves: kibana/rules/<rule>.json
    size_setting: str | None  # the detection setting its traffic exceeds by one; None: no threshold, one event
    alerts_per: str | None  # SOURCE_IP, ACCOUNT, TARGET (one per event), or None: one alert for all matching records
    needs: str  # the app's routes and answers the traffic relies on

    @property
    def size_option(self) -> str | None:
        """The generator's option for the size (None: not the generator's, one event)."""
        return generator.SCENARIOS[self.name][1] if self.name in generator.SCENARIOS else None

    def drill_events(self, source_address: str) -> tuple[str, str]:
        """The field and value the drill's security events carry: its account's name, else its address."""
        if self.alerts_per == ACCOUNT:
            return ACCOUNT, generator.drill_account(source_address)
        if self.alerts_per == TARGET:
            return TARGET, generator.drill_privilege_account(source_address)
        return SOURCE_IP, source_address

    def alert_id(self, source_address: str) -> str | None:
        """The id of the rule's alert for the drill's traffic; None when the rule has one alert for all, or one
        per event (its id holds the event's time: drill_alert tells it)."""
        return None if self.alerts_per in (None, TARGET) else self.drill_events(source_address)[1]

    def drill_alert(self, alert_ids: list[str], source_address: str) -> bool:
        """Whether the rule's alerts include the drill's own."""
        if self.alerts_per == TARGET:
            target = self.drill_events(source_address)[1]
            return any(target in alert_id.split(",") for alert_id in alert_ids)
        alert_id = self.alert_id(source_address)
        return alert_id in alert_ids if alert_id is not None else bool(alert_ids)

    def size(self, detections: Mapping[str, int], below_threshold: bool) -> int:
        if self.size_setting is None:
            if below_threshold:
                raise ValueError(f"{self.name} has no threshold to stay below: its rule fires on every event")
            return 1
        threshold = detections[self.size_setting]
        return threshold if below_threshold else threshold + 1


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario("brute-force", "brute-force-logins", "BRUTE_FORCE_FAILURES", alerts_per=SOURCE_IP, needs=LOGIN_FORM),
        # Counted by user name, so an app whose failed logins carry no address (the tutorial's) drills it too.
        Scenario("brute-force-account", "brute-force-account", "BRUTE_FORCE_FAILURES", alerts_per=ACCOUNT,
                 needs=f"{LOGIN_FORM}, and a record of each failed login with its user name"),
        Scenario("credential-stuffing", "credential-stuffing", "CREDENTIAL_STUFFING_USERS", alerts_per=SOURCE_IP,
                 needs=LOGIN_FORM),
        Scenario("brute-force-success", "brute-force-success", "BRUTE_FORCE_FAILURES", alerts_per=SOURCE_IP,
                 needs=f"{LOGIN_FORM}, and the user DEMO_USERNAME with the password DEMO_PASSWORD"),
        Scenario("suspicious", "suspicious-requests", "SUSPICIOUS_REQUESTS_THRESHOLD", alerts_per=SOURCE_IP,
                 needs="/healthz answering 200 and logging nothing of its own, Django's CSRF check on a POST to "
                       "/accounts/login/, and django_elk_logging's RequestIdMiddleware"),
        # Its records carry no client address and the rule counts them all (groupBy all).
        Scenario("error-burst", "error-burst", "ERROR_BURST_THRESHOLD", alerts_per=None,
                 needs="/boom/ answering 500 with one ERROR record"),
        # One change, no threshold; its events name the drill's user as their target (user.target.name).
        Scenario("privilege-gain", "privilege-gain", None, alerts_per=TARGET,
                 needs=f"{PRIVILEGE_COMMAND}, and django_elk_logging's account events"),
    )
}
