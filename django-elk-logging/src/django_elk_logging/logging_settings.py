"""The parts of a LOGGING dict that switch the package on, defined once for every project that uses it.

    LOGGING["filters"] = LOG_FILTERS
    LOGGING["handlers"]["file"] = log_file_handler(LOG_DIR / "django_debug.log", NOT_SECURITY)

Dotted paths only (dictConfig imports them), so this module imports nothing.
"""

SECURITY_ONLY = "security_only"
NOT_SECURITY = "not_security"
REQUEST_CONTEXT = "request_context"

LOG_FILTERS = {
    REQUEST_CONTEXT: {"()": "django_elk_logging.log_filters.RequestContextFilter"},
    SECURITY_ONLY: {"()": "django_elk_logging.log_filters.SecurityRoute", "security": True},
    NOT_SECURITY: {"()": "django_elk_logging.log_filters.SecurityRoute", "security": False},
}


def log_file_handler(filename, route: str, formatter: str = "verbose") -> dict:
    """The records ``route`` (SECURITY_ONLY or NOT_SECURITY) lets through, appended to ``filename``."""
    if route not in (SECURITY_ONLY, NOT_SECURITY):
        raise ValueError(f"route must be {SECURITY_ONLY!r} or {NOT_SECURITY!r}, not {route!r}")
    return {
        "class": "django_elk_logging.log_lines.AppendOnlyFileHandler",
        "filename": str(filename),
        "encoding": "utf-8",
        "formatter": formatter,
        "filters": [route, REQUEST_CONTEXT],
    }
