"""Settings and gunicorn config fail at start, clearly, on missing or bad configuration."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app_server import APP_DIR, app_environment

CHECK_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def load_settings(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    env = app_environment(tmp_path, **overrides)
    return subprocess.run(
        [sys.executable, "-c", CHECK_SETTINGS], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def without(tmp_path: Path, name: str, **overrides: str) -> subprocess.CompletedProcess:
    env = app_environment(tmp_path, **overrides)
    env.pop(name)
    return subprocess.run(
        [sys.executable, "-c", CHECK_SETTINGS], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_valid_environment_loads_with_debug_off_by_default(tmp_path):
    result = load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_missing_secret_key_fails_with_a_clear_message(tmp_path):
    result = without(tmp_path, "DJANGO_SECRET_KEY")

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set. It is required unless DJANGO_DEBUG=true" in result.stderr


def test_debug_mode_runs_without_a_secret_key(tmp_path):
    result = without(tmp_path, "DJANGO_SECRET_KEY", DJANGO_DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize(
    "key", ["too-short", "a" * 60, "django-insecure-" + secrets.token_urlsafe(50)], ids=["short", "repetitive", "generated"]
)
def test_weak_secret_key_is_refused(tmp_path, key):
    result = load_settings(tmp_path, DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is too weak: use at least 50 random characters" in result.stderr


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
        ("DJANGO_LOG_LEVEL", "LOUD", "DJANGO_LOG_LEVEL='LOUD' is not a log level"),
        ("DJANGO_TRUSTED_PROXY_COUNT", "two", "DJANGO_TRUSTED_PROXY_COUNT='two' is not a whole number"),
        ("DJANGO_TRUSTED_PROXY_COUNT", "99", "DJANGO_TRUSTED_PROXY_COUNT=99 is out of range: expected 0 to 10"),
        ("DJANGO_BLOCKED_IPS", "203.0.113.7, nonsense", "DJANGO_BLOCKED_IPS entry 'nonsense' is not an IP address or CIDR network"),
        ("DJANGO_BLOCKED_IPS", "10.0.0.1/8", "DJANGO_BLOCKED_IPS entry '10.0.0.1/8' is not an IP address or CIDR network: 10.0.0.1/8 has host bits set"),
        ("DJANGO_TRUSTED_PROXIES", "172.18.0.0/16, proxy.internal", "DJANGO_TRUSTED_PROXIES entry 'proxy.internal' is not an IP address or CIDR network"),
        ("DJANGO_TRUSTED_PROXY_COUNT", "1", "DJANGO_TRUSTED_PROXY_COUNT=1 needs DJANGO_TRUSTED_PROXIES: the addresses or CIDR networks of the proxies whose X-Forwarded-For is believed"),
    ],
)
def test_bad_values_are_named_in_the_error(tmp_path, name, value, message):
    result = load_settings(tmp_path, **{name: value})

    assert result.returncode != 0
    assert message in result.stderr


def test_blocked_ips_are_read_as_networks(tmp_path):
    env = app_environment(tmp_path, DJANGO_BLOCKED_IPS=" 203.0.113.7 ,2001:db8::/32,, 198.51.100.0/24")
    code = "import django; django.setup(); from django.conf import settings; print(settings.BLOCKED_IPS)"
    result = subprocess.run([sys.executable, "-c", code], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['203.0.113.7/32', '2001:db8::/32', '198.51.100.0/24']"


def test_trusted_proxies_are_read_as_networks_with_their_count(tmp_path):
    env = app_environment(tmp_path, DJANGO_TRUSTED_PROXIES="172.18.0.0/16, ::1", DJANGO_TRUSTED_PROXY_COUNT="2")
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT)")
    result = subprocess.run([sys.executable, "-c", code], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['172.18.0.0/16', '::1/128'] 2"


@pytest.mark.parametrize(("overrides", "level"), [({}, "WARNING"), ({"CONSOLE_LOG_LEVEL": "info"}, "INFO")])
def test_the_console_prints_warnings_and_up_unless_told_otherwise(tmp_path, overrides, level):
    env = app_environment(tmp_path)
    env.pop("CONSOLE_LOG_LEVEL", None)
    env.update(overrides)
    code = "import django; django.setup(); from django.conf import settings; print(settings.LOGGING['handlers']['console'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{{'class': 'logging.StreamHandler', 'formatter': 'simple', 'level': '{level}'}}"


def test_sentry_options_are_validated_when_a_dsn_is_set(tmp_path):
    result = load_settings(tmp_path, SENTRY_DSN="http://public@127.0.0.1:9/1", SENTRY_TRACES_SAMPLE_RATE="1.5")

    assert result.returncode != 0
    assert "SENTRY_TRACES_SAMPLE_RATE=1.5 is out of range: expected 0.0 to 1.0" in result.stderr


@pytest.fixture
def unwritable_dir(tmp_path):
    """A directory this process cannot write: read-only mode, or immutable when running as root."""
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:
        locked.chmod(0o555)
        yield locked
        return
    # Root ignores mode bits but not the immutable attribute.
    result = subprocess.run(["chattr", "+i", str(locked)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"running as root and chattr +i is not available here: {result.stderr.strip()}")
    try:
        yield locked
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)


def test_unwritable_log_directory_is_refused(tmp_path, unwritable_dir):
    result = load_settings(tmp_path, DJANGO_LOG_DIR=str(unwritable_dir))

    assert result.returncode != 0
    assert f"DJANGO_LOG_DIR='{unwritable_dir}' is not writable" in result.stderr


def test_log_directory_that_cannot_be_created_is_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    result = load_settings(tmp_path, DJANGO_LOG_DIR=str(blocker / "logs"))

    assert result.returncode != 0
    assert f"DJANGO_LOG_DIR='{blocker / 'logs'}' cannot be created" in result.stderr


# gunicorn's config reads its integers with the settings' reader (config/env.py), so its
# messages are the settings' messages.
@pytest.mark.parametrize(
    "workers, message",
    [
        ("0", "GUNICORN_WORKERS=0 is out of range: expected 1 to 64."),
        ("lots", "GUNICORN_WORKERS='lots' is not a whole number."),
        ("65", "GUNICORN_WORKERS=65 is out of range: expected 1 to 64."),
    ],
)
def test_gunicorn_config_refuses_a_bad_worker_count(tmp_path, workers, message):
    env = app_environment(tmp_path, GUNICORN_WORKERS=workers)
    (tmp_path / "log").mkdir()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "--check-config", "config.wsgi"],
        cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_gunicorn_config_refuses_a_bad_health_probe_network(tmp_path):
    env = app_environment(tmp_path, GUNICORN_HEALTH_PROBE_NETWORKS="127.0.0.1, docker-host")
    (tmp_path / "log").mkdir()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "--check-config", "config.wsgi"],
        cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode != 0
    assert ("GUNICORN_HEALTH_PROBE_NETWORKS entry 'docker-host' is not an IP address or CIDR network"
            in result.stdout + result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


def test_gunicorn_config_disables_the_control_socket_and_logs_access_to_the_log_dir(tmp_path):
    env = app_environment(tmp_path)
    (tmp_path / "log").mkdir()
    script = (
        "namespace = {}\n"
        "exec(open('gunicorn.conf.py').read(), namespace)\n"
        "print(namespace['control_socket_disable'], namespace['workers'], namespace['bind'])\n"
        "print(namespace['logconfig_dict']['handlers']['access_file']['filename'])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True 2 ['0.0.0.0:8000']", str(tmp_path / "log" / "access.log")]
