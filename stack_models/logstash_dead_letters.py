"""The dead letter queue: which events the elasticsearch output writes to it, and the events the
dead_letter_queue input makes of them.

- logstash-output-elasticsearch 12.1.6 lib/logstash/plugin_mixins/elasticsearch/common.rb (submit,
  handle_dlq_response): an item answered 400 or 404 (DLQ_CODES, plus dlq_custom_codes) is written to the
  queue with the reason "Could not index event to Elasticsearch. status: ..., action: ..., response: ...";
  a 409 is dropped, anything else retried.
- logstash-core: the queue of pipeline P is ``<path.dead_letter_queue>/P``, path.dead_letter_queue defaulting
  to ``<path.data>/dead_letter_queue`` (lib/logstash/environment.rb); an entry keeps the whole event, its
  @metadata too (src/main/java/org/logstash/Event.java, serialize).
- logstash-input-dead_letter_queue 2.0.1 lib/logstash/inputs/dead_letter_queue.rb: reads ``path/pipeline_id``
  (register; clean_consumed needs commit_offsets), and gives each entry's event, cloned with its @metadata,
  ``[@metadata][dead_letter_queue]`` {plugin_type, plugin_id, reason, entry_time} (run).
"""

import copy
import datetime as dt
import posixpath

from .logstash_config_tree import Plugin
from .logstash_events import Event
from .logstash_options import require_options

DLQ_STATUSES = frozenset({400, 404})


def dead_letter_path(path_data: str, pipeline_id: str) -> str:
    """Where the pipeline ``pipeline_id`` writes its dead letters, path.dead_letter_queue left to its default."""
    return posixpath.join(path_data, "dead_letter_queue", pipeline_id)


def reads_from(plugin: Plugin) -> str:
    """The folder the dead_letter_queue input ``plugin`` reads; ConfigurationError cases raise ValueError."""
    require_options(plugin, {"path", "pipeline_id", "commit_offsets", "clean_consumed", "sincedb_path"})
    if plugin.get("path") is None:
        raise ValueError("dead_letter_queue: path is required")
    if plugin.get("clean_consumed", False) and not plugin.get("commit_offsets", True):
        raise ValueError("enabling clean_consumed requires commit_offsets to also be enabled")
    return posixpath.join(plugin.get("path"), plugin.get("pipeline_id", "main"))


def dead_letter_event(event: Event, status: int, response: dict, action: list, output_id: str) -> Event:
    """The event the dead_letter_queue input gives for ``event``, which the elasticsearch output ``output_id``
    sent as ``action`` and Elasticsearch answered ``status`` with the bulk item ``response``."""
    if status not in DLQ_STATUSES:
        raise ValueError(f"the elasticsearch output does not write a {status} to the dead letter queue")
    dead = Event(copy.deepcopy(event))
    reason = (f"Could not index event to Elasticsearch. status: {status}, action: {action}, "
              f"response: {response}")
    dead.set_field(("@metadata", "dead_letter_queue"), {
        "plugin_type": "elasticsearch", "plugin_id": output_id, "reason": reason,
        "entry_time": dt.datetime.now(dt.timezone.utc).isoformat(),
    })
    return dead
