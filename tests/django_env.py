"""Early pytest plugin (``-p tests.django_env``): the environment the Django settings read.

It loads before pytest-django imports the settings, so the logging config
points at a fresh directory and the settings' own validation runs for real.
"""

import os
import secrets
import sys
import tempfile
from pathlib import Path

from tests.support.paths import APP_DIR

sys.path.insert(0, str(APP_DIR))

_workdir = Path(tempfile.mkdtemp(prefix="django-tests-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["DJANGO_LOG_DIR"] = str(_workdir / "log")
os.environ["DJANGO_SQLITE_PATH"] = str(_workdir / "db.sqlite3")
os.environ["DJANGO_STATIC_ROOT"] = str(_workdir / "static")
os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
os.environ["DJANGO_DEBUG"] = "false"
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
os.environ.pop("SENTRY_DSN", None)
(_workdir / "static").mkdir()
