"""bench/check_logs_rate.py's machinery (no speed is asserted): the folders it checks and the figures it prints."""


from bench.check_logs_rate import COPIES, Run, build_folder, report_lines

MIB = 2**20


def test_a_folder_is_the_live_files_and_rotated_copies_of_the_same_lines(tmp_path):
    base = {}
    for name in ("django_debug.log", "access.log"):
        base[name] = tmp_path / f"base-{name}"
        base[name].write_text(f"{name} lines\n")

    build_folder(base, tmp_path / "x3", 3)

    assert sorted(path.name for path in (tmp_path / "x3").iterdir()) == [
        "access.log", "access.log.1", "access.log.2", "django_debug.log", "django_debug.log.1", "django_debug.log.2"]
    assert (tmp_path / "x3" / "access.log.2").read_text() == "access.log lines\n"


def _run(engine: str, copies: int, events: int, rss_mib: int, seconds: float) -> Run:
    return Run(engine, copies * 10_000_000, copies * 100_000, events, 7 * copies, seconds, rss_mib * MIB, rss_mib * MIB)


def test_the_figures_are_rates_and_ratios_between_the_two_sizes():
    small, large = COPIES
    runs = [_run("model", small, 40_000 * small, 70, 5.0), _run("model", large, 40_000 * large, 70, 25.0)]

    lines = report_lines(runs, 100_000)

    assert f"| model | {10 * large:,} MB | {100_000 * large:,} | {40_000 * large:,} | 25.0 | {10 * large / 25:.2f} |" in "\n".join(lines)
    assert lines[-1] == (f"- model: {large / small:.1f}x the folder, peak RSS x1.00 (check), x1.00 (with jruby); the larger "
                         f"folder's rate {10 * large / 25:.2f} MB/s (the smaller's {10 * small / 5:.2f}, startup included)")
    assert not any("WARNING" in line for line in lines)


def test_engines_that_disagree_or_events_that_do_not_scale_are_flagged():
    small, large = COPIES
    runs = [_run("model", small, 1000, 70, 1.0), _run("model", large, 1000 * large + 1, 70, 2.0),
            _run("joni", small, 1000, 400, 3.0), _run("joni", large, 1000 * large, 400, 9.0)]

    lines = report_lines(runs, 100_000)

    assert "- WARNING: the engines did not find the same events and failures in the same folder" in lines
    assert f"- model: WARNING: events do not scale with the copies (1000 and {1000 * large + 1})" in lines
