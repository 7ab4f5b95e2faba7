"""Why the check cannot run."""


class CannotRun(Exception):
    """The check cannot run (exit 2): the message says why, in one line."""
