"""logstash/config/pipelines.yml as Logstash reads it, for the subset the file uses.

Logstash reads pipelines.yml as YAML, a list of hashes of settings (logstash-core
lib/logstash/config/source/multi_local.rb, read_pipelines_from_yaml; each hash needs
``pipeline.id``, and an id twice is refused: detect_duplicate_pipelines; settings.rb refuses a key that
is not a pipeline setting). Here each entry is
``- key: value`` lines with plain scalars: anything else is refused, not guessed.
"""

import re
from pathlib import Path

from .paths import LOGSTASH_DIR

PIPELINES_PATH = LOGSTASH_DIR / "config" / "pipelines.yml"
# logstash-core lib/logstash/settings.rb, PIPELINE_SETTINGS_WHITE_LIST: any other key in pipelines.yml
# stops Logstash ("Only pipeline related settings are expected").
PIPELINE_SETTINGS = frozenset({
    "config.debug", "config.support_escapes", "config.string", "dead_letter_queue.enable",
    "dead_letter_queue.flush_interval", "dead_letter_queue.flush_check_interval", "dead_letter_queue.max_bytes",
    "dead_letter_queue.storage_policy", "dead_letter_queue.retain.age", "metric.collect",
    "pipeline.plugin_classloaders", "path.config", "path.dead_letter_queue", "path.queue", "pipeline.batch.delay",
    "pipeline.batch.output_chunking.growth_threshold_factor", "pipeline.batch.metrics.sampling_mode",
    "pipeline.batch.size", "pipeline.id", "pipeline.reloadable", "pipeline.recoverable", "pipeline.system",
    "pipeline.workers", "pipeline.ordered", "pipeline.ecs_compatibility", "queue.checkpoint.acks",
    "queue.checkpoint.interval", "queue.checkpoint.writes", "queue.checkpoint.retry", "queue.compression",
    "queue.drain", "queue.max_bytes", "queue.max_events", "queue.page_capacity", "queue.type",
})
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
        if match["key"] not in PIPELINE_SETTINGS:
            raise ValueError(f"{path}:{number}: {match['key']} is not a pipeline setting")
        if match["key"] in entries[-1]:
            raise ValueError(f"{path}:{number}: {match['key']} set twice")
        entries[-1][match["key"]] = _scalar(match["value"])
    pipelines: dict[str, dict] = {}
    for entry in entries:
        if "pipeline.id" not in entry or entry["pipeline.id"] in pipelines:
            raise ValueError(f"{path}: every pipeline needs a pipeline.id of its own: {entry}")
        pipelines[entry["pipeline.id"]] = entry
    return pipelines
