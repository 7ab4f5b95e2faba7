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

# The loggers whose records, and their children's, are security events (log_filters.is_security_record also
# takes django.request's 403s): the package's "security" and Django's "django.security.*".
SECURITY_LOGGERS = ("security", "django.security")
_SECURITY_CHILDREN = tuple(f"{logger}." for logger in SECURITY_LOGGERS)


def in_security_loggers(name: str) -> bool:
    # Asked of every record (log_filters): the prefixes are built once.
    return name in SECURITY_LOGGERS or name.startswith(_SECURITY_CHILDREN)


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
# Django's default formatters, filters and handlers, renamed so a project's of the same name is another one.
_DEFAULTS_PREFIX = "django_defaults."


def log_folder(folder) -> Path:
    """``folder``, or the folder TEST_DIR_VARIABLE names during a test run."""
    test_dir = os.environ.get(TEST_DIR_VARIABLE, "").strip()
    return Path(test_dir or folder)


def log_file(filename) -> str:
    """``filename``, or its name in the folder TEST_DIR_VARIABLE names during a test run."""
    return str(log_folder(os.path.dirname(filename)) / os.path.basename(filename))


def log_file_handler(filename, route: str, formatter: str = "verbose") -> dict:
    """The records ``route`` (SECURITY_ONLY or NOT_SECURITY) lets through, appended to ``filename``."""
    if route not in (SECURITY_ONLY, NOT_SECURITY):
        raise ValueError(f"route must be {SECURITY_ONLY!r} or {NOT_SECURITY!r}, not {route!r}")
    return {
        "class": "django_elk_logging.log_files.AppendOnlyFileHandler",
        "filename": log_file(filename),
        "encoding": "utf-8",
        "formatter": formatter,
        "filters": [route, REQUEST_CONTEXT],
    }


def access_file_handler(filename, formatter: str) -> dict:
    """Access lines appended to ``filename``, opened at the first line (a process that writes none never opens it)."""
    return {
        "class": "django_elk_logging.log_files.AppendOnlyFileHandler",
        "filename": log_file(filename),
        "encoding": "utf-8",
        "delay": True,
        "formatter": formatter,
    }


def security_file_handler(filename, formatter: str) -> dict:
    """The records of a logger that logs only security events (gunicorn_events.SECURITY_LOGGER), appended to
    ``filename`` in a process that may not load Django (gunicorn's arbiter): with no route filter, as
    log_filters loads Django, and, like the access file, opened at the first record."""
    return access_file_handler(filename, formatter)


def line_formatter() -> dict:
    """The package's line (log_lines.py): level, time, module, the record's context, its escaped message."""
    return {
        "()": "django_elk_logging.log_lines.SafeFormatter",
        "format": "{levelname} {asctime} {module} {message}",
        "style": "{",
    }


def writable_log_folder(folder, name: str) -> Path:
    """``folder``, created if missing; ImproperlyConfigured naming ``name`` (the setting) when it cannot be
    created or written."""
    from django.core.exceptions import ImproperlyConfigured

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(f"{name}={str(folder)!r} cannot be created: {error.strerror}.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImproperlyConfigured(f"{name}={str(folder)!r} is not writable by this user (uid {os.getuid()}).")
    return folder


def _ours(folder: Path, level: str) -> dict:
    return {
        "formatters": {
            LINE_FORMATTER: line_formatter(),
            ACCESS_FORMATTER: {"format": "%(message)s"},
        },
        "filters": LOG_FILTERS,
        "handlers": {
            APP_HANDLER: {**log_file_handler(folder / APP_LOG, NOT_SECURITY, LINE_FORMATTER), "level": level},
            SECURITY_HANDLER: {**log_file_handler(folder / SECURITY_LOG, SECURITY_ONLY, LINE_FORMATTER), "level": level},
            ACCESS_HANDLER: access_file_handler(folder / ACCESS_LOG, ACCESS_FORMATTER),
        },
    }


def elk_logging(log_dir, project_logging: dict | None = None, *, level: str = "INFO", root_level: str = "INFO") -> dict:
    """A LOGGING dict: Django's defaults, then ``project_logging`` over them, plus the package's files.

    Kept: Django's default handlers and loggers (``mail_admins`` for errors, the console in
    development, runserver's lines), under names of their own so that a project's handler of the
    same name does not replace them, unless the project configures those loggers itself; and every
    formatter, filter, handler and logger of the project's. Added: ``django_debug.log`` and
    ``security.log`` in ``log_dir`` (records at ``level`` and above: Django's SQL queries, at DEBUG,
    stay out), routed by the package's filters, on the root logger and on the loggers that do not
    propagate, except those the project silenced (no handler, or NullHandlers only) that are not
    security loggers; the ``security`` logger at INFO; the ASGI access lines (asgi.py) to
    ``access.log``. The root logger keeps the project's configuration (and Python's WARNING when it
    names no level), else gets ``root_level``. ``disable_existing_loggers`` is False unless the
    project says True: it would switch off the loggers gunicorn and uvicorn set up before Django.
    Raises ValueError when the project's LOGGING cannot be merged (another schema version,
    ``incremental``, a name of ours with another definition, a handler already writing one of our
    files) and ImproperlyConfigured when ``log_dir`` cannot be written.
    """
    from django.utils.log import DEFAULT_LOGGING

    project = copy.deepcopy(project_logging) if project_logging is not None else {}
    if project.get("version", 1) != 1:
        raise ValueError(f"elk_logging: LOGGING version {project.get('version')!r} is not 1, the only dictConfig schema")
    if project.get("incremental"):
        raise ValueError("elk_logging: an incremental LOGGING only changes levels; merge into a complete one")
    folder = log_folder(log_dir)
    _refuse_handlers_writing_our_files(project.get("handlers", {}), folder)
    ours = _ours(writable_log_folder(folder, "elk_logging log_dir"), level)
    defaults = _django_defaults(DEFAULT_LOGGING)
    merged = {"version": 1, "disable_existing_loggers": project.get("disable_existing_loggers", False)}
    for section in ("formatters", "filters", "handlers"):
        merged[section] = {**defaults[section], **project.get(section, {})}
        for name, definition in ours[section].items():
            if merged[section].setdefault(name, definition) != definition:
                raise ValueError(f"elk_logging: LOGGING {section} already defines {name!r} otherwise; rename yours")
    project_loggers = dict(project.get("loggers", {}))
    configures_root = "root" in project or "" in project_loggers
    # dictConfig configures the logger "" as the root (logging.getLogger("")); the root key wins over it.
    root = {**project_loggers.pop("", {}), **project.get("root", {})}
    loggers = {**defaults["loggers"], **project_loggers}
    access_logger = {"handlers": [ACCESS_HANDLER], "level": "INFO", "propagate": False}
    if loggers.setdefault(ACCESS_LOGGER, access_logger) != access_logger:
        raise ValueError(f"elk_logging: LOGGING configures the logger {ACCESS_LOGGER!r}, which the package routes")
    files = [APP_HANDLER, SECURITY_HANDLER]
    for name, logger in loggers.items():
        if not logger.get("propagate", True) and name not in (ACCESS_LOGGER, *_CONSOLE_ONLY_LOGGERS):
            if _is_security_logger(name) or not _silenced(logger, merged["handlers"]):
                logger["handlers"] = _with(logger.get("handlers", []), files)
    loggers.setdefault("security", {"level": "INFO"})
    merged["loggers"] = loggers
    merged["root"] = {**root, "handlers": _with(root.get("handlers", []), files)}
    if not configures_root:
        merged["root"]["level"] = root_level
    return merged


def _django_defaults(default_logging: dict) -> dict:
    """Django's DEFAULT_LOGGING with each formatter, filter and handler renamed "django_defaults.<name>"."""
    renamed = {section: {f"{_DEFAULTS_PREFIX}{name}": copy.deepcopy(definition)
                         for name, definition in default_logging[section].items()}
               for section in ("formatters", "filters", "handlers")}
    for handler in renamed["handlers"].values():
        if "formatter" in handler:
            handler["formatter"] = _DEFAULTS_PREFIX + handler["formatter"]
        handler["filters"] = [_DEFAULTS_PREFIX + name for name in handler.get("filters", [])]
    renamed["loggers"] = {name: {**copy.deepcopy(logger), "handlers": [_DEFAULTS_PREFIX + h for h in logger["handlers"]]}
                          for name, logger in default_logging["loggers"].items()}
    return renamed


def _is_security_logger(name: str) -> bool:
    """The loggers security events come from (log_filters.is_security_record), and the parent "django"."""
    return name in ("django", "django.request") or in_security_loggers(name)


def _silenced(logger: dict, handlers: dict) -> bool:
    names = logger.get("handlers", [])
    return all(handlers.get(name, {}).get("class") == "logging.NullHandler" for name in names)


def _with(handlers: list, added: list) -> list:
    """``handlers`` and then those of ``added`` it lacks (so merging twice adds nothing)."""
    return [*handlers, *(name for name in added if name not in handlers)]


def _refuse_handlers_writing_our_files(handlers: dict, folder: Path) -> None:
    """``folder`` is where the package's files go (log_folder): a project handler made with log_file
    is moved there too during a test run."""
    ours = {os.path.realpath(folder / name) for name in (APP_LOG, SECURITY_LOG, ACCESS_LOG)}
    for name, definition in handlers.items():
        filename = definition.get("filename") if isinstance(definition, dict) else None
        if filename is not None and os.path.realpath(filename) in ours and name not in (APP_HANDLER, SECURITY_HANDLER, ACCESS_HANDLER):
            raise ValueError(
                f"elk_logging: LOGGING handler {name!r} already writes {filename}, one of the package's files; "
                "remove that handler, or give elk_logging another folder"
            )
