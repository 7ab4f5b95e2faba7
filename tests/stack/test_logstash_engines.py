"""The pipeline model against Logstash's own engines: Joni for grok and multiline, Joda-Time for dates.

Model-only assertions run everywhere; wherever jruby is installed each model
evaluation also runs on the real engine and any disagreement fails
(stack_models/grok.py, stack_models/logstash_pipeline.py). Tests that need the
engine itself skip without jruby, and fail under CI=true.
"""

import datetime as dt
import shutil
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
import regex

from config.time_zones import time_zone_problem
from stack_models.grok import PYGROK_PATTERNS_DIR, EngineDisagreement, Grok, load_patterns, plain_ruby_regex
from stack_models.joni import Engine, EngineError, missing_reason
from stack_models.logstash_config_tree import Plugin, plugins
from stack_models.logstash_pipeline import Pipeline
from tests.support.app_server import APP_DIR, app_environment
from tests.support.engines import engine_for_tests, require_engine
from tests.support.paths import ENV_EXAMPLE, SCRIPTS_DIR

PATTERNS = load_patterns(PYGROK_PATTERNS_DIR)
APP_PATTERN = "yyyy-MM-dd HH:mm:ss,SSS"


@pytest.fixture(scope="module")
def engine():
    return engine_for_tests()


def grok(expression: str, engine) -> Grok:
    return Grok(expression, PATTERNS, engine=engine)


# ---- grok on Joni: the Ruby semantics the model must have -----------------------------------
def test_dot_matches_a_newline_as_jls_grok_compiles_it(engine):
    # Regexp::MULTILINE (lib/grok-pure.rb): the old model without DOTALL captured "first" only.
    assert grok(r"\A%{GREEDYDATA:message}(?:\n%{GREEDYDATA:rest})?\Z", engine).fields("first\n\tsecond") == [
        ("message", "first\n\tsecond"),
        ("rest", None),
    ]


def test_word_digit_and_space_classes_are_ascii_but_word_boundaries_are_not(engine):
    assert grok(r"%{WORD:w}", engine).fields("café") is None  # \b\w+\b: "caf" ends inside a word
    assert grok(r"(?<w>\w+)", engine).fields("café") == [("w", "caf")]
    assert grok(r"(?<d>\d+)", engine).fields("\u0663\u0664") is None
    assert grok(r"a(?<s>\s)b", engine).fields("a\u00a0b") is None
    assert grok(r"a(?<s>\s)b", engine).fields("a\tb") == [("s", "\t")]


def test_ruby_end_anchors_are_kept_apart(engine):
    assert grok(r"(?<a>a)\Z", engine).fields("a\n") == [("a", "a")]
    assert grok(r"(?<a>a)\z", engine).fields("a\n") is None
    assert grok(r"(?<a>a)$", engine).fields("a\r") is None  # "$" stops before "\n" only


def test_typed_captures_are_converted_like_ruby(engine):
    assert grok("%{INT:[a][n]:int} %{NUMBER:f:float}", engine).fields("42 2.5") == [("[a][n]", 42), ("f", 2.5)]


def test_only_the_first_group_of_a_repeated_typed_name_is_converted(engine):
    # The old model converted both; jls-grok leaves the second a string.
    expression = "%{INT:n:int}(?: %{INT:n:int})?"
    assert grok(expression, engine).fields("4 5") == [("n", 4), ("n", "5")]


def test_the_model_and_joni_are_compared_for_real():
    engine = require_engine()
    wrong = Grok(r"(?<w>\w+)", PATTERNS, engine=engine)
    wrong.regex = regex.compile(r"(?P<g0>\w+)", regex.V0)  # Unicode \w, as the old model had it
    with pytest.raises(EngineDisagreement, match="caf"):
        wrong.fields("café")


def pipeline_from(tmp_path: Path, config: str, engine) -> Pipeline:
    path = tmp_path / "test.conf"
    path.write_text(config)
    return Pipeline(PATTERNS, {}, path=path, engine=engine)


def test_empty_captures_set_nothing_and_overwrite_writes_nothing(tmp_path, engine):
    pipeline = pipeline_from(
        tmp_path,
        """filter { grok { match => { "message" => '^(?<prefix>x?)%{DATA:message}$' } overwrite => ["message"] } }""",
        engine,
    )
    # The old model set message to "": grok drops the empty capture, so the raw line stays (issue 6, item 4).
    event = pipeline.filter(_event("x"))
    assert event == {"message": "x", "prefix": "x"}

    event = pipeline.filter(_event("keep"))
    assert event == {"message": "keep"}


def test_a_key_repeated_three_times_gives_one_flat_array(tmp_path, engine):
    pipeline = pipeline_from(
        tmp_path,
        """filter { kv { source => "message" target => "kv" field_split => " " value_split => "="
        whitespace => "strict" include_brackets => false } }""",
        engine,
    )
    # The old model nested it as [["1", "2"], "3"].
    assert pipeline.filter(_event("a=1 a=2 a=3 b=x"))["kv"] == {"a": ["1", "2", "3"], "b": "x"}


def _event(message: str):
    from stack_models.logstash_events import Event

    return Event({"message": message})


def test_a_capture_into_an_existing_field_without_overwrite_makes_an_array(tmp_path, engine):
    pipeline = pipeline_from(tmp_path, """filter { grok { match => { "message" => '^%{WORD:message}' } } }""", engine)
    assert pipeline.filter(_event("hello world"))["message"] == ["hello world", "hello"]


def test_the_multiline_codec_flushes_after_max_lines_as_the_codec_does(tmp_path, engine):
    pipeline = pipeline_from(
        tmp_path,
        """input { file { path => ["/logs/app.log"] codec => multiline { pattern => "^\\t" what => "previous" max_lines => 3 } } }""",
        engine,
    )
    text = "head\n" + "\tcontinued\n" * 4 + "\n" + "next\n"
    events = pipeline.read(Path("/logs/app.log"), text)
    # do_previous flushes before buffering once the buffer holds more than max_lines; "" lines are dropped.
    assert [e["message"].count("\n") + 1 for e in events] == [4, 1, 1]
    assert events[0]["tags"] == ["multiline", "multiline_codec_max_lines_reached"]
    assert events[1]["message"] == "\tcontinued" and events[2]["message"] == "next"


# ---- dates on Joda ------------------------------------------------------------------------------
def _accepted_zones() -> list[str]:
    return sorted(name for name in zoneinfo.available_timezones() if time_zone_problem(name) is None)


def test_every_time_zone_the_project_accepts_is_accepted_by_joda():
    engine = require_engine()
    accepted = _accepted_zones()

    assert "UTC" in accepted and "Europe/Paris" in accepted
    refused_by_joda = [name for name in accepted if not engine.joda_accepts_zone(name)]
    assert refused_by_joda == []


@pytest.mark.parametrize("name", ["posix/Europe/Paris", "right/UTC", "Factory", "localtime", "Europe/Kyiv", "Nowhere/City", "../etc/passwd"])
def test_zones_joda_cannot_build_are_refused_with_a_reason(name):
    problem = time_zone_problem(name)
    assert problem and problem.startswith(f"TIME_ZONE={name!r} ")
    if missing_reason() is None and name != "Europe/Kyiv":  # Kyiv: only newer Joda data than Debian's knows it
        assert require_engine().joda_accepts_zone(name) is False


def _date_filters() -> dict[str, Plugin]:
    pipeline = Pipeline(PATTERNS, {"TIME_ZONE": "UTC", "LOGSTASH_WRITER_PASSWORD": "x"})
    return {item.get("id"): item for item in plugins(pipeline.config["filter"]) if item.name == "date"}


def test_the_pipelines_date_patterns_are_the_ones_checked_here():
    filters = _date_filters()
    assert filters["django_timestamp"].get("match")[1:] == [APP_PATTERN]
    assert filters["django_timestamp"].get("timezone") == "${TIME_ZONE:UTC}"
    assert filters["access_timestamp"].get("match")[1:] == ["dd/MMM/yyyy:HH:mm:ss Z"]
    assert filters["access_timestamp"].get("locale") == "en"


def _date_pipeline(tmp_path: Path, zone: str, engine) -> Pipeline:
    """The pipeline's own app date filter alone, in ``zone``."""
    date = _date_filters()["django_timestamp"]
    attributes = " ".join(f"{key} => {_lscl(value)}" for key, value in date.attributes if key != "timezone")
    return pipeline_from(tmp_path, f'filter {{ date {{ {attributes} timezone => "{zone}" }} }}', engine)


def _lscl(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_lscl(item) for item in value) + "]"
    return f'"{value}"'


def _parsed(pipeline: Pipeline, text: str):
    from stack_models.logstash_events import Event

    event = pipeline.filter(Event({"@metadata": {"timestamp": text}}))
    return None if "_dateparsefailure" in event.get("tags", []) else event["@timestamp"]


# Zones whose rules changed (2022-2025) after the tz data inside Debian's joda-time 2.10.14: there Joda
# and Python's tzdata give other offsets in 2026. Which data Logstash's own Joda carries decides in
# production; docs/troubleshooting.md tells users to prefer UTC. Any other disagreement fails.
TZDATA_NEWER_THAN_DEBIANS_JODA = {
    "Africa/Cairo", "Africa/Freetown", "America/Asuncion", "America/Bahia_Banderas", "America/Chihuahua",
    "America/Godthab", "America/Mazatlan", "America/Merida", "America/Mexico_City", "America/Monterrey",
    "America/Nuuk", "America/Ojinaga", "America/Scoresbysund", "Antarctica/Casey", "Antarctica/Vostok",
    "Asia/Almaty", "Asia/Amman", "Asia/Damascus", "Asia/Qostanay", "Asia/Tehran", "Egypt", "Iran",
    "Mexico/BajaSur", "Mexico/General", "Pacific/Fiji",
}


def test_app_timestamps_parse_alike_in_every_accepted_zone(tmp_path):
    engine = require_engine()
    disagree = set()
    for zone in _accepted_zones():
        for text in ("2026-01-15 13:02:38,102", "2026-07-14 13:02:38,102"):
            try:
                parsed = _parsed(_date_pipeline(tmp_path, zone, engine), text)
            except EngineDisagreement:
                disagree.add(zone)
                continue
            local = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=zoneinfo.ZoneInfo(zone))
            assert parsed == local.astimezone(dt.timezone.utc), zone
    assert disagree == TZDATA_NEWER_THAN_DEBIANS_JODA & set(_accepted_zones())


def test_a_repeated_dst_hour_takes_the_earlier_offset_and_a_skipped_one_fails(tmp_path, engine):
    paris = _date_pipeline(tmp_path, "Europe/Paris", engine)
    # 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; Joda takes CEST (+02:00).
    assert _parsed(paris, "2026-10-25 02:30:00,000") == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.timezone.utc)
    assert _parsed(paris, "2026-10-25 03:30:00,000") == dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.timezone.utc)
    # 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 never happens, and Joda refuses it.
    assert _parsed(paris, "2026-03-29 02:30:00,000") is None
    assert _parsed(paris, "2026-03-29 03:00:00,000") == dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.timezone.utc)


def test_sss_takes_one_to_three_fraction_digits_as_joda_does(tmp_path, engine):
    utc = _date_pipeline(tmp_path, "UTC", engine)
    assert _parsed(utc, "2026-11-26 12:00:00,12") == dt.datetime(2026, 11, 26, 12, 0, 0, 120000, tzinfo=dt.timezone.utc)
    assert _parsed(utc, "2026-11-26 12:00:00,1239") is None  # strptime's %f would take it


# ---- TIME_ZONE refused where it is set -----------------------------------------------------------
def test_the_app_refuses_a_zone_joda_cannot_build_naming_the_variable(tmp_path):
    script = "import django; django.setup()"
    env = app_environment(tmp_path, TIME_ZONE="posix/Europe/Paris")
    result = subprocess.run([sys.executable, "-c", script], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "ImproperlyConfigured: TIME_ZONE='posix/Europe/Paris' is a copy under posix/" in result.stderr


def test_make_env_refuses_a_zone_joda_cannot_build(tmp_path):
    shutil.copyfile(ENV_EXAMPLE, tmp_path / ".env.example")
    command = [sys.executable, str(SCRIPTS_DIR / "create_env.py"), "--env-file", str(tmp_path / ".env"), "--example", str(tmp_path / ".env.example")]
    assert subprocess.run(command, capture_output=True, text=True, timeout=30).returncode == 0
    env_text = (tmp_path / ".env").read_text()
    (tmp_path / ".env").write_text(env_text.replace("\nTIME_ZONE=UTC\n", "\nTIME_ZONE=right/Europe/Paris\n"))

    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "TIME_ZONE='right/Europe/Paris' is a copy under right/, which Logstash's date filter (Joda-Time) refuses: use 'Europe/Paris'." in result.stderr


# ---- the engine itself ----------------------------------------------------------------------------
def test_a_dead_jruby_is_a_clear_error_not_a_hang():
    require_engine()
    engine = Engine()
    engine._process.kill()
    engine._process.wait()
    with pytest.raises(EngineError, match="not running"):
        engine.grok("a", "a")


def test_a_pattern_joni_refuses_is_reported_with_its_error():
    with pytest.raises(EngineError, match="RegexpError"):
        require_engine().grok("(", "")


def test_without_jruby_ci_fails_and_elsewhere_the_reason_is_one_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    reason = missing_reason()
    assert reason and "\n" not in reason and "jruby" in reason
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must check on the real engines"):
        engine_for_tests()
    monkeypatch.setenv("CI", "false")
    assert engine_for_tests() is None


# ---- Regexp.new without options: a condition's =~ and mutate's gsub ------------------------------
PLAIN_TEXTS = ["a\r\nb\r", "a\r\rb", "x]\nmore", "x]", "x]\n", "\r", "", "x\r\n\r\n"]


@pytest.mark.parametrize("pattern", [r"\r$", r"x\]$", r"x\]\z", r"x\]\Z", r"^b", r"a.b", r"\A\r"])
def test_plain_regexps_match_and_replace_as_joni_does(pattern):
    engine = require_engine()
    compiled = plain_ruby_regex(pattern)
    for text in PLAIN_TEXTS:
        # check_* raise EngineDisagreement on any difference from Joni.
        engine.check_regex_match(pattern, text, compiled.search(text) is not None, lambda real, t=text: EngineDisagreement(f"{t!r}: {real}"))
        model = compiled.sub("", text)
        engine.check_gsub(pattern, "", text, model, lambda real, t=text, m=model: EngineDisagreement(f"{t!r}: {m!r} != {real!r}"))


def test_a_disagreement_on_a_plain_regexp_is_raised():
    engine = require_engine()
    with pytest.raises(EngineDisagreement):
        engine.check_gsub(r"\r$", "", "a\r\nb\r", "a\r\nb", lambda real: EngineDisagreement(repr(real)))
