"""bench/load.py's reading of wrk --latency output, on outputs wrk 4.1.0 printed on this machine."""

from pathlib import Path

import pytest

from bench.load import LoadError, parse_wrk

OUTPUTS = Path(__file__).with_name("wrk_outputs")


def test_a_run_against_the_app_gives_its_rate_percentiles_and_count():
    result = parse_wrk((OUTPUTS / "two_seconds.txt").read_text())

    assert result.requests == 3091
    assert result.seconds == pytest.approx(2.00)
    assert result.requests_per_second == pytest.approx(1544.12)
    assert result.p50_seconds == pytest.approx(0.00257)
    assert result.p99_seconds == pytest.approx(0.01247)
    assert result.errors == 0


def test_non_2xx_responses_count_as_errors():
    # 300 connections to a missing page.
    result = parse_wrk((OUTPUTS / "not_found.txt").read_text())

    assert result.requests == 1035
    assert result.errors == 1035
    assert result.p50_seconds == pytest.approx(0.26778)
    assert result.requests_per_second == pytest.approx(1011.25)


def test_socket_errors_add_up_with_non_2xx_responses():
    output = (OUTPUTS / "not_found.txt").read_text().replace(
        "  Non-2xx", "  Socket errors: connect 1, read 20, write 300, timeout 4000\n  Non-2xx"
    )

    assert parse_wrk(output).errors == 1035 + 4321


def test_microseconds_seconds_and_minutes_are_read_in_seconds():
    output = (OUTPUTS / "two_seconds.txt").read_text()
    output = output.replace("50%    2.57ms", "50%  812.00us").replace("99%   12.47ms", "99%    1.50m")
    output = output.replace("3091 requests in 2.00s", "3091 requests in 1.00m")

    result = parse_wrk(output)

    assert result.p50_seconds == pytest.approx(0.000812)
    assert result.p99_seconds == pytest.approx(90.0)
    assert result.seconds == pytest.approx(60.0)


def test_output_without_the_latency_distribution_is_refused_naming_the_missing_line():
    output = "\n".join(
        line for line in (OUTPUTS / "two_seconds.txt").read_text().splitlines() if "99%" not in line
    )

    with pytest.raises(LoadError, match=r"no 99% line \(was it run with --latency\?\)"):
        parse_wrk(output)


def test_something_that_is_not_wrk_output_is_refused():
    with pytest.raises(LoadError, match="no Requests/sec line"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
