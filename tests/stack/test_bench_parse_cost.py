"""bench/parse_cost.py's grouping of lines into events, and the grok_batch op it times Joni with (no speed is asserted)."""

from bench.parse_cost import group_events
from tests.support.engines import require_engine


def test_a_matching_line_starts_an_event_and_the_others_join_it():
    lines = ["INFO a", "\tt1", "\tt2", "WARNING b", "ERROR c", "\tt3"]
    assert group_events(lines, [True, False, False, True, True, False]) == [
        ("INFO a\n\tt1\n\tt2", 3), ("WARNING b", 1), ("ERROR c\n\tt3", 2),
    ]


def test_a_first_line_that_does_not_match_starts_an_event_of_its_own():
    assert group_events(["\torphan", "INFO a"], [False, True]) == [("\torphan", 1), ("INFO a", 1)]


def test_no_lines_no_events():
    assert group_events([], []) == []


def test_grok_batch_says_per_text_whether_joni_matched_and_how_many_nanoseconds_it_took():
    engine = require_engine()
    results = engine.grok_batch(r"\A(?<level>INFO|ERROR) x\z", ["INFO x", "DEBUG x", "ERROR x\n"], 2, 10.0)
    assert [matched for matched, _ in results] == [True, False, False]
    assert all(isinstance(nanos, int) and nanos > 0 for _, nanos in results)
