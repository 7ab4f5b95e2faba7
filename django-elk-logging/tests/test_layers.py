"""The package's layers point down: the line format loads only the standard library, the access log no Django.

escaping, identity, security_events, redaction -> log_files, log_lines, denylist, proxies, logging_settings, access_lines
and asgi (standard library only) -> gunicorn_events, gunicorn (gunicorn) and request_context, log_filters (Django) ->
ip_blocking, signals, committed, account_changes, membership_changes, admin_actions, password_events, auth_events
(security events), checks, apps. Each check runs in a fresh interpreter, so nothing another test imported counts.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
# Prints the top-level modules outside the standard library that running argv[1] loaded.
LOADED_PACKAGES = (
    "import json, sys\n"
    "before = set(sys.modules)\n"
    "exec(sys.argv[1], {'__name__': 'layer_check'})\n"
    "loaded = {name.split('.')[0] for name in set(sys.modules) - before}\n"
    "print(json.dumps(sorted(loaded - set(sys.stdlib_module_names))))\n"
)


def packages_loaded_by(code: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", LOADED_PACKAGES, code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "module",
    [
        "django_elk_logging.escaping", "django_elk_logging.identity", "django_elk_logging.security_events", "django_elk_logging.redaction",
        "django_elk_logging.log_files", "django_elk_logging.log_lines",
        "django_elk_logging.denylist", "django_elk_logging.proxies",
        "django_elk_logging.logging_settings",  # settings.py imports it before Django is set up
        "django_elk_logging.access_lines", "django_elk_logging.asgi",  # asgi wraps any ASGI app
        "django_elk_logging.pytest_plugin",  # loaded before Django is set up
    ],
)
def test_the_line_format_loads_only_the_standard_library(module):
    assert packages_loaded_by(f"import {module}") == ["django_elk_logging"]


@pytest.mark.parametrize("module", ["django_elk_logging.gunicorn_events", "django_elk_logging.gunicorn"])
def test_the_gunicorn_modules_load_gunicorn_but_neither_django_nor_sentry(module):
    # gunicorn's arbiter imports them without Django (preload_app off).
    assert packages_loaded_by(f"import {module}") == ["django_elk_logging", "gunicorn"]


@pytest.mark.parametrize("module", ["django_elk_logging.log_filters", "django_elk_logging.apps"])
def test_the_request_layer_does_load_django_so_the_checks_above_can_fail(module):
    assert "django" in packages_loaded_by(f"import {module}")


def test_a_file_handler_takes_only_a_route_the_filters_define():
    from django_elk_logging.logging_settings import LOG_FILTERS, NOT_SECURITY, SECURITY_ONLY, log_file_handler

    assert {SECURITY_ONLY, NOT_SECURITY} <= set(LOG_FILTERS)
    assert set(log_file_handler("/tmp/x.log", SECURITY_ONLY)["filters"]) <= set(LOG_FILTERS)
    with pytest.raises(ValueError, match="route must be 'security_only' or 'not_security', not 'security'"):
        log_file_handler("/tmp/x.log", "security")


# The package's modules, lowest layer first (django_elk_logging/__init__.py); sentry and pytest_plugin stand apart.
LAYERS = ["escaping", "identity", "security_events", "redaction", "log_files", "log_lines", "denylist", "proxies",
          "logging_settings", "access_lines", "asgi", "gunicorn_events", "gunicorn", "request_context", "log_filters",
          "ip_blocking", "signals", "committed", "account_changes", "membership_changes", "admin_actions", "password_events",
          "auth_events", "checks", "apps", "sentry", "pytest_plugin"]


def imported_package_modules(module: str) -> set[str]:
    tree = ast.parse((SRC / "django_elk_logging" / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django_elk_logging."):
            found.add(node.module.split(".")[1])
    return found


def test_every_module_is_in_a_layer():
    on_disk = {path.stem for path in (SRC / "django_elk_logging").glob("*.py")} - {"__init__"}
    assert on_disk == set(LAYERS)


@pytest.mark.parametrize("module", LAYERS)
def test_each_module_imports_only_modules_of_the_layers_below_it(module):
    below = set(LAYERS[: LAYERS.index(module)])
    assert imported_package_modules(module) <= below, f"{module} imports from above it"
