"""Check a log folder: every file a file input reads, through the pipeline's model, one event at a time.

Each file is read in chunks (stack_models/logstash_lines.py), grouped by its input's codec and filtered
as logstash/pipeline/django.conf says (stack_models/logstash_pipeline.py); each event is tallied and
dropped, so memory stays bounded whatever the folder's size.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path

from check_logs.diagnosis import Diagnosis, date_reason, grok_reason, source_texts
from check_logs.engines import EngineChoice
from check_logs.findings import facts
from check_logs.folder import LogFile, Survey, survey
from check_logs.tally import FileTally, Tally
from stack_models.logstash_config_tree import plugins
from stack_models.logstash_lines import FileLines
from stack_models.logstash_pipeline import Pipeline

# Failed events whose closest expression is looked for, per file: beyond, they are counted only (a file in a
# format the pipeline does not know fails on every line, and the search costs a dozen matches an event).
DIAGNOSED_PER_FILE = 1000


@dataclass
class Checked:
    folder: Path
    time_zone: str
    time_zone_source: str
    engine: EngineChoice
    survey: Survey
    tally: Tally
    seconds: float
    peak_rss_bytes: int

    @property
    def exit_code(self) -> int:
        return 1 if any(file.broken for file in self.tally.files) else 0


def check_folder(folder: Path, time_zone: str, time_zone_source: str, engine: EngineChoice,
                 max_examples: int) -> Checked:
    started = time.monotonic()
    pipeline = Pipeline.offline(time_zone, engine.checks)
    found = survey(folder, pipeline)
    tally = Tally(max_examples)
    reader = _FileChecker(pipeline, tally)
    for log_file in found.files:
        reader.check(log_file)
    if engine.checks is not None:
        engine.checks.finish()  # every check answered: a disagreement raises here at the latest
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux gives KiB
    return Checked(folder, time_zone, time_zone_source, engine, found, tally, time.monotonic() - started, peak)


class _FileChecker:
    def __init__(self, pipeline: Pipeline, tally: Tally):
        self.pipeline = pipeline
        self.tally = tally
        self.diagnosis = Diagnosis(pipeline)
        self.sources = self.diagnosis.sources()
        # A uuid filter runs where an event has no record id: its document id is then random.
        self.uuid_ids = {item.get("id") for item in plugins(pipeline.config["filter"]) if item.name == "uuid"}

    def check(self, log_file: LogFile) -> None:
        file = self.tally.add_file(log_file.path.name, log_file.input_id)
        lines = FileLines(log_file.path, lambda number, offset, _raw, text: self.tally.add_not_utf8(file, number, offset, text),
                          engine=self.pipeline.engine)
        try:
            for event, line in self.pipeline.stream(log_file.path, lines):
                self._event(file, event, line)
        except OSError as error:
            file.error = f"cannot be read: {error.strerror or error}"
        file.bytes, file.lines, file.pending_bytes, file.too_long_line = (
            lines.bytes_read, lines.lines, lines.pending_bytes, lines.too_long_at)

    def _event(self, file: FileTally, event, line: int) -> None:
        texts = source_texts(event, self.sources)
        ran: list[str] = []
        self.pipeline.filter(event, ran.append)
        document = self.pipeline.output(event, copy=False)
        found = facts(event, document, not self.uuid_ids.isdisjoint(ran))
        reason = None
        if found.failure_tags and file.diagnosed < DIAGNOSED_PER_FILE:
            file.diagnosed += 1
            reason = self._reason(event, ran, texts)
        self.tally.add_event(file, line, texts.get("message", event.get("message")), found, document.source,
                             (lambda: reason) if reason is not None else None)

    def _reason(self, event, ran: list[str], texts: dict) -> dict | None:
        closest = self.diagnosis.closest(event.get("tags", []), ran, texts)
        if closest is not None:
            self.tally.closest[(closest.plugin_id, closest.index, closest.failed_part)] += 1
            return grok_reason(closest, str(texts.get(closest.source) or ""))
        return date_reason(self.pipeline, event, ran)
