"""Which engine the check runs on: Logstash's own (Joni and Joda, under jruby) when it can, else the model."""

from __future__ import annotations

from dataclasses import dataclass

from check_logs.errors import CannotRun
from stack_models.joni import Engine, EngineError, missing_reason
from stack_models.joni_batches import BatchedChecks

ENGINES = ("auto", "joni", "model")
# jruby's heap, bounded whatever the machine (the JVM's default is a quarter of its memory): a batch of
# checks (stack_models/joni_batches.py) and the compiled expressions need far less.
JVM_OPTIONS = ("-Xmx384m",)
# What runs where when jruby is here: the model computes every event, and Logstash's engines check each
# of these steps (stack_models/grok.py, logstash_filters.py, logstash_lines.py raise on a disagreement).
ON_ENGINE = ("multiline and grok matches (Joni)", "mutate's gsub and the conditions' regexps (Joni)", "dates (Joda-Time)",
             "UTF-8 conversion of a line that is not UTF-8 (JRuby)")
ON_MODEL = ("reading the files", "multiline grouping", "kv", "the rest of mutate", "the rest of the conditionals", "uuid",
            "fingerprint", "output")


@dataclass
class EngineChoice:
    name: str  # "joni" or "model"
    summary: str  # one line for the report
    checks: BatchedChecks | None = None
    jruby_version: str | None = None
    reason: str | None = None  # why the model runs alone

    def close(self) -> None:
        if self.checks is not None:
            self.checks.close()


def choose(requested: str) -> EngineChoice:
    """``auto``: Joni when jruby is installed, else the model; ``joni``: Joni or CannotRun; ``model``: no jruby."""
    if requested == "model":
        why = "--engine model asked for it (jruby was not started)"
        return EngineChoice("model", f"the Python model alone (stack_models/), because {why}", reason=why)
    missing = missing_reason()
    if missing is not None:
        if requested == "joni":
            raise CannotRun(f"--engine joni needs Logstash's engines: {missing}")
        return EngineChoice("model", f"the Python model alone (stack_models/), because {missing}", reason=missing)
    try:
        engine = Engine(JVM_OPTIONS)
    except EngineError as error:
        raise CannotRun(f"jruby is installed but Logstash's engines did not start ({error}); "
                        "run with --engine model to check on the model alone") from None
    summary = (f"Joni and Joda-Time under jruby {engine.jruby_version}: {', '.join(ON_ENGINE)} ran on them and agreed "
               f"with the model; on the model alone: {', '.join(ON_MODEL)}")
    return EngineChoice("joni", summary, BatchedChecks(engine), engine.jruby_version)
