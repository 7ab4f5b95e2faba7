"""Parse cost on Logstash's own regex engine: the pipeline's expressions on 100,000 real lines, on Joni.

The lines are written by the app's own logging (bench/parse_corpus.py). Every expression of
logstash/pipeline/django.conf (the multiline codecs' patterns and the grok match arrays, found as
tests/stack/test_pipeline_bounds.py finds them) meets the lines the pipeline gives it:
- the codec's pattern every line of django_debug.log and security.log; its matches group the lines
  into events (negate => true, what => previous: logstash-codec-multiline lib/logstash/codecs/multiline.rb);
- django_record's first expression each event, its second only where the first failed (break_on_match,
  logstash-filter-grok lib/logstash/filters/grok.rb, match_against_groks); tutorial_security_event
  the message of an event without a context;
- gunicorn_access each line of access.log.
Each match is timed inside jruby (op grok_batch: the fastest of RUNS, no pipe or JSON in the time).
An event's cost is the sum of its matches. Then the worst event against the median, with the
hostile shapes of test_pipeline_bounds.py at the app's own message bound, and the logging tutorial's
unanchored expression (docs/log-lines.md; tests/app/test_escaping_property.py) on the same events.
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.hostile_lines import TEXTS
from bench.parse_corpus import CorpusWriter
from bench.results import append_section
from stack_models.grok import PYGROK_PATTERNS_DIR, Grok, load_patterns
from stack_models.joni import Engine, missing_reason, shared_engine
from stack_models.logstash_pipeline import Pipeline

LINES = 100_000
RUNS = 3
BATCH = 5_000
BATCH_TIMEOUT_SECONDS = 60.0
# The app cuts a message at MAX_MESSAGE_CHARS (django_elk_logging/log_lines.py): a hostile text that long.
HOSTILE_CHARS = 8_192
GOAL_RATIO = 10.0
SEED_EXPRESSION = "%{LOGLEVEL:loglevel} %{TIMESTAMP_ISO8601:timestamp} %{GREEDYDATA:message}"
CODEC, SECURITY_CODEC = "django_app_log codec", "django_security_log codec"
FIRST, SECOND =  "django_record message #0", "django_record message #1"
SECURITY, ACCESS = "tutorial_security_event message #0", "gunicorn_access message #0"
MESSAGE_FIELD = "[@metadata][message]"


@dataclass
class Event:
    dataset: str
    text: str
    lines: int
    nanos: int = 0


def group_events(lines: list[str], starts: list[bool]) -> list[tuple[str, int]]:
    """The codec's events as (text, line count): a line that matches starts one, any other joins the one before."""
    events: list[list[str]] = []
    for line, start in zip(lines, starts, strict=True):
        if start or not events:
            events.append([line])
        else:
            events[-1].append(line)
    return [("\n".join(event), len(event)) for event in events]


class Timer:
    """Times expressions on Joni, many texts a request; counts every match it times."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.totals: dict[str, list[int]] = {}

    def time(self, name: str, grok: Grok, texts: list[str], counted: bool = True) -> list[tuple[bool, int]]:
        results: list[tuple[bool, int]] = []
        for start in range(0, len(texts), BATCH):
            chunk = self.engine.grok_batch(grok.expanded, texts[start : start + BATCH], RUNS, BATCH_TIMEOUT_SECONDS)
            if chunk is None:
                raise RuntimeError(f"{name}: a batch of {BATCH} texts ran past {BATCH_TIMEOUT_SECONDS:g} s on Joni")
            results += chunk
        if counted:
            self.totals.setdefault(name, []).extend(nanos for _, nanos in results)
        return results


def cost_app_events(timer: Timer, groks: dict[str, Grok], codec_name: str, dataset: str, lines: list[str]) -> list[Event]:
    """The input's codec on every line, then django_record (and tutorial_security_event) on every event."""
    codec = timer.time(codec_name, groks[codec_name], lines)
    events = [Event(dataset, text, count) for text, count in group_events(lines, [matched for matched, _ in codec])]
    position = 0
    for event in events:
        event.nanos = sum(nanos for _, nanos in codec[position : position + event.lines])
        position += event.lines
    cost_records(timer, groks, events)
    return events


def cost_records(timer: Timer, groks: dict[str, Grok], events: list[Event]) -> None:
    first = timer.time(FIRST, groks[FIRST], [event.text for event in events])
    failed = [event for event, (matched, _) in zip(events, first, strict=True) if not matched]
    for event, (_, nanos) in zip(events, first, strict=True):
        event.nanos += nanos
    second = timer.time(SECOND, groks[SECOND], [event.text for event in failed])
    tutorial = []
    for event, (matched, nanos) in zip(failed, second, strict=True):
        event.nanos += nanos
        if matched:  # no context: the security grok reads the captured message (the model's capture)
            tutorial.append((event, groks[SECOND].match(event.text).get(MESSAGE_FIELD, "")))
    security = timer.time(SECURITY, groks[SECURITY], [message for _, message in tutorial])
    for (event, _), (_, nanos) in zip(tutorial, security, strict=True):
        event.nanos += nanos


def cost_access(timer: Timer, grok: Grok, lines: list[str]) -> list[Event]:
    return [Event("access", line, 1, nanos) for line, (_, nanos) in zip(lines, timer.time(ACCESS, grok, lines), strict=True)]


def shape(event: Event) -> str:
    return f"{event.dataset}, {len(event.text)} chars, {event.lines} line(s), starts {event.text[:48]!r}"


def per_char_median(events: list[Event]) -> float:
    return statistics.median(event.nanos / len(event.text) for event in events if event.text)


def ratio_lines(label: str, events: list[Event], median: float, per_char: float) -> list[str]:
    """The worst event against ``median`` (ns an event) and against ``per_char`` (ns a character)."""
    worst = max(events, key=lambda event: event.nanos)
    worst_char = max((event for event in events if event.text), key=lambda event: event.nanos / len(event.text))
    ratio, char_ratio = worst.nanos / median, worst_char.nanos / len(worst_char.text) / per_char
    return [
        f"- {label}: worst {worst.nanos / 1e3:.1f} us = {ratio:.1f}x the median"
        f" ({'within' if ratio <= GOAL_RATIO else 'OVER'} {GOAL_RATIO:g}x): {shape(worst)}",
        f"- {label}, per character: worst {char_ratio:.1f}x the median"
        f" ({'within' if char_ratio <= GOAL_RATIO else 'OVER'} {GOAL_RATIO:g}x): {shape(worst_char)}",
    ]


def hostile_events(timer: Timer, groks: dict[str, Grok]) -> list[Event]:
    """Each hostile shape at HOSTILE_CHARS, once as an app event and once as an access line."""
    texts = {name: make(HOSTILE_CHARS) for name, make in sorted(TEXTS.items())}
    events = []
    for name, text in texts.items():
        lines = text.split("\n")
        event = Event(f"hostile app event '{name}'", text, len(lines), sum(nanos for _, nanos in timer.time(CODEC, groks[CODEC], lines, counted=False)))
        events.append(event)
    cost_records(Timer(timer.engine), groks, events)
    access = timer.time(ACCESS, groks[ACCESS], list(texts.values()), counted=False)
    events += [Event(f"hostile access line '{name}'", text, 1, nanos) for (name, text), (_, nanos) in zip(texts.items(), access, strict=True)]
    return events


def main() -> None:
    reason = missing_reason()
    if reason:
        raise SystemExit(f"parse_cost needs Joni: {reason}")
    engine = shared_engine()
    pipeline = Pipeline.from_patterns_dir(PYGROK_PATTERNS_DIR, {"LOGSTASH_WRITER_PASSWORD": "x"}, engine=engine)
    groks = pipeline.expressions()
    seed = Grok(SEED_EXPRESSION, load_patterns(PYGROK_PATTERNS_DIR))
    with tempfile.TemporaryDirectory() as directory:
        files = CorpusWriter(Path(directory), seed=10).write(LINES)
        logs = {name: path.read_text(encoding="utf-8").splitlines() for name, path in files.items()}
    timer = Timer(engine)
    for name, grok in groks.items():  # warm the JIT on every expression first: not counted
        timer.time(name, grok, logs["django_debug.log"][:BATCH] + logs["access.log"][:BATCH], counted=False)
    events = cost_app_events(timer, groks, CODEC, "app", logs["django_debug.log"])
    events += cost_app_events(timer, groks, SECURITY_CODEC, "security", logs["security.log"])
    events += cost_access(timer, groks[ACCESS], logs["access.log"])
    lines = sum(len(texts) for texts in logs.values())
    nanos = sum(sum(values) for values in timer.totals.values())
    median = statistics.median(event.nanos for event in events)
    app_events = [event for event in events if event.dataset != "access"]
    seed_costs = timer.time("seed", seed, [event.text for event in app_events], counted=False)
    ours = sum(event.nanos for event in app_events)
    seed_total = sum(nanos for _, nanos in seed_costs)
    seed_events = [Event(event.dataset, event.text, event.lines, nanos) for event, (_, nanos) in zip(app_events, seed_costs, strict=True)]
    hostile = hostile_events(timer, groks)
    malformed = sum(1 for event in events if "record cut short" in event.text)
    report = [
        f"{lines} lines written by the app's logging ({', '.join(f'{name}: {len(texts)}' for name, texts in logs.items())}),"
        f" {len(events)} events ({malformed} closed by the cut marker); each match the fastest of {RUNS} on Joni, timed in jruby",
        f"- pipeline expressions: {lines / nanos * 1e9:,.0f} lines/s on one core ({nanos / lines:,.0f} ns a line)",
    ]
    for name, values in timer.totals.items():
        report.append(f"  - {name}: {len(values)} matches, median {statistics.median(values):,.0f} ns, total {sum(values) / 1e6:,.1f} ms")
    report.append(f"- event cost: median {median / 1e3:.2f} us, p99 {statistics.quantiles([e.nanos for e in events], n=100)[98] / 1e3:.2f} us")
    real_per_char = per_char_median(events)
    report += ratio_lines("real events", events, median, real_per_char)
    report += ratio_lines(f"hostile shapes of test_pipeline_bounds.py at {HOSTILE_CHARS} chars, against the real median", hostile, median, real_per_char)
    report.append(
        f"- seed tutorial expression `{SEED_EXPRESSION}` (unanchored) on the {len(app_events)} app and security events:"
        f" {seed_total / 1e6:,.1f} ms against the pipeline's {ours / 1e6:,.1f} ms (codec + record groks); ratio ours/seed {ours / seed_total:.2f}"
    )
    report += ratio_lines("seed expression, real events", seed_events, statistics.median(e.nanos for e in seed_events), per_char_median(seed_events))
    print("\n".join(report))
    append_section("Parse cost on Joni (pipeline expressions, real lines)", report, tools=(("jruby", "--version"),))


if __name__ == "__main__":
    main()
