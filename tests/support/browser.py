"""Which Chromium the browser tests drive, and how it is started here.

CHROMIUM_PATH wins; else Debian's /usr/bin/chromium; else Playwright's own
browser (``playwright install`` cannot download on the project's machines).
"""

import os
from pathlib import Path
from typing import NoReturn

import pytest

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (root in CI), and no background traffic to hosts this network cannot reach.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_executable() -> str | None:
    """The browser to drive; None means Playwright's bundled one."""
    configured = os.environ.get("CHROMIUM_PATH", "").strip()
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(f"CHROMIUM_PATH={configured!r} is not an executable file: point it at a Chromium binary.")
        return configured
    return str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None


def launch_failure_reason(executable: str | None, error: Exception) -> str:
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    browser = executable or "Playwright's bundled Chromium"
    return f"cannot launch {browser} ({first_line}): apt-get install chromium or set CHROMIUM_PATH"


def cannot_launch(executable: str | None, error: Exception, required: bool = False) -> NoReturn:
    """Skip a test whose browser does not start; fail it under CI=true (.ci/run installs Chromium) or when required."""
    reason = launch_failure_reason(executable, error)
    if required or os.environ.get("CI") == "true":
        pytest.fail(f"the browser must run here, but {reason}")
    pytest.skip(reason)
