"""The five drill scenarios: the rule each proves and how much traffic it sends.

Each sends one more than its rule's threshold (or, below the threshold, exactly the threshold), from
one source address, so the rule fires (or would not) on the drill's traffic alone. The traffic
itself, and what the app logs for it, is the generator's (app/myapp/drills.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The traffic generator's bound on any size (app/myapp/drills.py MAX_SIZE).
MAX_SIZE = 1000


@dataclass(frozen=True)
class Scenario:
    name: str
    rule: str  # the rule it proves: kibana/rules/<rule>.json
    size_setting: str  # the detection setting its traffic exceeds by one
    size_option: str  # the generator's option for that size
    per_source_ip: bool  # the rule's alerts are per source.ip, so its alert id is the drill's address

    def size(self, detections: Mapping[str, int], below_threshold: bool) -> int:
        threshold = detections[self.size_setting]
        return threshold if below_threshold else threshold + 1


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario("brute-force", "brute-force-logins", "BRUTE_FORCE_FAILURES", "failures", per_source_ip=True),
        Scenario("credential-stuffing", "credential-stuffing", "CREDENTIAL_STUFFING_USERS", "users", per_source_ip=True),
        Scenario("brute-force-success", "brute-force-success", "BRUTE_FORCE_FAILURES", "failures", per_source_ip=True),
        Scenario("suspicious", "suspicious-requests", "SUSPICIOUS_REQUESTS_THRESHOLD", "requests", per_source_ip=True),
        # Its records carry no client address and the rule counts them all (groupBy all).
        Scenario("error-burst", "error-burst", "ERROR_BURST_THRESHOLD", "requests", per_source_ip=False),
    )
}
