"""The sustained-integrity benchmark's line counter, on hand-written log files with known faults."""

from bench.load_client import Outcome
from bench.log_integrity import Requests, file_lines, tally
from bench.sustained_integrity import judge


def access(marker: str, record_id: str = "0123456789abcdef") -> str:
    return (
        f'127.0.0.1 - - [05/Mar/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 13 "-" "sustained-integrity/1.0" '
        f"1834000 {marker} {record_id}\n"
    )


def info(marker: str, record_id: str = "1111111111111111") -> str:
    return f"INFO 2025-03-05 10:00:00,123 views [request_id={marker} record_id={record_id}] This is an info message\n"


def error(marker: str, record_id: str = "2222222222222222") -> str:
    return f"ERROR 2025-03-05 10:00:00,124 views [request_id={marker} record_id={record_id}] This is an error message\n"


def whole(*markers: str) -> tuple[str, str]:
    """The access and the app file of requests that each logged all three lines."""
    return "".join(access(m) for m in markers), "".join(info(m) + error(m) for m in markers)


def answered(*markers: str, near_kill: tuple[str, ...] = (), unanswered: tuple[str, ...] = ()) -> Requests:
    return Requests(frozenset(markers), frozenset(unanswered), frozenset(near_kill), workers_killed=1)


def test_every_line_across_a_rotated_and_a_live_file_matches_its_request():
    old_access, old_app = whole("run-aaaaaaaa-000", "run-aaaaaaaa-001")
    new_access, new_app = whole("run-aaaaaaaa-002")
    result = tally(
        answered("run-aaaaaaaa-000", "run-aaaaaaaa-001", "run-aaaaaaaa-002"),
        [old_access.encode(), new_access.encode()],
        [old_app.encode(), new_app.encode()],
    )
    assert (result.sent, result.answered, result.access_lines, result.app_lines) == (3, 3, 3, 6)
    assert (result.lost_access_lines, result.lost_app_lines, result.split_lines, result.doubled_lines) == (0, 0, 0, 0)
    assert result.goal_met


def test_lines_with_the_origin_and_identity_fields_match_their_requests_too():
    # django-elk-logging 0.4: the context ends with where and who, the access line with the pid and identity.
    where = "logger=myapp file=views.py line=15 function=hello pid=4242 host=web-1 service=django-app"
    access_file = access("run-aaaaaaaa-000").replace("\n", " 127.0.0.1 4242 web-1 django-app - -\n")
    app_file = info("run-aaaaaaaa-000").replace("] ", f" {where}] ", 1) + error("run-aaaaaaaa-000").replace(
        "] ", f" {where}] ", 1)
    result = tally(answered("run-aaaaaaaa-000"), [access_file.encode()], [app_file.encode()])

    assert (result.access_lines, result.app_lines, result.split_lines, result.lost_app_lines) == (1, 2, 0, 0)


def test_a_missing_app_line_and_a_missing_access_line_are_lost():
    access_file = access("run-aaaaaaaa-000")  # run-aaaaaaaa-001's access line is missing
    app_file = info("run-aaaaaaaa-000") + error("run-aaaaaaaa-000") + info("run-aaaaaaaa-001")  # and its ERROR
    result = tally(answered("run-aaaaaaaa-000", "run-aaaaaaaa-001"), [access_file.encode()], [app_file.encode()])
    assert (result.access_lines, result.app_lines) == (1, 3)
    assert (result.lost_access_lines, result.lost_app_lines) == (1, 1)
    assert (result.split_lines, result.doubled_lines, result.killed_worker_lost_access_lines) == (0, 0, 0)
    assert not result.goal_met


def test_a_record_split_in_two_lines_counts_both_halves_as_split_and_its_line_as_lost():
    line = info("run-aaaaaaaa-001")
    _, app_file = whole("run-aaaaaaaa-000")
    app_file += line[:40] + "\n" + line[40:] + error("run-aaaaaaaa-001")
    access_file, _ = whole("run-aaaaaaaa-000", "run-aaaaaaaa-001")
    result = tally(answered("run-aaaaaaaa-000", "run-aaaaaaaa-001"), [access_file.encode()], [app_file.encode()])
    assert (result.split_lines, result.lost_app_lines, result.app_lines) == (2, 1, 3)
    assert not result.goal_met


def test_a_file_ending_in_a_partial_line_is_one_split_line():
    access_file, app_file = whole("run-aaaaaaaa-000")
    cut = access("run-aaaaaaaa-001")[:-20]
    result = tally(
        answered("run-aaaaaaaa-000", "run-aaaaaaaa-001"), [(access_file + cut).encode()], [app_file.encode()]
    )
    assert (result.split_lines, result.lost_access_lines, result.lost_app_lines) == (1, 1, 2)
    assert file_lines(b"a\nb") == (["a"], 1)
    assert file_lines(b"a\nb\n") == (["a", "b"], 0)
    assert file_lines(b"") == ([], 0)


def test_a_line_in_both_the_rotated_and_the_live_file_is_doubled():
    access_file, app_file = whole("run-aaaaaaaa-000", "run-aaaaaaaa-001")
    copied = access("run-aaaaaaaa-001")  # the same record, record_id and all, written again after the rename
    result = tally(
        answered("run-aaaaaaaa-000", "run-aaaaaaaa-001"), [access_file.encode(), copied.encode()], [app_file.encode()]
    )
    assert (result.access_lines, result.doubled_lines, result.lost_access_lines, result.split_lines) == (3, 1, 0, 0)
    assert not result.goal_met


def test_a_request_logged_twice_with_new_record_ids_is_doubled_too():
    access_file, app_file = whole("run-aaaaaaaa-000")
    again = error("run-aaaaaaaa-000", record_id="3333333333333333")
    result = tally(answered("run-aaaaaaaa-000"), [access_file.encode()], [(app_file + again).encode()])
    assert (result.app_lines, result.doubled_lines) == (3, 1)


def test_one_access_line_missing_near_the_kill_is_the_killed_workers_and_a_second_one_is_lost():
    access_file = access("run-aaaaaaaa-000")
    _, app_file = whole("run-aaaaaaaa-000", "run-aaaaaaaa-001", "run-aaaaaaaa-002")
    markers = ("run-aaaaaaaa-000", "run-aaaaaaaa-001", "run-aaaaaaaa-002")
    one = tally(answered(*markers, near_kill=("run-aaaaaaaa-001",)), [access_file.encode()], [app_file.encode()])
    assert (one.killed_worker_lost_access_lines, one.lost_access_lines) == (1, 1)
    both = tally(
        answered(*markers, near_kill=("run-aaaaaaaa-001", "run-aaaaaaaa-002")),
        [access_file.encode()],
        [app_file.encode()],
    )
    assert (both.killed_worker_lost_access_lines, both.lost_access_lines) == (1, 1)
    access_file += access("run-aaaaaaaa-002")
    excused = tally(answered(*markers, near_kill=("run-aaaaaaaa-001",)), [access_file.encode()], [app_file.encode()])
    assert (excused.killed_worker_lost_access_lines, excused.lost_access_lines) == (1, 0)
    assert excused.goal_met


def test_lines_of_unanswered_requests_are_reported_and_more_unanswered_than_kills_misses_the_goal():
    access_file, app_file = whole("run-aaaaaaaa-000")
    app_file += info("run-aaaaaaaa-001")  # the killed worker logged one line before it died
    one = tally(
        answered("run-aaaaaaaa-000", unanswered=("run-aaaaaaaa-001",)), [access_file.encode()], [app_file.encode()]
    )
    assert (one.unanswered, one.unanswered_request_lines, one.lost_app_lines) == (1, 1, 0)
    assert one.goal_met
    two = tally(
        answered("run-aaaaaaaa-000", unanswered=("run-aaaaaaaa-001", "run-aaaaaaaa-002")),
        [access_file.encode()],
        [app_file.encode()],
    )
    assert not two.goal_met


def test_other_whole_records_are_not_split_and_lines_of_unsent_requests_are_unknown():
    access_file, app_file = whole("run-aaaaaaaa-000")
    app_file += (
        "WARNING 2025-03-05 10:00:01,000 log [request_id=- record_id=4444444444444444] Not Found: /x\n"
        "ERROR 2025-03-05 10:00:01,001 log [request_id=- record_id=5555555555555555] Internal Server Error: /boom\n"
        "\tTraceback (most recent call last):\n"
        + info("run-bbbbbbbb-000")
    )
    result = tally(answered("run-aaaaaaaa-000"), [access_file.encode()], [app_file.encode()])
    assert (result.other_lines, result.split_lines, result.unknown_marker_lines, result.app_lines) == (3, 0, 1, 3)
    assert not result.goal_met


def test_judge_excuses_only_answers_read_within_a_second_of_the_kill():
    outcomes = [
        Outcome("run-aaaaaaaa-000", True, 100.0),
        Outcome("run-aaaaaaaa-001", True, 109.5),  # answered 0.5 s before the kill: may be the killed worker's
        Outcome("run-aaaaaaaa-002", None, 110.1),  # reset by the kill
        Outcome("run-aaaaaaaa-003", False, 120.0),  # a wrong answer
    ]
    access_file = access("run-aaaaaaaa-000") + access("run-aaaaaaaa-003")
    _, app_file = whole("run-aaaaaaaa-000", "run-aaaaaaaa-001", "run-aaaaaaaa-003")
    logs = {"access.log": [access_file.encode()], "django_debug.log": [app_file.encode()]}
    result, bad_answers = judge(outcomes, logs, kill_at=110.0)
    assert (result.sent, result.answered, result.unanswered, bad_answers) == (4, 3, 1, 1)
    assert (result.killed_worker_lost_access_lines, result.lost_access_lines) == (1, 0)
    late, _ = judge(outcomes, logs, kill_at=112.0)
    assert (late.killed_worker_lost_access_lines, late.lost_access_lines) == (0, 1)
