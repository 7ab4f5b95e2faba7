"""A bounded traffic generator: a realistic request mix against a running app."""

import os
import random
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError

from myapp.traffic import Session, TrafficError

USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "curl/8.10.1",
    "python-requests/2.32.3",
)
# (scenario, weight): mostly page views, with the errors and logins a real service sees.
SCENARIOS = (
    ("page_view", 50),
    ("not_found", 15),
    ("server_error", 5),
    ("login_logout", 15),
    ("failed_login", 15),
)


class Command(BaseCommand):
    help = "Send a bounded, realistic mix of requests: views, 404s, 500s, logins, 403s, logouts and failed logins."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000/", help="where the app listens")
        parser.add_argument("--requests", type=int, default=200, help="scenarios to run (1-100000)")
        parser.add_argument("--concurrency", type=int, default=4, help="parallel visitors (1-64)")
        parser.add_argument("--max-seconds", type=float, default=60.0, help="stop starting scenarios after this")
        # Defaults from the environment keep the password off the command line (and ps).
        parser.add_argument(
            "--username", default=os.environ.get("DEMO_USERNAME", ""), help="a real user (default: $DEMO_USERNAME)"
        )
        parser.add_argument(
            "--password", default=os.environ.get("DEMO_PASSWORD", ""), help="its password (default: $DEMO_PASSWORD)"
        )
        parser.add_argument("--seed", type=int, default=None, help="make the mix reproducible")

    def handle(self, *args, base_url, requests, concurrency, max_seconds, username, password, seed, **options):
        if not 1 <= requests <= 100_000:
            raise CommandError(f"--requests={requests} is out of range: expected 1 to 100000.")
        if not 1 <= concurrency <= 64:
            raise CommandError(f"--concurrency={concurrency} is out of range: expected 1 to 64.")
        if not 0 < max_seconds <= 3600:
            raise CommandError(f"--max-seconds={max_seconds} is out of range: expected more than 0, at most 3600.")
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise CommandError(f"--base-url={base_url!r} is not an http(s) URL.")
        base_url = base_url if base_url.endswith("/") else base_url + "/"

        rng = random.Random(seed)
        names = [name for name, _ in SCENARIOS]
        weights = [weight for _, weight in SCENARIOS]
        plan = rng.choices(names, weights, k=requests)
        if not (username and password):
            plan = ["failed_login" if name == "login_logout" else name for name in plan]
        deadline = time.monotonic() + max_seconds
        outcomes: Counter[str] = Counter()

        def run(index_and_name):
            index, name = index_and_name
            if time.monotonic() > deadline:
                return "skipped (time limit)"
            session = Session(base_url, USER_AGENTS[index % len(USER_AGENTS)], timeout=10)
            try:
                return f"{name} {self._run_scenario(session, name, index, username, password)}"
            except OSError as error:
                return f"{name} failed: {error}"

        try:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                for outcome in pool.map(run, enumerate(plan)):
                    outcomes[outcome] += 1
        except TrafficError as error:
            raise CommandError(str(error)) from None
        for outcome, count in sorted(outcomes.items()):
            self.stdout.write(f"{count:6d}  {outcome}")
        failures = sum(count for outcome, count in outcomes.items() if " failed: " in outcome)
        if failures == len(plan):
            raise CommandError(f"Every request to {base_url} failed: is the app running?")

    @staticmethod
    def _run_scenario(session: Session, name: str, index: int, username: str, password: str) -> str:
        if name == "page_view":
            return f"-> {session.request('/')[0]}"
        if name == "not_found":
            return f"-> {session.request(f'/missing/page-{index}/')[0]}"
        if name == "server_error":
            return f"-> {session.request('/boom/')[0]}"
        if name == "login_logout":
            # The demo user is not staff, so /restricted/ answers 403: a security event.
            login = session.login(username, password)
            forbidden = session.request("/restricted/")[0]
            return f"-> {login}, {forbidden}, {session.logout()}"
        return f"-> {session.login(f'intruder{index % 7}', 'wrong-password')}"
