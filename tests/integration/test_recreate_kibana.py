"""Kibana keeps its instance UUID when its container is recreated (its data folder is the kibana-data volume).

This module recreates the Kibana container, then waits until the whole stack is ready again (the session's
bounded poll), so any test after it still finds the stack as `make up` left it. Its name sorts it after
the other live modules, which pytest collects in file name order.
"""

import pytest

from tests.integration.compose_cli import compose_output
from tests.integration.conftest import await_ready
from tests.integration.http_client import json_body

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

# Kibana's healthcheck budget in docker-compose.yml is 660 s (start_period + retries x interval); `up --wait`
# gives up at the first unhealthy status anyway, so this only bounds a hang.
RECREATE_TIMEOUT_SECONDS = 720


def kibana_uuid(live_stack) -> str:
    # An authenticated GET /api/status answers the full body, with the instance's `uuid` at its top
    # (Kibana src/core/packages/status/server-internal/src/routes/status.ts, getFullStatusResponse).
    response = live_stack.kibana.get("/api/status")
    assert response.status_code == 200, f"Kibana /api/status: HTTP {response.status_code}"
    uuid = json_body(response).get("uuid")
    assert isinstance(uuid, str) and uuid, f"Kibana /api/status carries no uuid: {response.text[:300]}"
    return uuid


def test_kibana_keeps_its_uuid_when_its_container_is_recreated(live_stack):
    before = kibana_uuid(live_stack)
    # --no-deps: only Kibana's container is new; --wait: until its healthcheck passes again.
    compose_output(
        "up", "--detach", "--no-deps", "--force-recreate", "--wait", "--wait-timeout",
        str(RECREATE_TIMEOUT_SECONDS), "kibana",
        timeout_seconds=RECREATE_TIMEOUT_SECONDS + 60,
    )
    await_ready(live_stack)
    after = kibana_uuid(live_stack)
    live_stack.note(f"Kibana instance uuid {before}, the same after a recreate: {after == before}")
    assert after == before, "Kibana's recreated container has a new instance uuid: its data folder was not kept"
