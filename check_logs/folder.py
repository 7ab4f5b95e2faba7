"""Which files of a log folder the pipeline's file inputs read, and why each other entry is not read.

A file input reads the names its ``path`` patterns match in /var/log/django (the live name and the
rotated ``name.log.*`` and ``name.log-[0-9]*``), less those an ``exclude`` pattern drops (``*.gz``):
stack_models/logstash_inputs.py decides, from logstash/pipeline/django.conf. Only files directly in the folder are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from check_logs.errors import CannotRun
from stack_models.logstash_inputs import excluding_patterns, reading_inputs
from stack_models.logstash_pipeline import Pipeline


@dataclass(frozen=True)
class LogFile:
    path: Path
    input_id: str


@dataclass
class Survey:
    files: list[LogFile] = field(default_factory=list)
    not_read: list[dict] = field(default_factory=list)  # {"name", "reason"}


def survey(folder: Path, pipeline: Pipeline) -> Survey:
    """The files the pipeline reads in ``folder``, and every other entry with the reason it is not read."""
    if not folder.exists():
        raise CannotRun(f"{folder} does not exist")
    if not folder.is_dir():
        raise CannotRun(f"{folder} is not a folder")
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        raise CannotRun(f"{folder} cannot be read: {error.strerror}") from None
    inputs, names = pipeline.config["input"], ", ".join(pipeline.read_names())
    found = Survey()
    for entry in entries:
        if entry.is_dir():
            found.not_read.append({"name": entry.name, "reason": "a folder: the inputs read only the files directly in the log folder"})
            continue
        if not entry.is_file():
            found.not_read.append({"name": entry.name, "reason": "not a regular file"})
            continue
        readers = reading_inputs(inputs, entry.name, pipeline.engine)
        if len(readers) > 1:
            raise CannotRun(f"{len(readers)} file inputs of the pipeline read {entry.name}: the pipeline is wrong")
        if readers:
            found.files.append(LogFile(Path(entry.path), readers[0].get("id")))
            continue
        excluded = excluding_patterns(inputs, entry.name, pipeline.engine)
        reason = (f"excluded by the input's exclude {', '.join(excluded)}" if excluded
                  else f"no file input reads this name (they read {names})")
        found.not_read.append({"name": entry.name, "reason": reason})
    if not found.files:
        listed = "; not read: " + ", ".join(item["name"] for item in found.not_read[:5]) if found.not_read else ""
        more = ", ..." if len(found.not_read) > 5 else ""
        raise CannotRun(f"{folder} holds no file the pipeline reads (it reads {names}){listed}{more}")
    return found
