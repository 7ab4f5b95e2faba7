"""The drill scenarios: the rule each proves and how much traffic it sends.

Each sends one more than its rule's threshold (or, below the threshold, exactly the threshold), from
one source address (and, for a per-account rule, for a user name of that address's own), so the rule
fires (or would not) on the drill's traffic alone. The traffic
itself, and what the app logs for it, is the generator's (app/myapp/drills.py).
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


@dataclass(frozen=True)
class Scenario:
    name: str
    rule: str  # the rule it proves: kibana/rules/<rule>.json
    size_setting: str  # the detection setting its traffic exceeds by one
    alerts_per: str | None  # SOURCE_IP, ACCOUNT, or None: one alert for all matching records
    needs: str  # the app's routes and answers the traffic relies on

    @property
    def size_option(self) -> str:
        """The generator's option for the size."""
        return generator.SCENARIOS[self.name][1]

    def drill_events(self, source_address: str) -> tuple[str, str]:
        """The field and value the drill's security events carry: its account's name, else its address."""
        if self.alerts_per == ACCOUNT:
            return ACCOUNT, generator.drill_account(source_address)
        return SOURCE_IP, source_address

    def alert_id(self, source_address: str) -> str | None:
        """The id of the rule's alert for the drill's traffic; None when the rule has one alert for all."""
        return None if self.alerts_per is None else self.drill_events(source_address)[1]

    def size(self, detections: Mapping[str, int], below_threshold: bool) -> int:
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
    )
}
