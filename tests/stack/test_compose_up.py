"""scripts/compose_up.py's decisions: which containers failed, which keep restarting."""

import pytest

from compose_up import CRASH_LOOP_RESTARTS, Container, crash_looping

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


def test_restarts_count_from_when_the_container_was_first_seen():
    first_seen: dict[str, int] = {}
    assert crash_looping(first_seen, {"es": 5, "kibana": 0}) == []  # restarts before this make up do not count
    assert crash_looping(first_seen, {"es": 5 + CRASH_LOOP_RESTARTS - 1, "kibana": 0, "new": 0}) == []
    assert crash_looping(first_seen, {"es": 5 + CRASH_LOOP_RESTARTS, "kibana": 0, "new": 1}) == ["es"]
