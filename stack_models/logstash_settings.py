"""logstash/config/pipelines.yml as Logstash reads it, for the subset the file uses.

Logstash reads pipelines.yml as YAML, a list of hashes of settings (logstash-core
lib/logstash/config/source/multi_local.rb, read_pipelines_from_yaml; each hash needs
``pipeline.id``, and an id twice is refused: detect_duplicate_pipelines). Here each entry is
``- key: value`` lines with plain scalars: anything else is refused, not guessed.
"""

import re
from pathlib import Path

from .paths import LOGSTASH_DIR

PIPELINES_PATH = LOGSTASH_DIR / "config" / "pipelines.yml"
_LINE = re.compile(r"(?P<item>- |  )(?P<key>[a-z_.]+): (?P<value>\"[^\"\\]*\"|[^\s\"'#][^#]*?)\s*")


def _scalar(text: str):
    """A YAML 1.1 plain or double-quoted scalar of the kinds the file uses: string, integer, boolean."""
    if text.startswith('"'):
        return text[1:-1]
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    return {"true": True, "false": False}.get(text, text)


def read_pipelines(path: Path = PIPELINES_PATH) -> dict[str, dict]:
    """Each pipeline's settings by its id."""
    entries: list[dict] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None or (match["item"] == "  " and not entries):
            raise ValueError(f"{path}:{number}: not a `- key: value` or `  key: value` line of a pipeline")
        if match["item"] == "- ":
            entries.append({})
        if match["key"] in entries[-1]:
            raise ValueError(f"{path}:{number}: {match['key']} set twice")
        entries[-1][match["key"]] = _scalar(match["value"])
    pipelines: dict[str, dict] = {}
    for entry in entries:
        if "pipeline.id" not in entry or entry["pipeline.id"] in pipelines:
            raise ValueError(f"{path}: every pipeline needs a pipeline.id of its own: {entry}")
        pipelines[entry["pipeline.id"]] = entry
    return pipelines
