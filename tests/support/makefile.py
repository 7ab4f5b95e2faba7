"""The targets `make help` lists, asked of make itself: the help target prints each rule's `## ` comment."""

import subprocess

from tests.support.paths import REPO_ROOT


def help_targets() -> list[str]:
    """The targets in the order `make help` lists them."""
    listed = subprocess.run(
        ["make", "--no-print-directory", "-s", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        timeout=60,
    ).stdout
    return [line.split()[0] for line in listed.splitlines() if line.strip()]
