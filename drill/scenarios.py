"""The five drill scenarios: the rule each proves and how much traffic it sends.

Each sends one more than its rule's threshold (or, below the threshold, exactly the threshold), from
one source address, so the rule fires (or would not) on the drill's traffic alone. The traffic
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


@dataclass(frozen=True)
class Scenario:
    name: str
    rule: str  # the rule it proves: kibana/rules/<rule>.json
    size_setting: str  # the detection setting its traffic exceeds by one
    per_source_ip: bool  # the rule's alerts are per source.ip, so its alert id is the drill's address
    needs: str  # the app's routes and answers the traffic relies on

    @property
    def size_option(self) -> str:
        """The generator's option for the size."""
        return generator.SCENARIOS[self.name][1]

    def size(self, detections: Mapping[str, int], below_threshold: bool) -> int:
        threshold = detections[self.size_setting]
        return threshold if below_threshold else threshold + 1


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario("brute-force", "brute-force-logins", "BRUTE_FORCE_FAILURES", per_source_ip=True, needs=LOGIN_FORM),
        Scenario("credential-stuffing", "credential-stuffing", "CREDENTIAL_STUFFING_USERS", per_source_ip=True,
                 needs=LOGIN_FORM),
        Scenario("brute-force-success", "brute-force-success", "BRUTE_FORCE_FAILURES", per_source_ip=True,
                 needs=f"{LOGIN_FORM}, and the user DEMO_USERNAME with the password DEMO_PASSWORD"),
        Scenario("suspicious", "suspicious-requests", "SUSPICIOUS_REQUESTS_THRESHOLD", per_source_ip=True,
                 needs="/healthz answering 200 and logging nothing of its own, Django's CSRF check on a POST to "
                       "/accounts/login/, and django_elk_logging's RequestIdMiddleware"),
        # Its records carry no client address and the rule counts them all (groupBy all).
        Scenario("error-burst", "error-burst", "ERROR_BURST_THRESHOLD", per_source_ip=False,
                 needs="/boom/ answering 500 with one ERROR record"),
    )
}
