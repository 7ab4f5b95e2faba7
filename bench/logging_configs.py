"""The logging configurations bench/request_overhead.py compares, each one a LOGGING dict for the sample app.

Each is served by a settings module under bench/configs/ that imports config.settings and replaces only
LOGGING, so the app, its middleware and its view are the same in every configuration.
"""

import copy
import logging
from pathlib import Path

# Above CRITICAL: no record is ever created.
SILENT = logging.CRITICAL + 1
STDLIB_VERBOSE = {"format": "{levelname} {asctime} {module} {message}", "style": "{"}


def logging_off() -> dict:
    """Every logger the app or Django writes to above CRITICAL, with no handler."""
    silent = {"level": SILENT, "handlers": [], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {name: dict(silent) for name in ("django", "myapp", "security", "py.warnings")},
        "root": {"level": SILENT, "handlers": []},
    }


def bare_minimum(log_dir: Path) -> dict:
    """The view's two records to one file through logging.FileHandler, nothing else."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"verbose": STDLIB_VERBOSE},
        "handlers": {"file": {"class": "logging.FileHandler", "filename": str(log_dir / "bare.log"), "formatter": "verbose"}},
        "loggers": {"myapp": {"handlers": ["file"], "level": "INFO", "propagate": False}},
    }


def tutorial(log_dir: Path) -> dict:
    """The logging tutorial's LOGGING: plain stdlib formatters, a file and the console.

    A copy of tests/tutorial_project/tutorial_site/settings.py's: that module reads its TUTORIAL_* variables
    when imported, and bench/ does not import tests/.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"verbose": STDLIB_VERBOSE, "simple": {"format": "{levelname} {message}", "style": "{"}},
        "handlers": {
            "file": {
                "level": "DEBUG",
                "class": "logging.FileHandler",
                "filename": str(log_dir / "django_debug.log"),
                "formatter": "verbose",
            },
            "console": {"level": "INFO", "class": "logging.StreamHandler", "formatter": "simple"},
        },
        "loggers": {
            "django": {"handlers": ["file", "console"], "level": "DEBUG", "propagate": True},
            "myapp": {"handlers": ["file", "console"], "level": "INFO", "propagate": False},
            "security": {"handlers": ["file", "console"], "level": "INFO", "propagate": False},
        },
    }


def without_console(production: dict) -> dict:
    """The production LOGGING with its console handler removed from every logger."""
    logging_dict = copy.deepcopy(production)
    logging_dict["handlers"].pop("console")
    for logger in [*logging_dict["loggers"].values(), logging_dict["root"]]:
        if "handlers" in logger:
            logger["handlers"] = [name for name in logger["handlers"] if name != "console"]
    return logging_dict


def queued(production: dict) -> dict:
    """The production LOGGING with each handler behind bench.queued_logging.QueuedHandler; filters, level and
    formatter stay on the queued handler, so they run in the request's thread."""
    logging_dict = copy.deepcopy(production)
    for name, handler in logging_dict["handlers"].items():
        options = {key: value for key, value in handler.items() if key not in ("class", "filters", "level", "formatter")}
        wrapped = {"()": "bench.queued_logging.QueuedHandler", "handler_class": handler["class"], **options}
        wrapped.update({key: handler[key] for key in ("filters", "level", "formatter") if key in handler})
        logging_dict["handlers"][name] = wrapped
    return logging_dict
