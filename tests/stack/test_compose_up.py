"""scripts/compose_up.py's decisions: which containers failed, which keep restarting."""

import json
import os
import signal
import subprocess
import sys

import pytest

from compose_up import CRASH_LOOP_RESTARTS, Container, crash_looping
from tests.support.paths import SCRIPTS_DIR

ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:9.5.7"


@pytest.mark.parametrize(
    "state, health, exit_code, failing",
    [
        ("running", "healthy", 0, False),
        ("running", "", 0, False),  # no healthcheck: running is all there is
        ("exited", "", 0, False),  # a one-shot that succeeded
        ("created", "", 0, False),  # never started: it waited for another
        ("running", "starting", 0, True),
        ("running", "unhealthy", 0, True),
        ("restarting", "starting", 1, True),
        ("exited", "", 1, True),
        ("dead", "", 137, True),
    ],
)
def test_a_container_fails_unless_up_and_healthy_a_finished_one_shot_or_never_started(state, health, exit_code, failing):
    assert Container("id", "service", ES_IMAGE, state, health, exit_code).failing is failing


def test_an_elasticsearch_node_is_the_image_with_a_healthcheck_not_the_certs_one_shot():
    assert Container("a", "es01", ES_IMAGE, "running", "starting", 0).elasticsearch_node
    assert not Container("b", "certs", ES_IMAGE, "exited", "", 1).elasticsearch_node
    assert not Container("c", "kibana", "docker.elastic.co/kibana/kibana:9.5.7", "running", "starting", 0).elasticsearch_node


def test_only_containers_this_up_created_count_and_from_the_crash_loop_threshold():
    new = Container("new", "elasticsearch", ES_IMAGE, "running", "starting", 0)
    old = Container("old", "es01", ES_IMAGE, "running", "starting", 0)
    # A container from before may be one `up` is about to replace: it is left to UP_TIMEOUT.
    assert crash_looping([new, old], {"new": CRASH_LOOP_RESTARTS - 1, "old": 50}, {"old"}) == []
    assert crash_looping([new, old], {"new": CRASH_LOOP_RESTARTS, "old": 50}, {"old"}) == [new]


def test_a_line_of_compose_ps_json_reads_without_a_created_key():
    # The shape of `docker compose ps --all --no-trunc --format json` (docker/compose cmd/formatter/container.go).
    line = json.dumps({
        "ID": "9f" * 32, "Name": "stack-elasticsearch-1", "Names": "stack-elasticsearch-1", "Service": "elasticsearch",
        "Project": "stack", "Image": ES_IMAGE, "Command": '"/bin/tini -- /usr/local/bin/docker-entrypoint.sh"',
        "CreatedAt": "2026-12-07 21:00:00 +0000 UTC", "RunningFor": "2 minutes ago", "ExitCode": 0,
        "State": "running", "Status": "Up 2 minutes (health: starting)", "Health": "starting", "Publishers": None,
        "Ports": "", "Labels": "", "Mounts": "", "LocalVolumes": "1", "Networks": "stack_default", "Size": "0B",
    })
    assert Container.from_json(line) == Container("9f" * 32, "elasticsearch", ES_IMAGE, "running", "starting", 0)


def test_a_signal_before_up_starts_is_kept_and_sent_to_ups_process_group_once_it_exists():
    # A real process: SIGINT reaches the Python that will start `up` before `up` exists (Ctrl-C while
    # compose ps runs), then `up`'s whole group gets it as soon as it starts.
    program = (
        "import os, signal, subprocess, sys\n"
        "from compose_up import SignalForwarder\n"
        "forwarder = SignalForwarder()\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "up = subprocess.Popen(['sleep', '30'], start_new_session=True)\n"
        "forwarder.attach(up)\n"
        "print(forwarder.received, up.wait(timeout=20))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(SCRIPTS_DIR)}, check=True)
    assert result.stdout.split() == [f"[{int(signal.SIGINT)}]", str(-signal.SIGINT)]
