"""scripts/renewed_certificates.py: when the certs service wrote certificates, read from the lines
setup/certs/create_certs.sh really prints, and which containers started before that."""

from datetime import UTC, datetime

import pytest

from renewed_certificates import docker_time, started_before, written_at
from tests.support.certs_step import CertsStep, require_step_tools
from tests.support.paths import CERT_INSTANCES_DIR


def test_docker_times_compare_as_times_though_docker_trims_trailing_zeros():
    # As strings, "...00.1Z" sorts after "...00.12Z".
    assert docker_time("2026-12-07T21:00:00.1Z") == datetime(2026, 12, 7, 21, 0, 0, 100000, tzinfo=UTC)
    assert docker_time("2026-12-07T21:00:00.1Z") < docker_time("2026-12-07T21:00:00.12Z")
    assert docker_time("2026-12-07T21:00:00.123456789Z") == datetime(2026, 12, 7, 21, 0, 0, 123456, tzinfo=UTC)
    assert docker_time("2026-12-07T21:00:00Z") == datetime(2026, 12, 7, 21, tzinfo=UTC)


@pytest.fixture
def step(tmp_path) -> CertsStep:
    require_step_tools()
    return CertsStep(tmp_path)


def test_the_time_is_that_of_the_last_line_create_certs_prints_when_it_writes(step):
    first = step.run(CERT_INSTANCES_DIR / "tls.yml")
    assert first.returncode == 0, first.stderr
    stamped = [f"2026-12-07T21:00:0{second}.5Z {line}" for second, line in enumerate(first.lines, start=1)]
    assert written_at(stamped) == datetime(2026, 12, 7, 21, 0, len(first.lines), 500000, tzinfo=UTC)


def test_a_run_that_keeps_the_certificates_wrote_none(step):
    assert step.run(CERT_INSTANCES_DIR / "tls.yml").returncode == 0
    again = step.run(CERT_INSTANCES_DIR / "tls.yml")
    assert again.returncode == 0 and again.lines, again.stderr
    assert written_at(f"2026-12-07T21:00:01Z {line}" for line in again.lines) is None


def test_only_what_started_before_the_writing_restarts():
    written = datetime(2026, 12, 7, 21, 0, 5, tzinfo=UTC)
    started = {"kibana": datetime(2026, 12, 7, 20, tzinfo=UTC), "logstash": datetime(2026, 12, 7, 21, 0, 6, tzinfo=UTC)}
    assert started_before(started, written) == ["kibana"]
    assert started_before(started, None) == []
