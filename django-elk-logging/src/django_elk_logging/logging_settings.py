"""The parts of a LOGGING dict that switch the package on, defined once for every project that uses it.

The first way, which keeps Django's defaults and the project's own handlers and loggers:

    LOGGING = elk_logging(BASE_DIR / "logs", LOGGING)  # or elk_logging(BASE_DIR / "logs")

The pieces, for a LOGGING written by hand (the sample app's, app/config/settings.py):

    LOGGING["filters"] = LOG_FILTERS
    LOGGING["handlers"]["file"] = log_file_handler(LOG_DIR / "django_debug.log", NOT_SECURITY)

Dotted paths only (dictConfig imports them), so importing this module imports nothing
outside the standard library; elk_logging() reads Django's defaults when it is called.
"""

import copy
import os
from pathlib import Path

# Set during test runs: the package's files go to this folder instead of the one LOGGING names,
# so a project's tests never write into the folder Logstash reads (pytest_plugin.py sets it).
TEST_DIR_VARIABLE = "DJANGO_ELK_LOGGING_TEST_DIR"

SECURITY_ONLY = "security_only"
NOT_SECURITY = "not_security"
REQUEST_CONTEXT = "request_context"

LOG_FILTERS = {
    REQUEST_CONTEXT: {"()": "django_elk_logging.log_filters.RequestContextFilter"},
    SECURITY_ONLY: {"()": "django_elk_logging.log_filters.SecurityRoute", "security": True},
    NOT_SECURITY: {"()": "django_elk_logging.log_filters.SecurityRoute", "security": False},
}

# The file names the stack's Logstash pipeline reads (logstash/pipeline/django.conf).
APP_LOG = "django_debug.log"
SECURITY_LOG = "security.log"
ACCESS_LOG = "access.log"
# The logger of access lines written by the ASGI middleware (asgi.py) and routed by gunicorn.log_config_dict().
ACCESS_LOGGER = "django_elk_logging.access"
# What elk_logging() adds, under names no project uses by chance.
LINE_FORMATTER = "django_elk_logging.line"
ACCESS_FORMATTER = "django_elk_logging.access_line"
APP_HANDLER = "django_elk_logging.file"
SECURITY_HANDLER = "django_elk_logging.security_file"
ACCESS_HANDLER = "django_elk_logging.access_file"
# runserver's request lines stay on the console only: the access log is the server's (gunicorn, asgi.py).
_CONSOLE_ONLY_LOGGERS = ("django.server",)


def log_file(filename) -> str:
    """``filename``, or its name in the folder TEST_DIR_VARIABLE names during a test run."""
    test_dir = os.environ.get(TEST_DIR_VARIABLE, "").strip()
    return os.path.join(test_dir, os.path.basename(filename)) if test_dir else str(filename)


def log_file_handler(filename, route: str, formatter: str = "verbose") -> dict:
    """The records ``route`` (SECURITY_ONLY or NOT_SECURITY) lets through, appended to ``filename``."""
    if route not in (SECURITY_ONLY, NOT_SECURITY):
        raise ValueError(f"route must be {SECURITY_ONLY!r} or {NOT_SECURITY!r}, not {route!r}")
    return {
        "class": "django_elk_logging.log_lines.AppendOnlyFileHandler",
        "filename": log_file(filename),
        "encoding": "utf-8",
        "formatter": formatter,
        "filters": [route, REQUEST_CONTEXT],
    }


def access_file_handler(filename, formatter: str) -> dict:
    """Access lines appended to ``filename``, opened at the first line (a process that writes none never opens it)."""
    return {
        "class": "django_elk_logging.log_lines.AppendOnlyFileHandler",
        "filename": log_file(filename),
        "encoding": "utf-8",
        "delay": True,
        "formatter": formatter,
    }


def _writable_folder(log_dir) -> Path:
    from django.core.exceptions import ImproperlyConfigured

    folder = Path(log_file(Path(log_dir) / APP_LOG)).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(f"elk_logging: the log folder {str(folder)!r} cannot be created: {error.strerror}.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImproperlyConfigured(f"elk_logging: the log folder {str(folder)!r} is not writable by uid {os.getuid()}.")
    return folder


def _ours(folder: Path) -> dict:
    return {
        "formatters": {
            LINE_FORMATTER: {
                "()": "django_elk_logging.log_lines.SafeFormatter",
                "format": "{levelname} {asctime} {module} {message}",
                "style": "{",
            },
            ACCESS_FORMATTER: {"format": "%(message)s"},
        },
        "filters": LOG_FILTERS,
        "handlers": {
            APP_HANDLER: log_file_handler(folder / APP_LOG, NOT_SECURITY, LINE_FORMATTER),
            SECURITY_HANDLER: log_file_handler(folder / SECURITY_LOG, SECURITY_ONLY, LINE_FORMATTER),
            ACCESS_HANDLER: access_file_handler(folder / ACCESS_LOG, ACCESS_FORMATTER),
        },
    }


def elk_logging(log_dir, project_logging: dict | None = None, *, root_level: str = "INFO") -> dict:
    """A LOGGING dict: Django's defaults, then ``project_logging`` over them, plus the package's files.

    Kept: Django's default handlers and loggers (``mail_admins`` for errors, the console in
    development, runserver's lines) unless the project redefines them, and every formatter,
    filter, handler and logger of the project's. Added: ``django_debug.log`` and ``security.log``
    in ``log_dir``, routed by the package's filters, on the root logger (so any
    ``getLogger(__name__)`` reaches them) and on every logger that does not propagate; the
    ``security`` logger at INFO; the ASGI access lines (asgi.py) to ``access.log``. The root
    logger keeps the project's level, else ``root_level``.
    Raises ValueError when the project's LOGGING cannot be merged (another schema version,
    ``incremental``, a name of ours with another definition, a handler already writing one of
    our files) and ImproperlyConfigured when ``log_dir`` cannot be written.
    """
    from django.utils.log import DEFAULT_LOGGING

    project = copy.deepcopy(project_logging) if project_logging is not None else {}
    if project.get("version", 1) != 1:
        raise ValueError(f"elk_logging: LOGGING version {project.get('version')!r} is not 1, the only dictConfig schema")
    if project.get("incremental"):
        raise ValueError("elk_logging: an incremental LOGGING only changes levels; merge into a complete one")
    folder = _writable_folder(log_dir)
    ours = _ours(folder)
    merged = {
        "version": 1,
        # dictConfig's default is True; Django's own default LOGGING says False.
        "disable_existing_loggers": project.get("disable_existing_loggers", True) if project_logging is not None else False,
    }
    for section in ("formatters", "filters", "handlers"):
        merged[section] = {**copy.deepcopy(DEFAULT_LOGGING[section]), **project.get(section, {})}
        for name, definition in ours[section].items():
            if name in merged[section] and merged[section][name] != definition:
                raise ValueError(f"elk_logging: LOGGING {section} already defines {name!r} otherwise; rename yours")
            merged[section][name] = definition
    _refuse_handlers_writing_our_files(project.get("handlers", {}), Path(log_dir))
    access_logger = {"handlers": [ACCESS_HANDLER], "level": "INFO", "propagate": False}
    loggers = {**copy.deepcopy(DEFAULT_LOGGING["loggers"]), **project.get("loggers", {})}
    if loggers.setdefault(ACCESS_LOGGER, access_logger) != access_logger:
        raise ValueError(f"elk_logging: LOGGING configures the logger {ACCESS_LOGGER!r}, which the package routes")
    files = [APP_HANDLER, SECURITY_HANDLER]
    for name, logger in loggers.items():
        if not logger.get("propagate", True) and name not in (ACCESS_LOGGER, *_CONSOLE_ONLY_LOGGERS):
            logger["handlers"] = _with(logger.get("handlers", []), files)
    loggers.setdefault("security", {"level": "INFO"})
    merged["loggers"] = loggers
    root = project.get("root", {})
    merged["root"] = {**root, "level": root.get("level", root_level), "handlers": _with(root.get("handlers", []), files)}
    return merged


def _with(handlers: list, added: list) -> list:
    """``handlers`` and then those of ``added`` it lacks (so merging twice adds nothing)."""
    return [*handlers, *(name for name in added if name not in handlers)]


def _refuse_handlers_writing_our_files(handlers: dict, log_dir: Path) -> None:
    ours = {os.path.realpath(log_dir / name) for name in (APP_LOG, SECURITY_LOG, ACCESS_LOG)}
    for name, definition in handlers.items():
        filename = definition.get("filename") if isinstance(definition, dict) else None
        if filename is not None and os.path.realpath(filename) in ours and name not in (APP_HANDLER, SECURITY_HANDLER, ACCESS_HANDLER):
            raise ValueError(
                f"elk_logging: LOGGING handler {name!r} already writes {filename}, one of the package's files; "
                "remove that handler, or give elk_logging another folder"
            )
