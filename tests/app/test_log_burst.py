"""make bench-live's burst writer (manage.py log_burst) through the app's real LOGGING into real files, and the
percentile its latency figures use."""

import json

import pytest

from bench.live_ingest import percentile
from tests.support.app_server import app_environment, manage


def test_the_burst_and_the_marks_are_written_once_each_through_the_app_logging(tmp_path):
    (tmp_path / "log").mkdir()
    env = app_environment(tmp_path)

    result = manage(env, "log_burst", "bench0a1b", "--records", "500", "--marks", "3", "--mark-interval", "0.001")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["records"], sorted(report["marks"])) == (500, ["bench0a1bx0", "bench0a1bx1", "bench0a1bx2"])
    assert report["marks"]["bench0a1bx0"] <= report["marks"]["bench0a1bx1"] <= report["marks"]["bench0a1bx2"]
    lines = (tmp_path / "log" / "django_debug.log").read_text().splitlines()
    burst = [line for line in lines if " bench burst bench0a1b record " in line]
    assert [int(line.rsplit(" ", 1)[1]) for line in burst] == list(range(500))
    assert all(line.startswith("INFO ") for line in burst)
    assert [line.rsplit(" ", 1)[1] for line in lines if " bench mark " in line] == [
        "bench0a1bx0", "bench0a1bx1", "bench0a1bx2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Bench!",), "token 'Bench!' must be 1 to 40 lower-case letters and digits."),
        (("bench", "--records", "1000001"), "--records=1000001 is out of range: expected 0 to 1000000."),
        (("bench", "--marks", "-1"), "--marks=-1 is out of range: expected 0 to 10000."),
        (("bench", "--mark-interval", "0"), "--mark-interval=0 is out of range: expected 0.001 to 10 seconds."),
    ],
)
def test_log_burst_refuses_bad_arguments(tmp_path, args, message):
    (tmp_path / "log").mkdir()
    result = manage(app_environment(tmp_path), "log_burst", *args)

    assert result.returncode == 1
    assert message in result.stderr


def test_the_percentile_is_the_nearest_rank():
    values = [0.9, 0.1, 0.5, 0.3, 0.7]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 0.2)) == (0.5, 0.9, 0.1)
    assert percentile([2.0], 0.99) == 2.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)
