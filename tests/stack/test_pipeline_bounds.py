"""No line makes a grok or multiline expression of the pipeline backtrack without bound, on Joni.

A backtracking guard is a safety property, not a speed goal, so it is not a wall-clock limit on
one match. Each expression of logstash/pipeline/django.conf (every grok match and every multiline
codec pattern, found by walking the config, so a new one is covered) meets each hostile text at
n and 4n characters, on Joni itself (stack_models/joni_engine.rb, op grok_timed):
- Joni measures the match in-process (no pipe or JSON in the time), and the best of a few runs
  is kept, which takes out most of the noise of a busy machine;
- growth: matching 4n characters may take at most GROWTH times as long as n (linear growth gives
  4, quadratic 16, exponential never finishes), unless both are under FLOOR_SECONDS, where the
  ratio is noise and the match is harmless anyway;
- a generous per-match timeout stops a runaway match (JRuby's regexp search is interruptible),
  so an exponential expression fails the test instead of hanging it.
Logstash's own guard is grok's timeout_millis (30 s a pattern; logstash-filter-grok
lib/logstash/filters/grok.rb), which tags _groktimeout: it limits the damage, this keeps it from
happening. Every text also goes through the model and Joni's differential (Grok.captures).
"""

import pytest

from bench.hostile_lines import TEXTS
from stack_models.grok import PYGROK_PATTERNS_DIR, Grok
from stack_models.logstash_pipeline import Pipeline
from tests.support.engines import require_engine

N = 10_000
GROWTH = 8.0
FLOOR_SECONDS = 0.25  # far under what a quadratic expression takes on 4N characters (seconds)
RUNS = 3
TIMEOUT_SECONDS = 5.0


@pytest.fixture(scope="module")
def engine():
    return require_engine()


@pytest.fixture(scope="module")
def expressions(engine) -> dict[str, Grok]:
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, {"LOGSTASH_WRITER_PASSWORD": "x"}, engine=engine)
    return pipeline.expressions()


def test_every_expression_of_the_pipeline_is_guarded(expressions):
    # The two multiline inputs, our record and the tutorial's, the record tail check, the tutorial's security
    # messages, access lines, a trace's last exception.
    assert len(expressions) == 8, sorted(expressions)


def _best_time(engine, grok: Grok, text: str, differential: bool = True) -> float:
    model = grok.captures(text) if differential else None  # model and Joni agree on this text
    times = []
    for _ in range(RUNS):
        captures, seconds = engine.grok_timed(grok.expanded, text, TIMEOUT_SECONDS)
        assert seconds is not None, f"Joni ran past {TIMEOUT_SECONDS} s on {len(text)} characters"
        assert captures == model or not differential
        times.append(seconds)
    return min(times)


def grows_linearly(engine, grok: Grok, text_of, n: int = N, differential: bool = True) -> tuple[bool, float, float]:
    small = _best_time(engine, grok, text_of(n), differential)
    large = _best_time(engine, grok, text_of(4 * n), differential)
    return large <= max(FLOOR_SECONDS, GROWTH * small), small, large


@pytest.mark.parametrize("shape", sorted(TEXTS))
def test_matching_or_failing_grows_linearly_with_the_text(engine, expressions, shape):
    for name, grok in expressions.items():
        linear, small, large = grows_linearly(engine, grok, TEXTS[shape])
        assert linear, (name, shape, small, large)


def test_the_guard_catches_quadratic_and_exponential_expressions(engine):
    # Kinds the patterns avoid, measured the same way: a greedy run that must give back every
    # character at every start, and an ambiguous repetition.
    quadratic = Grok(r"(?<x>\s*)[^ ]\Z", {})
    linear, small, large = grows_linearly(engine, quadratic, lambda n: " " * n, n=2_000, differential=False)
    assert not linear, (small, large)
    nested = Grok(r"\A(?<x>(?:a|aa)+)b\z", {})
    with pytest.raises(AssertionError, match="ran past"):
        _best_time(engine, nested, "a" * 40, differential=False)
