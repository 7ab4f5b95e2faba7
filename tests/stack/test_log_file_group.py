"""The app's log files are 0640 (django_elk_logging.log_files.FILE_PERMISSIONS, django-elk-logging/tests/
test_file_modes.py): Logstash, which reads them
from the shared app-logs volume, must be in the group they are created with.

A file takes the effective gid of the process that creates it (the volume's folder is not setgid): the
primary group of the app image's USER, since no service overrides its user. Logstash runs as the user
its image sets, uid 1000 with primary group gid 1000: elastic/logstash, docker/templates/Dockerfile.erb,
"groupadd --gid 1000 logstash && adduser --uid 1000 --gid 1000 ... logstash" and "USER 1000".
"""

import json
import re
from pathlib import Path

import pytest

from tests.stack.test_compose import dockerfile_instructions
from tests.support.compose import DUMMY_SECRETS, env_with, render
from tests.support.paths import REPO_ROOT

APP_DOCKERFILE = REPO_ROOT / "app" / "Dockerfile"
LOGSTASH_GID = 1000  # elastic/logstash docker/templates/Dockerfile.erb (above)
LOG_VOLUME = "app-logs"


@pytest.fixture(scope="module")
def services(home, tmp_path_factory) -> dict:
    env_file = tmp_path_factory.mktemp("env") / "dummy.env"
    env_file.write_text(env_with(DUMMY_SECRETS), encoding="utf-8")
    result = render(home, env_file)
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)["services"]


def runtime_user(dockerfile: Path) -> tuple[int, int]:
    """(uid, gid) of the last stage's USER, which must name both as numbers (uid:gid)."""
    instructions = dockerfile_instructions(dockerfile)
    last_stage = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    [user] = [arguments for keyword, arguments in instructions[last_stage:] if keyword == "USER"]
    match = re.fullmatch(r"(\d+):(\d+)", user)
    assert match, f"USER {user}: give the uid and the gid as numbers, so the files' group is explicit"
    return int(match[1]), int(match[2])


def volume_users(services: dict, volume: str) -> dict[str, bool]:
    """Each service mounting ``volume``, and whether it mounts it read-only."""
    return {
        name: mount.get("read_only", False)
        for name, service in services.items()
        for mount in service.get("volumes", [])
        if mount["type"] == "volume" and mount["source"] == volume
    }


def test_the_app_images_user_creates_the_log_files_with_logstashs_group():
    uid, gid = runtime_user(APP_DOCKERFILE)
    text = APP_DOCKERFILE.read_text(encoding="utf-8")

    assert gid == LOGSTASH_GID
    # The user's own group, created with that gid: the name in /etc/group the files show.
    assert re.search(rf"groupadd --gid {gid} (\S+)", text) and re.search(rf"useradd --uid {uid} --gid \S+", text)


def test_the_services_sharing_the_log_volume_run_as_their_images_users(services):
    assert volume_users(services, LOG_VOLUME) == {"app": False, "logrotate": False, "logstash": True}
    # A service's user: would replace its image's USER, and the group the files get or Logstash reads with.
    assert {name: services[name].get("user") for name in ("app", "logrotate", "logstash")} == dict.fromkeys(
        ("app", "logrotate", "logstash"))
    assert services["logrotate"]["image"] == services["app"]["image"]  # it renames as the same user
    assert services["logstash"]["image"].startswith("docker.elastic.co/logstash/logstash:")
