"""The lines the app writes during a drill, made into the documents Logstash would index.

Offline there is no Logstash: the pipeline's model (stack_models/logstash_pipeline.py) reads the new
lines of each file a file input of logstash/pipeline/django.conf reads, as that input would.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

from drill.settings import DrillError
from stack_models.logstash_events import Document
from stack_models.logstash_pipeline import Pipeline

# How long the files must stay unchanged before a drill reads them: gunicorn writes the access line
# just after the response, and a record is whole once written (django_elk_logging's handler).
QUIET_SECONDS = 0.5
SETTLE_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class _Mark:
    inode: int
    size: int


class AppLogs:
    """Where each log file the pipeline reads ends, so a drill reads only the lines it caused."""

    def __init__(self, log_dir: Path, time_zone: str, engine=None):
        if not log_dir.is_dir():
            raise DrillError(f"{log_dir} is not a folder: start the app with make run-app, which writes its logs there.")
        self.log_dir = log_dir
        self.pipeline = Pipeline.offline(time_zone, engine)
        # Marked once quiet, so no line being written now is cut in two, nor a late one counted as the drill's.
        self._marks = self.settle()

    @property
    def file_names(self) -> list[str]:
        """The live names of the files the pipeline's file inputs read (their rotated copies aside)."""
        return list(dict.fromkeys(name for name in self.pipeline.read_names() if "*" not in name))

    def _read_by_pipeline(self, path: Path) -> bool:
        try:
            self.pipeline.file_input(path.name)
        except LookupError:
            return False
        return True

    def _current(self) -> dict[Path, _Mark]:
        marks = {}
        for path in sorted(self.log_dir.iterdir()):
            if path.is_file() and self._read_by_pipeline(path):
                status = path.stat()
                marks[path] = _Mark(status.st_ino, status.st_size)
        return marks

    def settle(self) -> dict[Path, _Mark]:
        """Where each file ends once none has grown for QUIET_SECONDS (bounded by SETTLE_TIMEOUT_SECONDS)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        last, quiet_since = self._current(), time.monotonic()
        while time.monotonic() - quiet_since < QUIET_SECONDS:
            if time.monotonic() > deadline:
                raise DrillError(f"the app's logs in {self.log_dir} kept growing for {SETTLE_TIMEOUT_SECONDS:g} s: "
                                 "stop other traffic to the app and run the drill again.")
            time.sleep(0.1)
            now = self._current()
            if now != last:
                last, quiet_since = now, time.monotonic()
        return last

    def new_documents(self) -> list[Document]:
        """The documents the lines written since this object was made would index, as Elasticsearch keeps
        them: the output creates each under its document_id, so Elasticsearch rejects a second one with
        the same index and id (a version conflict) and a record read twice counts once. Read once the files
        are quiet."""
        kept: dict[tuple[str, str], Document] = {}
        for path, mark in self.settle().items():
            start = self._marks.get(path)
            offset = 0 if start is None else start.size
            if start is not None and (mark.inode != start.inode or mark.size < start.size):
                raise DrillError(f"{path} was rotated or truncated during the drill: run it again.")
            with path.open("rb") as log:
                log.seek(offset)
                data = log.read(mark.size - offset)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DrillError(f"{path} holds bytes that are not UTF-8 at offset {offset + error.start}.") from None
            for event in self.pipeline.read(path, text):
                self.pipeline.filter(event)
                document = self.pipeline.output(event)
                if document.action != "create":
                    raise DrillError(f"the pipeline's output action is {document.action!r}; the drill models 'create'.")
                document.source = _as_json(document.source)
                kept.setdefault((document.index, document.document_id), document)
        return list(kept.values())


def _as_json(source: dict) -> dict:
    """The document as Elasticsearch returns its _source: JSON, @timestamp as ISO 8601 UTC with millis."""

    def encode(value):
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        raise TypeError(f"{type(value).__name__} is not JSON")

    return json.loads(json.dumps(source, default=encode))
