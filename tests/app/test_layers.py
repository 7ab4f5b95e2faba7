"""The sample service's lower layers load neither Django nor Sentry: gunicorn's config, the env reader, the drills.

The package's own layers (django_elk_logging) are checked in django-elk-logging/tests/test_layers.py.
Each check runs in a fresh interpreter, so nothing another test imported counts.
"""

import json
import subprocess
import sys

import pytest

from tests.support.app_server import APP_DIR, app_environment

# Prints the Django and Sentry modules loaded after running the code in argv[1].
LOADED_FRAMEWORKS = (
    "import json, sys\n"
    "exec(sys.argv[1], {'__name__': 'layer_check'})\n"
    "print(json.dumps(sorted(name for name in sys.modules if name.split('.')[0] in ('django', 'sentry_sdk'))))\n"
)


def frameworks_loaded_by(code: str, tmp_path) -> list[str]:
    (tmp_path / "log").mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", LOADED_FRAMEWORKS, code],
        cwd=APP_DIR, env=app_environment(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "code",
    ["import config.env", "import rotate_logs", "exec(open('gunicorn.conf.py').read(), {})", "import myapp.drills"],
    ids=["config.env", "rotate_logs", "gunicorn.conf.py", "myapp.drills"],
)
def test_the_lower_layers_load_neither_django_nor_sentry(code, tmp_path):
    assert frameworks_loaded_by(code, tmp_path) == []


def test_the_settings_do_load_them_so_the_check_above_can_fail(tmp_path):
    loaded = frameworks_loaded_by("import config.settings", tmp_path)

    assert "django.conf" in loaded
    assert "sentry_sdk" in loaded
