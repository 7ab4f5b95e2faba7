"""The two loops every step is built from: "read, compare, write, report" and "wait until ready"."""

from __future__ import annotations

import time
from collections.abc import Callable

from provision.errors import ProvisionError
from provision.output import report, say
from provision.settings import Settings


def sync[Current](
    step: str,
    read: Callable[[], Current | None],
    matches: Callable[[Current], bool],
    write: Callable[[Current | None], str | None],
) -> Current | None:
    """Read what the server holds (None: nothing yet); when it does not match, write.

    Reports the step unchanged, or what ``write`` returns, by default created (nothing was
    there) or updated. ``matches`` may raise when what is there cannot be updated. Returns what
    was read when it matched (nothing written), else None.
    """
    current = read()
    if current is not None and matches(current):
        report(step, "unchanged")
        return current
    outcome = write(current)
    report(step, outcome or ("created" if current is None else "updated"))
    return None


def poll_until_ready(
    name: str, settings: Settings, attempt: Callable[[float], str | None], give_up: Callable[[str], str]
) -> None:
    """Call ``attempt(request_timeout)`` until it returns None or SETUP_TIMEOUT_SECONDS pass.

    ``attempt`` returns why the service is not ready yet; each new reason is said once.
    """
    deadline = time.monotonic() + settings.timeout_seconds
    last = "no answer yet"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProvisionError(give_up(last))
        reason = attempt(min(settings.request_timeout_seconds, remaining))
        if reason is None:
            return
        if reason != last:
            say(f"waiting for {name}: {reason}")
            last = reason
        time.sleep(max(0.0, min(settings.retry_interval_seconds, deadline - time.monotonic())))

