"""Drill traffic: one attack scenario against the running sample app, for `make drill` to check the stack detects it.

    python -m myapp.drills <scenario> --base-url URL [--source-address IP] [--max-seconds S] [--timeout S] <size>

Standard library only (no Django), so it runs in the app container and on the host. Only loopback
is a target or a source. Each request is checked against the answer the app must give, and a
JSON summary goes to stdout: what was sent, and the security events and ERROR records the app
logs for it. Exit status: 0 sent as planned; 1 the app was unreachable or answered unexpectedly;
2 bad arguments or environment; 3 --max-seconds ran out (no request starts after it).
"""

import argparse
import http.client
import ipaddress
import json
import os
import sys
import time
import urllib.parse
from collections import Counter, defaultdict
from datetime import UTC, datetime

from myapp.traffic import Session, csrf_token

MAX_SIZE = 1000
MAX_SECONDS = 600.0
MAX_TIMEOUT_SECONDS = 60.0
LOGIN_PATH = "/accounts/login/"
# /healthz logs nothing of its own (views.py), so a bad header there is the request's only record.
QUIET_PATH = "/healthz"
BOOM_PATH = "/boom/"
BRUTE_FORCE_USERNAME = "drill-admin"
WRONG_PASSWORD = "drill-wrong-password"
# .invalid is reserved (RFC 2606), so no ALLOWED_HOSTS holds it.
DISALLOWED_HOST = "drill.invalid"
# Spaces: django_elk_logging/request_context.py's REQUEST_ID_PATTERN refuses it.
MALFORMED_REQUEST_ID = "drill malformed id"

EXIT_UNEXPECTED, EXIT_TIME_LIMIT = 1, 3  # argparse exits 2 for bad arguments


class DrillError(Exception):
    exit_status = EXIT_UNEXPECTED


class DrillTimeLimit(DrillError):
    exit_status = EXIT_TIME_LIMIT


class Drill:
    """Sends a scenario's requests through one Session, checks each answer and counts what the app logs for it."""

    def __init__(self, session: Session, max_seconds: float):
        self.session = session
        self.max_seconds = max_seconds
        self.deadline = time.monotonic() + max_seconds
        self.responses: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.security_events: Counter[str] = Counter()
        self.error_records = 0

    def send(self, expected_status: int, path: str, why: str, data: dict | None = None,
             headers: dict | None = None) -> str:
        """The page ``path`` answers with ``expected_status`` (the sample app's answer, ``why``); DrillError for any
        other answer or none, naming the URL, what it answered and what was expected."""
        method = "GET" if data is None else "POST"
        request = f"{method} {urllib.parse.urljoin(self.session.base_url, path)}"
        if time.monotonic() > self.deadline:
            raise DrillTimeLimit(
                f"--max-seconds={self.max_seconds:g} ran out after {self.sent()} requests; "
                "nothing more was sent (lower the size or raise --max-seconds)"
            )
        try:
            status, page = self.session.request(path, data, headers)
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)  # urllib's URLError wraps the socket's error
            raise DrillError(f"{request}: no answer: {reason}") from None
        self.responses[f"{method} {path}"][str(status)] += 1
        if status != expected_status:
            raise DrillError(f"{request} answered {status}, expected {expected_status} ({why})")
        return page

    def sent(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.responses.values())

    def login_form(self) -> str:
        page = self.send(200, LOGIN_PATH, why="the login form of Django's LoginView")
        return self._token(page, f"GET {urllib.parse.urljoin(self.session.base_url, LOGIN_PATH)}")

    def failed_login(self, token: str, username: str) -> str:
        """One failed login; the token of the form the app shows again."""
        form = {"csrfmiddlewaretoken": token, "username": username, "password": WRONG_PASSWORD}
        page = self.send(200, LOGIN_PATH, "a failed login shows the form again", form)
        self.security_events["user_login_failed"] += 1
        return self._token(page, f"POST {urllib.parse.urljoin(self.session.base_url, LOGIN_PATH)}")

    @staticmethod
    def _token(page: str, request: str) -> str:
        token = csrf_token(page)
        if token is None:
            raise DrillError(f"{request} answered a page without a login form's CSRF token (csrfmiddlewaretoken), "
                             "expected Django's LoginView form")
        return token


def _failed_logins(drill: Drill, username: str, failures: int) -> str:
    """``failures`` failed logins for one user name; the form's last CSRF token."""
    token = drill.login_form()
    for _ in range(failures):
        token = drill.failed_login(token, username)
    return token


def brute_force(drill: Drill, args) -> None:
    """N failed logins for one user name."""
    _failed_logins(drill, BRUTE_FORCE_USERNAME, args.failures)


def drill_account(source_address: str | None) -> str:
    """The source address's own user name: a new alert of the per-account rule for each live drill's address."""
    return "drill-account-" + (source_address or "any").replace(".", "-").replace(":", "-")


# The user the privilege-gain drill creates, promotes to staff and deletes (manage.py drill_privilege_gain):
# named after the source address like drill_account, so each live drill's alert names its own user.
PRIVILEGE_ACCOUNT_PREFIX = "drill-privilege-"


def drill_privilege_account(source_address: str | None) -> str:
    return PRIVILEGE_ACCOUNT_PREFIX + (source_address or "any").replace(".", "-").replace(":", "-")


def brute_force_account(drill: Drill, args) -> None:
    """N failed logins for that user name."""
    _failed_logins(drill, drill_account(args.source_address), args.failures)


def credential_stuffing(drill: Drill, args) -> None:
    """One failed login for each of K user names."""
    token = drill.login_form()
    for number in range(1, args.users + 1):
        token = drill.failed_login(token, f"drill-user-{number:04d}")


def brute_force_success(drill: Drill, args) -> None:
    """N failed logins for the demo user, then its real login."""
    token = _failed_logins(drill, args.demo_username, args.failures)
    form = {"csrfmiddlewaretoken": token, "username": args.demo_username, "password": args.demo_password}
    drill.send(302, LOGIN_PATH, f"the login as DEMO_USERNAME={args.demo_username!r} with DEMO_PASSWORD must succeed: "
                                "does that user exist in this app, with that password?", form)
    drill.security_events["user_logged_in"] += 1


def suspicious(drill: Drill, args) -> None:
    """N requests, each one suspicious security event, in turn: a bad Host, no CSRF cookie, a bad request id."""
    for index in range(args.requests):
        kind = index % 3
        if kind == 0:
            # Logged once, at ERROR with its traceback (django/core/handlers/exception.py, response_for_exception).
            drill.send(400, QUIET_PATH, "Django's DisallowedHost is a Bad Request", headers={"Host": DISALLOWED_HOST})
            drill.security_events["disallowed_host"] += 1
            drill.error_records += 1
        elif kind == 1:
            # This session never fetched a form, so it has no CSRF cookie (django/middleware/csrf.py).
            form = {"username": BRUTE_FORCE_USERNAME, "password": WRONG_PASSWORD}
            drill.send(403, LOGIN_PATH, "Django refuses a POST without a CSRF cookie", form)
            drill.security_events["csrf_failure"] += 1
        else:
            drill.send(200, QUIET_PATH, "the sample app's health check, which replaces a malformed X-Request-ID",
                       headers={"X-Request-ID": MALFORMED_REQUEST_ID})
            drill.security_events["malformed_request_id"] += 1


def error_burst(drill: Drill, args) -> None:
    """N requests to /boom/, each one ERROR record with its traceback."""
    for _ in range(args.requests):
        drill.send(500, BOOM_PATH, "the sample app's /boom/ fails on purpose")
        drill.error_records += 1


# scenario: (run, its size option, what the size counts)
SCENARIOS = {
    "brute-force": (brute_force, "failures", "failed logins for one user name"),
    "brute-force-account": (brute_force_account, "failures", "failed logins for a user name of the source address's own"),
    "credential-stuffing": (credential_stuffing, "users", "user names, one failed login each"),
    "brute-force-success": (brute_force_success, "failures", "failed logins for $DEMO_USERNAME before its login"),
    "suspicious": (suspicious, "requests", "requests, one suspicious security event each"),
    "error-burst": (error_burst, "requests", "requests to /boom/, one ERROR record each"),
}


def size(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= number <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"{number} is out of range: expected 1 to {MAX_SIZE}")
    return number


def seconds_up_to(limit: float):
    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not 0 < number <= limit:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text} is out of range: expected more than 0, at most {limit:g}")
        return number

    return parse


def loopback_base_url(text: str) -> str:
    """``http://host[:port]/`` with a loopback host; returned with its trailing slash."""
    url = urllib.parse.urlsplit(text)
    if url.scheme != "http" or not url.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// URL (the app serves plain HTTP on loopback)")
    if url.username is not None or url.query or url.fragment or url.path not in ("", "/"):
        raise argparse.ArgumentTypeError(f"{text!r} must be only http://host[:port]/, with no path, query or user")
    try:
        url.port  # noqa: B018 (raises on a bad port)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} has a bad port: {error}") from None
    if url.hostname != "localhost" and not _is_loopback(url.hostname):
        raise argparse.ArgumentTypeError(f"{text!r} is not on loopback: only localhost, 127.0.0.0/8 and ::1 are drilled")
    return f"http://{url.netloc}/"


def loopback_address(text: str) -> str:
    if not _is_loopback(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a loopback address (127.0.0.0/8 or ::1)")
    return str(ipaddress.ip_address(text))


def _is_loopback(text: str | None) -> bool:
    try:
        return ipaddress.ip_address(text or "").is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", type=loopback_base_url, required=True, help="the app, e.g. http://127.0.0.1:8000/")
    common.add_argument(
        "--source-address", type=loopback_address, default=None,
        help="the client address every connection binds to, e.g. 127.23.4.5 (default: the system's choice)",
    )
    common.add_argument(
        "--max-seconds", type=seconds_up_to(MAX_SECONDS), default=60.0,
        help=f"no request starts after this (default 60, at most {MAX_SECONDS:g})",
    )
    common.add_argument(
        "--timeout", type=seconds_up_to(MAX_TIMEOUT_SECONDS), default=10.0,
        help=f"seconds to wait for each answer (default 10, at most {MAX_TIMEOUT_SECONDS:g})",
    )
    parser = argparse.ArgumentParser(prog="python -m myapp.drills", description=__doc__.split("\n\n")[0])
    scenarios = parser.add_subparsers(dest="scenario", required=True, metavar="scenario")
    for name, (_, size_option, counts) in SCENARIOS.items():
        scenario = scenarios.add_parser(name, parents=[common], help=counts)
        scenario.add_argument(f"--{size_option}", type=size, required=True, help=f"{counts} (1 to {MAX_SIZE})")
    return parser


def parse_arguments(argv: list[str] | None, environ) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    host = urllib.parse.urlsplit(args.base_url).hostname
    if args.source_address is not None and _is_loopback(host):
        if ipaddress.ip_address(host).version != ipaddress.ip_address(args.source_address).version:
            parser.error(f"--source-address {args.source_address} cannot reach {host}: not the same IP version")
    if args.scenario == "brute-force-success":
        # From the environment, so the password is on no command line (nor in ps).
        args.demo_username, args.demo_password = environ.get("DEMO_USERNAME", ""), environ.get("DEMO_PASSWORD", "")
        unset = [name for name in ("DEMO_USERNAME", "DEMO_PASSWORD") if not environ.get(name)]
        if unset:
            parser.error(f"brute-force-success logs in as the demo user: set {' and '.join(unset)} in the environment")
    return args


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv, os.environ)
    run, size_option, _ = SCENARIOS[args.scenario]
    session = Session(args.base_url, f"elk-drill/{args.scenario}", args.timeout, args.source_address)
    drill = Drill(session, args.max_seconds)
    started_at = utc_now()
    try:
        run(drill, args)
    except DrillError as error:
        print(f"drill {args.scenario}: {error}", file=sys.stderr)
        return error.exit_status
    summary = {
        "scenario": args.scenario,
        "base_url": args.base_url,
        "source_address": args.source_address,
        "size": {size_option: getattr(args, size_option)},
        "requests": drill.sent(),
        "responses": {request: dict(statuses) for request, statuses in drill.responses.items()},
        "expected_security_events": dict(drill.security_events),
        "expected_error_records": drill.error_records,
        "started_at": started_at,
        "ended_at": utc_now(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
