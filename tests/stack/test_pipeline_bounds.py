"""No line makes a grok or multiline expression of the pipeline backtrack without bound, on Joni.

A backtracking guard is a safety property, not a speed goal, so it is not a wall-clock limit on
one match. Each expression of logstash/pipeline/django.conf (every grok match and every multiline
codec pattern, found by walking the config, so a new one is covered) meets each hostile text at
n and 4n characters, on Joni itself (tests/support/joni_engine.rb, op grok_timed):
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

from stack_models.grok import PYGROK_PATTERNS_DIR, Grok
from stack_models.logstash_config import Plugin, plugins
from stack_models.logstash_pipeline import Pipeline
from tests.support.engines import require_engine

N = 10_000
GROWTH = 8.0
FLOOR_SECONDS = 0.25  # far under what a quadratic expression takes on 4N characters (seconds)
RUNS = 3
TIMEOUT_SECONDS = 5.0
OURS = "ERROR 2026-12-01 12:00:00,000 views [request_id=- record_id=00000000000000aa] "
TUTORIAL = "ERROR 2026-12-01 12:00:00,000 views "
ACCESS = '127.0.0.1 - - [01/Dec/2026:12:00:00 +0000] "GET /'
MIX = '[ ]"=  "[=] ]]"" ==[[ "'  # brackets, quotes, equal signs and spaces, unbalanced


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Each text at a size: a 10,000-character line in each format, pathological mixes behind every
# prefix an expression can get past, and tutorial messages of many lines with and without headers.
TEXTS = {
    "ours, long message": lambda n: OURS + _repeat("a", n),
    "ours, long context": lambda n: OURS[:-20] + _repeat(' user="x] y" a=b', n) + "] m",
    "ours, unclosed context": lambda n: OURS[:-20] + _repeat(MIX, n),
    "ours, long stack": lambda n: OURS + "m" + _repeat("\n\t  File x, line 1", n),
    "ours, stack then a foreign line": lambda n: OURS + "m" + _repeat("\n\tline", n) + "\nforeign",
    "tutorial, long line": lambda n: TUTORIAL + _repeat("a", n),
    "tutorial, many lines": lambda n: TUTORIAL + _repeat("line\n", n),
    "tutorial, many lines then a traceback": lambda n: TUTORIAL + _repeat("line\n", n) + "Traceback (most recent call last):\n  x",
    "tutorial, many headers": lambda n: TUTORIAL + _repeat("\nTraceback (most recent call last):", n),
    "tutorial, near-headers": lambda n: TUTORIAL + _repeat("\nTraceback (most recent call last)", n),
    "security message": lambda n: "User logged in: " + _repeat(MIX, n),
    "access, long agent": lambda n: ACCESS + ' HTTP/1.1" 200 1 "-" "' + _repeat(MIX, n) + '" 1 - x',
    "access, unclosed quotes": lambda n: ACCESS + _repeat(MIX, n),
    "mix alone": lambda n: _repeat(MIX, n),
    "mix behind a level": lambda n: "ERROR " + _repeat(MIX, n),
    "mix behind a record start": lambda n: TUTORIAL[:-6] + _repeat(MIX, n),
    "many cut markers": lambda n: _repeat("x...[record cut short by a failed write]", n),
}


def _expressions(pipeline: Pipeline) -> dict[str, Grok]:
    """Every grok and multiline expression of the pipeline, compiled as its plugin compiles it."""
    found: dict[str, Grok] = {}
    for plugin in pipeline.config["input"]:
        codec = plugin.get("codec") if isinstance(plugin, Plugin) else None
        if codec is not None:
            files = pipeline.patterns_dir_files(codec.get("patterns_dir", []), skip_directories=False)
            grok = pipeline.grok(codec.get("pattern"), named_captures_only=False, file_patterns=files)
            found[f"{plugin.get('id')} codec"] = grok

    for item in plugins(pipeline.config["filter"]):
        if item.name == "grok":
            files = pipeline.patterns_dir_files(item.get("patterns_dir", []))
            for source, expressions in item.get("match").items():
                for index, expression in enumerate(expressions if isinstance(expressions, list) else [expressions]):
                    found[f"{item.get('id')} {source} #{index}"] = pipeline.grok(expression, item.get("pattern_definitions", {}), file_patterns=files)
    return found


@pytest.fixture(scope="module")
def engine():
    return require_engine()


@pytest.fixture(scope="module")
def expressions(engine) -> dict[str, Grok]:
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, {"LOGSTASH_WRITER_PASSWORD": "x"}, engine=engine)
    return _expressions(pipeline)


def test_every_expression_of_the_pipeline_is_guarded(expressions):
    # The two multiline inputs, our record and the tutorial's, the tutorial's security messages, access lines.
    assert len(expressions) == 6, sorted(expressions)


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
